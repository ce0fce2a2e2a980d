import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import * as fs from 'node:fs';
import { RELAY_ROUTES, type BundleManifest } from '../core/contracts/relay-protocol';
import { BootError, hostPath, parseManifest } from './boot-manifest';
import { expectOk, relayRequest, response, type RelayTarget } from './boot-net';
import { ByteReader, nextEntry, type TarEntry } from './tar-split';

// The bundle, downloaded once and extracted as it streams (no copy on the task's disk): its first
// entry is manifest.json; every `m<k>/…` entry goes, with its extended headers, to a
// `tar -x --strip-components=1 -C <containerPath>` of its own mount (the image's tar does the
// extracting: owners dropped, names checked, links never followed out).

const MAX_MANIFEST = 1024 * 1024;
const END_OF_ARCHIVE = Buffer.alloc(1024);

/** One mount's extracting tar. */
class Sink {
  private readonly child: ChildProcess;
  readonly exited: Promise<number>;

  constructor(readonly dest: string) {
    this.child = spawn('tar', ['-x', '--no-same-owner', '--strip-components=1', '-C', dest, '-f', '-'], { stdio: ['pipe', 'inherit', 'inherit'] });
    this.child.stdin?.on('error', () => undefined);
    this.exited = new Promise((resolve) => {
      this.child.on('error', () => resolve(-1));
      this.child.on('close', (code) => resolve(code ?? -1));
    });
  }

  async write(buf: Buffer): Promise<void> {
    const stdin = this.child.stdin;
    if (stdin === null || stdin.write(buf)) return;
    const died = this.exited.then((code) => {
      throw new BootError(`tar extracting into ${this.dest} stopped early (exit ${code})`);
    });
    await Promise.race([once(stdin, 'drain'), died]);
  }

  async finish(): Promise<void> {
    this.child.stdin?.end(END_OF_ARCHIVE);
    const code = await this.exited;
    if (code !== 0) throw new BootError(`tar extracting into ${this.dest} failed (exit ${code})`);
  }

  kill(): void {
    this.child.kill('SIGKILL');
  }
}

async function readManifest(reader: ByteReader): Promise<BundleManifest> {
  const first = await nextEntry(reader);
  if (first === undefined || first.name !== 'manifest.json' || !['0', '7'].includes(first.header.type)) {
    throw new BootError('the bundle does not start with manifest.json');
  }
  if (first.header.size > MAX_MANIFEST) throw new BootError('manifest.json is too large');
  const data = await reader.read(first.dataBytes);
  return parseManifest(data.subarray(0, first.header.size));
}

/** The sink of an entry: its name must be `m<k>` or `m<k>/…` of a manifest mount. */
function sinkOf(e: TarEntry, sinks: Map<string, Sink>): Sink {
  const slash = e.name.indexOf('/');
  const top = slash < 0 ? e.name : e.name.slice(0, slash);
  const sink = sinks.get(top);
  if (sink === undefined) throw new BootError(`bundle entry ${JSON.stringify(e.name.slice(0, 200))} is outside the manifest's mounts`);
  return sink;
}

async function route(reader: ByteReader, sinks: Map<string, Sink>): Promise<void> {
  for (;;) {
    const e = await nextEntry(reader);
    if (e === undefined) return;
    const sink = sinkOf(e, sinks);
    await sink.write(e.headerBlocks);
    for (let left = e.dataBytes; left > 0; ) {
      const chunk = await reader.readSome(Math.min(left, 256 * 1024));
      left -= chunk.length;
      await sink.write(chunk);
    }
  }
}

/** Downloads the job's bundle (once: the relay refuses a second time) and extracts each mount in place; returns the manifest. */
export async function fetchBundle(t: RelayTarget, root: string | undefined): Promise<BundleManifest> {
  const req = relayRequest(t, 'GET', RELAY_ROUTES.bundle(t.jobId));
  const answer = response(req, 'bundle download');
  req.end();
  const res = await answer;
  await expectOk(res, 'bundle download');
  const reader = new ByteReader(res[Symbol.asyncIterator]() as AsyncIterator<Buffer>);
  const fail = (err: unknown): never => {
    throw err instanceof BootError ? err : new BootError(`bundle: ${err instanceof Error ? err.message : String(err)}`);
  };
  const manifest = await readManifest(reader).catch(fail);
  const sinks = new Map<string, Sink>();
  try {
    for (const m of manifest.mounts) {
      const dest = hostPath(root, m.containerPath);
      fs.mkdirSync(dest, { recursive: true });
      sinks.set(m.dir, new Sink(dest));
    }
    await route(reader, sinks);
    for (const s of sinks.values()) await s.finish();
  } catch (err) {
    for (const s of sinks.values()) s.kill();
    fail(err);
  } finally {
    res.destroy();
  }
  return manifest;
}
