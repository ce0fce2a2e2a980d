import * as crypto from 'node:crypto';
import * as fs from 'node:fs';

export type EntryType = 'file' | 'dir' | 'symlink' | 'other';

/** One lstat'ed entry of a tree. Symlinks are recorded by target text and never followed. */
export interface SnapshotEntry {
  type: EntryType;
  /** Permission bits (0o777) — an exec-bit flip is a modification. */
  mode: number;
  size: number;
  /** sha256 of the content (files) or of the link text (symlinks); '' for dirs and others. */
  hash: string;
  /** Identity used to reuse a hash from an earlier snapshot without re-reading the file. */
  ino: number;
  mtimeNs: bigint;
  ctimeNs: bigint;
  /** Bytes allocated (st_blocks × 512), what the workspace cap counts. */
  allocated: number;
}

/** Repo-relative path (forward slashes, exactly the bytes the file system returned) → entry. */
export type Snapshot = Map<string, SnapshotEntry>;

export interface SnapshotOptions {
  /** Top-level names to leave out (e.g. nothing for a staging copy). */
  skip?: (rel: string) => boolean;
  /**
   * An earlier snapshot of the same tree: files whose inode, size, mtime and ctime are unchanged
   * keep their hash. ctime cannot be set by an unprivileged process, so a content change always
   * shows up as a new ctime.
   */
  previous?: Snapshot;
  /**
   * false: record regular files by their lstat only (hash ''), for a tree whose content is known
   * elsewhere (a staging copy is an export of a commit); see `unhashedTouched`. A function hashes
   * only the files it accepts.
   */
  hashFiles?: boolean | ((rel: string) => boolean);
}

export function hashFile(abs: string): string {
  return crypto.createHash('sha256').update(fs.readFileSync(abs)).digest('hex');
}

/** Entries between two yields of `snapshotWalk`. */
const SLICE = 512;

/**
 * lstat every entry under `root` (no symlink following, ever) and hash file contents into `out`,
 * yielding every few hundred entries so an async caller can let other work run in between. Names
 * are kept as the file system returns them, so Unicode normalisation variants stay distinct.
 */
function* snapshotWalk(root: string, opts: SnapshotOptions, out: Snapshot): Generator<void, void, void> {
  const stack: Array<[rel: string, abs: string]> = [['', root]];
  let n = 0;
  while (stack.length) {
    const [relDir, absDir] = stack.pop()!;
    for (const d of fs.readdirSync(absDir, { withFileTypes: true })) {
      const rel = relDir ? `${relDir}/${d.name}` : d.name;
      if (opts.skip?.(rel)) continue;
      const abs = `${absDir}/${d.name}`;
      const st = fs.lstatSync(abs, { bigint: true });
      const type: EntryType = st.isFile() ? 'file' : st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : 'other';
      const entry: SnapshotEntry = { type, mode: Number(st.mode) & 0o777, size: Number(st.size), hash: '', ino: Number(st.ino), mtimeNs: st.mtimeNs, ctimeNs: st.ctimeNs, allocated: Number(st.blocks) * 512 };
      if (type === 'file') {
        const prev = opts.previous?.get(rel);
        const wanted = typeof opts.hashFiles === 'function' ? opts.hashFiles(rel) : opts.hashFiles !== false;
        entry.hash = prev && sameState(prev, entry) ? prev.hash : wanted ? hashFile(abs) : '';
      } else if (type === 'symlink') {
        entry.hash = crypto.createHash('sha256').update(fs.readlinkSync(abs, { encoding: 'buffer' })).digest('hex');
      }
      out.set(rel, entry);
      if (type === 'dir') stack.push([rel, abs]);
      if (++n % SLICE === 0) yield;
    }
  }
}

/** The snapshot of the tree under `root`, in one go (see `snapshotWalk`). */
export function takeSnapshot(root: string, opts: SnapshotOptions = {}): Snapshot {
  const out: Snapshot = new Map();
  for (const _ of snapshotWalk(root, opts, out));
  return out;
}

/**
 * The same snapshot, taken in slices with the event loop running in between: the Docker API calls
 * that start a container (and the gateway) go on while a large tree is walked.
 */
export async function takeSnapshotYielding(root: string, opts: SnapshotOptions = {}): Promise<Snapshot> {
  const out: Snapshot = new Map();
  for (const _ of snapshotWalk(root, opts, out)) await new Promise((r) => setImmediate(r));
  return out;
}

/** Same inode, size, mtime and ctime: the content cannot have changed in between (see `previous`). */
export function sameState(a: SnapshotEntry, b: SnapshotEntry): boolean {
  return a.type === b.type && a.ino === b.ino && a.size === b.size && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs;
}

/**
 * Files recorded without a hash (`hashFiles: false`) that are gone from `after` or whose state
 * changed: the only ones whose old content a diff or a conflict check can need.
 */
export function unhashedTouched(before: Snapshot, after: Snapshot): string[] {
  const out: string[] = [];
  for (const [p, b] of before) {
    if (b.type !== 'file' || b.hash !== '') continue;
    const a = after.get(p);
    if (!a || !sameState(a, b)) out.push(p);
  }
  return out;
}

/** What the tree of a snapshot allocates, as the workspace cap's walk counts it (no second walk). */
export function snapshotBytes(s: Snapshot): number {
  let total = 0;
  for (const e of s.values()) total += e.allocated;
  return total;
}
