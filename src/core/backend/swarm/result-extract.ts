/**
 * A swarm task's result archive (`result.tar`, written by the relay from what the task uploaded)
 * is UNTRUSTED: the Worker controlled every byte of it. It is read entry by entry into an empty
 * scratch folder of the Controller's, and only a fully valid archive is then mirrored into the
 * job's writable host folders (`mirror.ts`), so a refused archive changes nothing on the host.
 *
 * Rules (FactoryError `swarm.transfer` when broken): every entry lies in a known `m<k>` folder;
 * its path passes the path validator (no absolute path, no `..`, no control characters, no `.git`);
 * only regular files, folders and relative symlinks that stay inside their mount (no hard links,
 * devices or FIFOs); no entry below a link or a file; the files' bytes sum to at most the cap;
 * mode bits are masked to 0644 / 0755.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import * as tar from 'tar-stream';
import { checkRepoPath } from '../../paths/validate';
import { FactoryError } from '../../util/errors';

/** Most entries a result archive may hold (a cap on inodes, beside the cap on bytes). */
export const MAX_RESULT_ENTRIES = 200_000;

/** Why a result was refused: over the size cap (the growth cap's verdict) or broken (a link, a path). */
export class TransferRefused extends FactoryError {
  constructor(
    message: string,
    readonly overSize: boolean,
  ) {
    super(message, 'swarm.transfer');
  }
}

export interface ExtractOptions {
  /** The `m<k>` folders the archive may hold (the job's writable mounts). */
  dirs: readonly string[];
  /** Largest sum of file bytes. */
  capBytes: number;
  /** An empty folder of the Controller's: each `m<k>` is extracted below it. */
  into: string;
  signal?: AbortSignal;
}

type Kind = 'file' | 'dir' | 'symlink';

/** Entry name → its mount folder and its path inside it ('' = the mount's root), or why not. */
function splitName(raw: string, dirs: readonly string[]): { dir: string; rel: string } {
  const name = raw.endsWith('/') ? raw.slice(0, -1) : raw;
  const slash = name.indexOf('/');
  const dir = slash < 0 ? name : name.slice(0, slash);
  const rel = slash < 0 ? '' : name.slice(slash + 1);
  if (!dirs.includes(dir)) throw new TransferRefused(`result entry ${JSON.stringify(raw.slice(0, 200))} is outside the job's writable folders`, false);
  if (rel !== '') {
    const problem = checkRepoPath(rel, { protect: false });
    if (problem) throw new TransferRefused(`result entry ${JSON.stringify(raw.slice(0, 200))}: ${problem.message}`, false);
  }
  return { dir, rel };
}

/** A symlink's target must be relative and resolve inside its mount. */
function checkLink(rel: string, target: string): void {
  const bad = () => new TransferRefused(`result link ${JSON.stringify(rel)} → ${JSON.stringify(target.slice(0, 200))} leaves its folder`, false);
  if (target === '' || target.startsWith('/') || target.includes('\0') || target.includes('\\')) throw bad();
  const resolved = path.posix.normalize(path.posix.join(path.posix.dirname(rel), target));
  if (resolved === '..' || resolved.startsWith('../') || resolved.startsWith('/')) throw bad();
}

/** The extractor's state: what each path already is, and the bytes so far. */
class Extraction {
  private kinds = new Map<string, Kind>();
  bytes = 0;
  entries = 0;

  constructor(private readonly opts: ExtractOptions) {
    for (const d of opts.dirs) {
      fs.mkdirSync(path.join(opts.into, d), { mode: 0o700 });
      this.kinds.set(d, 'dir');
    }
  }

  /** Check an entry against what is there already; create its parents. Returns its absolute path. */
  place(dir: string, rel: string, kind: Kind): string | null {
    if (++this.entries > MAX_RESULT_ENTRIES) throw new TransferRefused(`the result holds more than ${MAX_RESULT_ENTRIES} entries`, true);
    const key = rel === '' ? dir : `${dir}/${rel}`;
    if (rel === '') {
      if (kind !== 'dir') throw new TransferRefused(`result folder ${dir} is not a folder`, false);
      return null;
    }
    const segs = rel.split('/');
    for (let i = 1; i < segs.length; i++) {
      const parent = `${dir}/${segs.slice(0, i).join('/')}`;
      const k = this.kinds.get(parent);
      if (k === undefined) {
        fs.mkdirSync(path.join(this.opts.into, parent), { mode: 0o700 });
        this.kinds.set(parent, 'dir');
      } else if (k !== 'dir') throw new TransferRefused(`result entry ${JSON.stringify(key)} lies below a ${k}`, false);
    }
    const before = this.kinds.get(key);
    if (before !== undefined && (before !== kind || kind === 'symlink')) throw new TransferRefused(`result entry ${JSON.stringify(key)} appears twice`, false);
    this.kinds.set(key, kind);
    return path.join(this.opts.into, key);
  }

  addBytes(n: number): void {
    this.bytes += n;
    if (this.bytes > this.opts.capBytes) throw new TransferRefused(`the result holds more than ${(this.opts.capBytes / 1024 / 1024).toFixed(1)} MiB`, true);
  }
}

/** One entry of the archive into the scratch folder. */
async function takeEntry(x: Extraction, header: tar.Headers, body: Readable, dirs: readonly string[]): Promise<void> {
  const { dir, rel } = splitName(header.name, dirs);
  const type = header.type ?? 'file';
  if (type === 'directory') {
    const abs = x.place(dir, rel, 'dir');
    if (abs && !fs.existsSync(abs)) fs.mkdirSync(abs, { mode: 0o700 });
    body.resume();
    return;
  }
  if (type === 'symlink') {
    checkLink(rel, header.linkname ?? '');
    const abs = x.place(dir, rel, 'symlink');
    if (abs) fs.symlinkSync(header.linkname ?? '', abs);
    body.resume();
    return;
  }
  if (type !== 'file' && type !== 'contiguous-file') throw new TransferRefused(`result entry ${JSON.stringify(header.name.slice(0, 200))} is a ${type}: only files, folders and links inside the folder are taken`, false);
  const size = header.size ?? 0;
  x.addBytes(size);
  const abs = x.place(dir, rel, 'file');
  if (!abs) throw new TransferRefused(`result folder ${dir} is not a folder`, false);
  // A later entry of the same file replaces it: unlink, then create exclusively (never through a link).
  fs.rmSync(abs, { force: true });
  const mode = (header.mode ?? 0) & 0o111 ? 0o755 : 0o644;
  const fh = await fs.promises.open(abs, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, mode);
  // Not stream.pipeline: it destroys the entry stream, which stalls tar-stream's extractor. The
  // write stream closes the handle itself (a handle with a live stream never closes).
  await new Promise<void>((resolve, reject) => {
    const ws = fh.createWriteStream();
    body.once('error', (err: Error) => {
      ws.destroy();
      reject(err);
    });
    ws.once('error', reject);
    ws.once('close', resolve);
    body.pipe(ws);
  });
  fs.chmodSync(abs, mode);
}

/**
 * Extract `archive` into `opts.into` under the rules above. Throws `TransferRefused` (a
 * FactoryError `swarm.transfer`) at the first broken rule; the scratch folder is then the
 * caller's to delete.
 */
export async function extractResult(archive: string, opts: ExtractOptions): Promise<{ bytes: number; entries: number }> {
  const x = new Extraction(opts);
  const fh = await fs.promises.open(archive, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  const st = await fh.stat();
  // The tar's own bytes bound what it can hold; headers and padding make it larger than the files.
  if (!st.isFile() || st.size > opts.capBytes + 64 * 1024 * 1024) {
    await fh.close();
    throw new TransferRefused(`the result archive is ${(st.size / 1024 / 1024).toFixed(1)} MiB, past the transfer cap`, true);
  }
  const extract = tar.extract();
  let failure: Error | undefined;
  extract.on('entry', (header: tar.Headers, body: Readable, next: (err?: unknown) => void) => {
    takeEntry(x, header, body, opts.dirs).then(
      () => next(),
      (err: unknown) => {
        failure ??= err instanceof Error ? err : new Error(String(err));
        body.resume();
        next(err);
      },
    );
  });
  try {
    await pipeline(fh.createReadStream(), extract, ...(opts.signal ? [{ signal: opts.signal }] : []));
  } catch (err) {
    if (failure) throw failure;
    if (opts.signal?.aborted) throw err;
    throw new TransferRefused(`the result archive is not a valid tar: ${err instanceof Error ? err.message : String(err)}`, false);
  } finally {
    await fh.close().catch(() => undefined);
  }
  return { bytes: x.bytes, entries: x.entries };
}
