import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Docker from 'dockerode';
import { FactoryError, errorMessage } from '../util/errors';

/** Where the engine is, as derived from the environment (DOCKER_HOST and friends). */
export type EngineEndpoint =
  | { kind: 'unix'; socketPath: string }
  | { kind: 'tcp'; host: string; port: number; tls: boolean; certPath?: string }
  | { kind: 'ssh'; host: string; port: number; username?: string };

/** Environment variables `connectDocker` reads (a subset of process.env, injectable for tests). */
export interface DockerEnv {
  DOCKER_HOST?: string;
  DOCKER_TLS_VERIFY?: string;
  DOCKER_CERT_PATH?: string;
  SSH_AUTH_SOCK?: string;
  HOME?: string;
}

/** Socket paths tried, in order, when DOCKER_HOST is unset (system engine, then rootless/Desktop). */
export function defaultSocketCandidates(env: DockerEnv = process.env): string[] {
  const home = env.HOME ?? os.homedir();
  const uid = typeof process.getuid === 'function' ? process.getuid() : 0;
  return ['/var/run/docker.sock', path.join(home, '.docker', 'run', 'docker.sock'), `/run/user/${uid}/docker.sock`];
}

/**
 * Parse DOCKER_HOST (unix://, tcp://, ssh://; `host:port` means tcp) into an endpoint. With no
 * DOCKER_HOST the first existing local socket is used. Throws a FactoryError saying what is wrong.
 */
export function resolveEndpoint(env: DockerEnv = process.env, exists: (p: string) => boolean = fs.existsSync): EngineEndpoint {
  const raw = env.DOCKER_HOST?.trim();
  if (!raw) {
    const candidates = defaultSocketCandidates(env);
    const found = candidates.find((p) => exists(p));
    if (!found) {
      throw new FactoryError(
        `no Docker engine: DOCKER_HOST is not set and no socket exists at ${candidates.join(', ')} (start dockerd or set DOCKER_HOST)`,
        'docker-unavailable',
      );
    }
    return { kind: 'unix', socketPath: found };
  }
  if (raw.startsWith('unix://')) {
    const socketPath = raw.slice('unix://'.length);
    if (!socketPath) throw new FactoryError(`DOCKER_HOST=${raw}: missing socket path`, 'docker-host-invalid');
    return { kind: 'unix', socketPath };
  }
  const withScheme = raw.includes('://') ? raw : `tcp://${raw}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new FactoryError(`DOCKER_HOST=${raw} is not a valid address (expected unix:///path, tcp://host:port or ssh://user@host)`, 'docker-host-invalid');
  }
  if (url.protocol === 'ssh:') {
    return { kind: 'ssh', host: url.hostname, port: url.port ? Number(url.port) : 22, ...(url.username ? { username: decodeURIComponent(url.username) } : {}) };
  }
  if (url.protocol !== 'tcp:' && url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new FactoryError(`DOCKER_HOST=${raw}: unsupported scheme ${url.protocol} (use unix, tcp or ssh)`, 'docker-host-invalid');
  }
  const port = url.port ? Number(url.port) : env.DOCKER_TLS_VERIFY === '1' ? 2376 : 2375;
  const tls = env.DOCKER_TLS_VERIFY === '1' || url.protocol === 'https:' || port === 2376;
  const certPath = env.DOCKER_CERT_PATH || (tls ? path.join(env.HOME ?? os.homedir(), '.docker') : undefined);
  return { kind: 'tcp', host: url.hostname, port, tls, ...(certPath ? { certPath } : {}) };
}

/**
 * dockerode options for an endpoint. Every key docker-modem would otherwise take from process.env
 * is set explicitly, so an injected env is never mixed with the real one.
 */
export function dockerOptions(endpoint: EngineEndpoint, env: DockerEnv = process.env): Docker.DockerOptions {
  switch (endpoint.kind) {
    case 'unix':
      return { socketPath: endpoint.socketPath, host: undefined, port: undefined, protocol: undefined };
    case 'ssh':
      return {
        protocol: 'ssh',
        host: endpoint.host,
        port: endpoint.port,
        ...(endpoint.username ? { username: endpoint.username } : {}),
        sshOptions: env.SSH_AUTH_SOCK ? { agent: env.SSH_AUTH_SOCK } : {},
      };
    case 'tcp': {
      if (!endpoint.tls) return { protocol: 'http', host: endpoint.host, port: endpoint.port };
      const dir = endpoint.certPath ?? '';
      const read = (name: string) => {
        try {
          return fs.readFileSync(path.join(dir, name));
        } catch (err) {
          throw new FactoryError(`TLS is on for ${endpoint.host}:${endpoint.port} but ${path.join(dir, name)} cannot be read: ${errorMessage(err)} (set DOCKER_CERT_PATH)`, 'docker-tls');
        }
      };
      return { protocol: 'https', host: endpoint.host, port: endpoint.port, ca: read('ca.pem'), cert: read('cert.pem'), key: read('key.pem') };
    }
  }
}

/** A connected engine: the client plus where it is (for messages). */
export interface DockerConnection {
  docker: Docker;
  endpoint: EngineEndpoint;
  /** Human-readable address, e.g. `unix:///var/run/docker.sock` or `tcp+tls://127.0.0.1:2376`. */
  address: string;
  serverVersion: string;
}

export function describeEndpoint(e: EngineEndpoint): string {
  switch (e.kind) {
    case 'unix':
      return `unix://${e.socketPath}`;
    case 'tcp':
      return `${e.tls ? 'tcp+tls' : 'tcp'}://${e.host}:${e.port}`;
    case 'ssh':
      return `ssh://${e.username ? e.username + '@' : ''}${e.host}:${e.port}`;
  }
}

/**
 * Connect to the engine named by DOCKER_HOST (unix, tcp with optional TLS, ssh), or the local
 * socket otherwise, and ping it. Fails with one clear FactoryError when there is no engine or it
 * does not answer within `timeoutMs`.
 */
export async function connectDocker(opts: { env?: DockerEnv; timeoutMs?: number; signal?: AbortSignal } = {}): Promise<DockerConnection> {
  const env = opts.env ?? process.env;
  const endpoint = resolveEndpoint(env);
  const address = describeEndpoint(endpoint);
  const docker = new Docker({ ...dockerOptions(endpoint, env), timeout: opts.timeoutMs ?? 10_000 });
  try {
    if (opts.signal?.aborted) throw new FactoryError('interrupted', 'interrupted');
    const version = await docker.version();
    // The per-request timeout above is for the ping only; long calls (wait, attach) set none.
    (docker.modem as { timeout?: number }).timeout = undefined;
    return { docker, endpoint, address, serverVersion: version.Version ?? 'unknown' };
  } catch (err) {
    throw new FactoryError(`the Docker engine at ${address} does not answer: ${errorMessage(err)}`, 'docker-unavailable');
  }
}
