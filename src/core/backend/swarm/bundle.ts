/**
 * A swarm job's input: the host folders of its mounts as ONE tar the relay serves to the task
 * (relay-protocol.ts `RELAY_JOB_FILES.bundle`): `manifest.json` first, then a folder `m<k>` per
 * shipped mount. Packed from the Controller's own folders (the staging copy, the task folder, a
 * Gate tree), never following a symlink: a link is shipped as a link, sockets and devices are
 * skipped. The bytes shipped are capped (`engine.swarm.transferMb`).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar-stream';
import type { BundleManifest } from '../../contracts/relay-protocol';
import type { ContainerMount } from '../../sandbox/container-spec';
import { FactoryError } from '../../util/errors';

/** A mount as the bundle ships it: its host folder packed as `m<k>`. */
export interface ShippedMount extends ContainerMount {
  /** `m<k>`: the folder of the bundle (and of the result archive) that holds this mount. */
  dir: string;
}

/** What a bundle is made of. */
export interface BundleRequest {
  mounts: readonly ShippedMount[];
  cmd: string[];
  env: Record<string, string>;
  workdir: string;
  gatewaySocket?: string;
  /** Largest sum of file bytes shipped. */
  capBytes: number;
  signal?: AbortSignal;
}

/** What was packed. */
export interface BundleInfo {
  manifest: BundleManifest;
  /** What each shipped mount takes on a tmpfs, by `dir`: whole pages per file, one per entry (the task's tmpfs sizes). */
  allocated: Record<string, number>;
  /** File bytes of every mount together (what the transfer cap counts). */
  totalBytes: number;
}

/** A tmpfs page: what the smallest file or folder takes in the task. */
const PAGE = 4096;

/** One tar entry to write (files are streamed from the host). */
type Entry = { name: string; kind: 'dir'; mode: number; mtime: Date } | { name: string; kind: 'file'; mode: number; mtime: Date; size: number; src: string } | { name: string; kind: 'symlink'; mtime: Date; target: string };

/** Mode bits a bundle keeps: read and execute as the task's user sees them, never set-id or sticky. */
function shippedMode(mode: number, dir: boolean): number {
  if (dir) return 0o755;
  return mode & 0o111 ? 0o755 : 0o644;
}

/** Every entry under `root` (lstat only: a link is listed as a link), `prefix/`-relative, parents first. */
function listTree(root: string, prefix: string, out: Entry[]): { bytes: number; allocated: number } {
  let bytes = 0;
  let allocated = PAGE;
  const walk = (abs: string, rel: string): void => {
    for (const d of fs.readdirSync(abs, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const childAbs = path.join(abs, d.name);
      const name = `${rel}/${d.name}`;
      const st = fs.lstatSync(childAbs);
      allocated += PAGE;
      if (st.isDirectory()) {
        out.push({ name: `${name}/`, kind: 'dir', mode: shippedMode(st.mode, true), mtime: st.mtime });
        walk(childAbs, name);
      } else if (st.isFile()) {
        bytes += st.size;
        allocated += Math.ceil(st.size / PAGE) * PAGE;
        out.push({ name, kind: 'file', mode: shippedMode(st.mode, false), mtime: st.mtime, size: st.size, src: childAbs });
      } else if (st.isSymbolicLink()) {
        out.push({ name, kind: 'symlink', mtime: st.mtime, target: fs.readlinkSync(childAbs) });
      } // sockets, FIFOs and devices are not shipped
    }
  };
  out.push({ name: `${prefix}/`, kind: 'dir', mode: 0o755, mtime: fs.lstatSync(root).mtime });
  walk(root, prefix);
  return { bytes, allocated };
}

/** The manifest of a bundle (what the boot script reads first). */
export function bundleManifest(req: Omit<BundleRequest, 'capBytes' | 'signal'>): BundleManifest {
  return {
    schema_version: 1,
    mounts: req.mounts.map((m) => ({ dir: m.dir, containerPath: m.containerPath, readOnly: m.readOnly })),
    cmd: req.cmd,
    env: req.env,
    workdir: req.workdir,
    ...(req.gatewaySocket ? { gatewaySocket: req.gatewaySocket } : {}),
  };
}

/** List every shipped mount's entries; throws `swarm.transfer` past the cap. */
function listMounts(mounts: readonly ShippedMount[], capBytes: number): { entries: Entry[]; allocated: Record<string, number>; totalBytes: number } {
  const entries: Entry[] = [];
  const allocated: Record<string, number> = {};
  let totalBytes = 0;
  for (const m of mounts) {
    if (!/^m\d+$/.test(m.dir)) throw new Error(`bundle folder ${m.dir} is not m<k>`);
    const t = listTree(m.hostPath, m.dir, entries);
    allocated[m.dir] = t.allocated;
    totalBytes += t.bytes;
  }
  if (totalBytes > capBytes) {
    throw new FactoryError(`the job's input is ${mib(totalBytes)} MiB, past the transfer cap of ${mib(capBytes)} MiB (engine.swarm.transferMb)`, 'swarm.transfer');
  }
  return { entries, allocated, totalBytes };
}

/** Write a tar to `dest` (owner-only, replaced atomically): `fill` adds the entries; `trailer: false` leaves off the end-of-archive blocks. */
async function writeTar(dest: string, fill: (pack: tar.Pack) => Promise<void>, signal?: AbortSignal, trailer = true): Promise<void> {
  const part = `${dest}.part`;
  const pack = tar.pack();
  const written = pipeline(pack, fs.createWriteStream(part, { mode: 0o600 }), ...(signal ? [{ signal }] : []));
  try {
    await fill(pack);
    pack.finalize();
    await written;
    if (!trailer) fs.truncateSync(part, fs.statSync(part).size - END_OF_TAR);
  } catch (err) {
    pack.destroy();
    await written.catch(() => undefined);
    fs.rmSync(part, { force: true });
    throw err;
  }
  fs.renameSync(part, dest);
}

/** tar-stream's end of archive: two zero blocks. */
const END_OF_TAR = 1024;

async function addEntries(pack: tar.Pack, entries: readonly Entry[], signal?: AbortSignal): Promise<void> {
  for (const e of entries) {
    signal?.throwIfAborted();
    if (e.kind === 'dir') await addEntry(pack, { name: e.name, type: 'directory', mode: e.mode, mtime: e.mtime });
    else if (e.kind === 'symlink') await addEntry(pack, { name: e.name, type: 'symlink', linkname: e.target, mode: 0o777, mtime: e.mtime });
    else await addFile(pack, e);
  }
}

/**
 * Pack `req.mounts` into `dest` (created owner-only, mode 0600, replaced atomically), the
 * manifest first. Throws FactoryError `swarm.transfer` when the files exceed `req.capBytes`.
 */
export async function packBundle(dest: string, req: BundleRequest): Promise<BundleInfo> {
  const { entries, allocated, totalBytes } = listMounts(req.mounts, req.capBytes);
  const manifest = bundleManifest(req);
  await writeTar(
    dest,
    async (pack) => {
      await addEntry(pack, { name: 'manifest.json', mode: 0o644 }, Buffer.from(JSON.stringify(manifest)));
      await addEntries(pack, entries, req.signal);
    },
    req.signal,
  );
  return { manifest, allocated, totalBytes };
}

/** A bundle's body packed once (the Gate's tree), for many bundles that differ only by their manifest. */
export interface BundleBody {
  file: string;
  mounts: readonly ShippedMount[];
  allocated: Record<string, number>;
  totalBytes: number;
}

/** Pack the mounts without a manifest and without the end-of-archive blocks (`bundleFromBody` adds both). */
export async function packBody(dest: string, mounts: readonly ShippedMount[], capBytes: number, signal?: AbortSignal): Promise<BundleBody> {
  const { entries, allocated, totalBytes } = listMounts(mounts, capBytes);
  await writeTar(dest, (pack) => addEntries(pack, entries, signal), signal, false);
  return { file: dest, mounts, allocated, totalBytes };
}

/** One job's bundle from a packed body: its manifest entry, the body's bytes, the end of archive. */
export async function bundleFromBody(dest: string, body: BundleBody, req: Omit<BundleRequest, 'mounts' | 'capBytes' | 'signal'> & { mounts?: readonly ShippedMount[] }): Promise<BundleInfo> {
  const manifest = bundleManifest({ ...req, mounts: req.mounts ?? body.mounts });
  const head = `${dest}.head`;
  await writeTar(head, (pack) => addEntry(pack, { name: 'manifest.json', mode: 0o644 }, Buffer.from(JSON.stringify(manifest))), undefined, false);
  const part = `${dest}.part`;
  try {
    fs.copyFileSync(head, part);
    fs.chmodSync(part, 0o600);
    await pipeline(fs.createReadStream(body.file), fs.createWriteStream(part, { flags: 'a' }));
    fs.appendFileSync(part, Buffer.alloc(END_OF_TAR));
    fs.renameSync(part, dest);
  } finally {
    fs.rmSync(head, { force: true });
    fs.rmSync(part, { force: true });
  }
  return { manifest, allocated: body.allocated, totalBytes: body.totalBytes };
}

function addEntry(pack: tar.Pack, header: tar.Headers, body?: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const cb = (err?: Error | null) => (err ? reject(err) : resolve());
    if (body) pack.entry({ ...header, size: body.length }, body, cb);
    else pack.entry(header, cb).end();
  });
}

/** A file's bytes streamed into the pack; a file that changed size meanwhile fails the pack (tar-stream checks the size). */
async function addFile(pack: tar.Pack, e: Extract<Entry, { kind: 'file' }>): Promise<void> {
  let entry!: NodeJS.WritableStream;
  const done = new Promise<void>((resolve, reject) => {
    entry = pack.entry({ name: e.name, type: 'file', mode: e.mode, mtime: e.mtime, size: e.size }, (err) => (err ? reject(err) : resolve()));
  });
  const fh = await fs.promises.open(e.src, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  await pipeline(fh.createReadStream(), entry); // the stream closes the handle
  await done;
}

function mib(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(1);
}
