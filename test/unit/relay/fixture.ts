import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import * as esbuild from 'esbuild';
import { RELAY_JOB_FILES, type RelayJobMeta } from '../../../src/core/contracts/relay-protocol';
import { createRelayServer } from '../../../src/relay/server';

// Shared set-up of the relay tests: a temp RELAY_DIR with job folders, the relay on loopback, a
// real Unix-socket HTTP server standing in for the gateway, and the two bundles built as esbuild.js
// builds them.

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Writes `jobs/<id>/` as the Controller would: token hash, meta, optional bundle. */
export function makeJob(root: string, id: string, token: string, meta: Partial<RelayJobMeta> = {}, bundle?: Buffer | string): string {
  const dir = path.join(root, 'jobs', id);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, RELAY_JOB_FILES.tokenHash), `${createHash('sha256').update(token).digest('hex')}\n`);
  const full: RelayJobMeta = { schema_version: 1, maxResultBytes: 1024 * 1024, gateway: true, ...meta };
  fs.writeFileSync(path.join(dir, RELAY_JOB_FILES.meta), JSON.stringify(full));
  if (typeof bundle === 'string') fs.copyFileSync(bundle, path.join(dir, RELAY_JOB_FILES.bundle));
  else if (bundle) fs.writeFileSync(path.join(dir, RELAY_JOB_FILES.bundle), bundle);
  return dir;
}

export interface Running {
  server: http.Server;
  port: number;
  logs: Record<string, unknown>[];
  close(): Promise<void>;
}

/** The relay (in process) on 127.0.0.1, logging into `logs`. */
export async function startRelay(dir: string, maxModelBody?: number): Promise<Running> {
  const logs: Record<string, unknown>[] = [];
  const server = createRelayServer({ dir, log: (l) => logs.push(l), maxModelBody });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    logs,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A gateway stand-in on `socketPath`: records each request, answers with `handler`. */
export async function fakeGateway(socketPath: string, handler: (req: Seen, res: http.ServerResponse) => void): Promise<{ seen: Seen[]; close(): Promise<void> }> {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const s = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      seen.push(s);
      handler(s, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  return {
    seen,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** One request to the relay; `body` may be a Buffer or a list of chunks sent without Content-Length. */
export function call(port: number, method: string, urlPath: string, opts: { token?: string; body?: Buffer | Buffer[]; headers?: http.OutgoingHttpHeaders } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: http.OutgoingHttpHeaders = { ...opts.headers };
    if (opts.token !== undefined) headers.authorization = `Bearer ${opts.token}`;
    const req = http.request({ host: '127.0.0.1', port, method, path: urlPath, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (Array.isArray(opts.body)) {
      for (const c of opts.body) req.write(c);
      req.end();
    } else req.end(opts.body);
  });
}

/** dist/relay.js and dist/swarm-boot.js built into `outdir` with esbuild.js's options for them. */
export async function buildRelayBundles(outdir: string): Promise<{ relay: string; boot: string }> {
  await esbuild.build({
    entryPoints: { relay: 'src/relay/main.ts', 'swarm-boot': 'src/relay/boot.ts' },
    outdir,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node18',
    minify: true,
    sourcemap: false,
    legalComments: 'none',
    logLevel: 'warning',
  });
  return { relay: path.join(outdir, 'relay.js'), boot: path.join(outdir, 'swarm-boot.js') };
}
