/**
 * `factory doctor` and "Factory: Check Execution Backend": the configured execution backend's
 * checks (or the other one's), without starting a run. The engine is connected first (DOCKER_HOST
 * and its TLS settings); a missing engine, or a backend that cannot even be opened, is reported as
 * a failed check with its fix rather than thrown, so the user always gets the list.
 */
import type { FactoryConfig } from '../config/schema';
import { connectDocker, type DockerEnv } from '../docker/connect';
import { errorMessage } from '../util/errors';
import type { BackendCheck, BackendKind } from './backend';
import { openBackend } from './select';

export interface BackendReport {
  backend: BackendKind;
  /** Where the engine is (`unix:///var/run/docker.sock`, `tcp+tls://…`), when it answered. */
  engine?: string;
  checks: BackendCheck[];
  ok: boolean;
}

export interface BackendCheckOptions {
  /** Check this backend instead of `config.engine.backend`. */
  backend?: BackendKind;
  /** The engine's environment (default: the process's DOCKER_HOST, DOCKER_TLS_VERIFY, DOCKER_CERT_PATH). */
  env?: DockerEnv;
  signal?: AbortSignal;
}

/** The config with `engine.backend` set to `kind` (the CLI's `--backend`, the editor's `factory.engine.backend`). */
export function withBackend(config: FactoryConfig, kind: BackendKind | undefined): FactoryConfig {
  return kind && kind !== config.engine.backend ? { ...config, engine: { ...config.engine, backend: kind } } : config;
}

function report(backend: BackendKind, checks: BackendCheck[], engine?: string): BackendReport {
  return { backend, ...(engine ? { engine } : {}), checks, ok: checks.length > 0 && checks.every((c) => c.ok) };
}

/** Open the backend the config (or `opts.backend`) names, run its checks, dispose it. */
export async function checkBackend(root: string, config: FactoryConfig, opts: BackendCheckOptions = {}): Promise<BackendReport> {
  const cfg = withBackend(config, opts.backend);
  const kind = cfg.engine.backend;
  const signal = opts.signal;
  let conn: Awaited<ReturnType<typeof connectDocker>>;
  try {
    conn = await connectDocker({ ...(opts.env ? { env: opts.env } : {}), ...(signal ? { signal } : {}) });
  } catch (err) {
    const fix = 'start dockerd, or set DOCKER_HOST (tcp://: also DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH)';
    return report(kind, [{ id: 'engine', ok: false, detail: errorMessage(err), fix }]);
  }
  let backend: Awaited<ReturnType<typeof openBackend>>;
  try {
    backend = await openBackend(cfg, { docker: conn.docker, root, runId: `doctor-${process.pid}-${Date.now().toString(36)}`, ...(signal ? { signal } : {}) });
  } catch (err) {
    return report(kind, await unopenedChecks(cfg, conn.docker, err), conn.address);
  }
  try {
    return report(kind, await backend.check(signal), conn.address);
  } catch (err) {
    return report(kind, [{ id: `${kind}.check`, ok: false, detail: errorMessage(err) }], conn.address);
  } finally {
    await backend.dispose().catch(() => undefined);
  }
}

/**
 * A backend that refuses to open (the swarm's: no manager, this machine no node) still gets its
 * list: the swarm's checks on the engine at hand, each with its fix, plus the refusal itself when
 * they all pass. A manager named by `engine.swarm.host` that does not answer is that one failure.
 */
async function unopenedChecks(config: FactoryConfig, docker: Parameters<typeof openBackend>[1]['docker'], err: unknown): Promise<BackendCheck[]> {
  const refusal: BackendCheck = { id: `${config.engine.backend}.backend`, ok: false, detail: errorMessage(err), fix: 'see docs/scale.md' };
  if (config.engine.backend !== 'swarm' || config.engine.swarm.host) return [refusal];
  const { swarmChecks } = await import('./swarm/swarm-check');
  const checks = await swarmChecks(docker, config).catch((e: unknown) => [{ id: 'swarm.check', ok: false, detail: errorMessage(e) }]);
  return checks.every((c) => c.ok) ? [...checks, refusal] : checks;
}

/** The report as lines: a header, then `✓`/`✗`, the check's id and detail, and under a failed one its fix. */
export function reportLines(r: BackendReport): string[] {
  const lines = [`execution backend: ${r.backend}${r.engine ? ` (engine ${r.engine})` : ''}`];
  for (const c of r.checks) {
    lines.push(`${c.ok ? '✓' : '✗'} ${c.id}: ${c.detail}`);
    if (!c.ok && c.fix) lines.push(`    fix: ${c.fix}`);
  }
  lines.push(r.ok ? 'all checks passed' : `${r.checks.filter((c) => !c.ok).length} check(s) failed`);
  return lines;
}
