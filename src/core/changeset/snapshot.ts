import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

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
}

function hashFile(abs: string): string {
  return crypto.createHash('sha256').update(fs.readFileSync(abs)).digest('hex');
}

/**
 * lstat every entry under `root` (no symlink following, ever) and hash file contents. Names are
 * kept as the file system returns them, so Unicode normalisation variants stay distinct.
 */
export function takeSnapshot(root: string, opts: SnapshotOptions = {}): Snapshot {
  const out: Snapshot = new Map();
  const walk = (relDir: string) => {
    const absDir = relDir ? path.join(root, relDir) : root;
    for (const d of fs.readdirSync(absDir, { withFileTypes: true })) {
      const rel = relDir ? `${relDir}/${d.name}` : d.name;
      if (opts.skip?.(rel)) continue;
      const abs = path.join(absDir, d.name);
      const st = fs.lstatSync(abs, { bigint: true });
      const type: EntryType = st.isFile() ? 'file' : st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : 'other';
      let hash = '';
      if (type === 'file') {
        const prev = opts.previous?.get(rel);
        hash =
          prev && prev.type === 'file' && prev.ino === Number(st.ino) && prev.size === Number(st.size) && prev.mtimeNs === st.mtimeNs && prev.ctimeNs === st.ctimeNs
            ? prev.hash
            : hashFile(abs);
      } else if (type === 'symlink') {
        hash = crypto.createHash('sha256').update(fs.readlinkSync(abs, { encoding: 'buffer' })).digest('hex');
      }
      out.set(rel, { type, mode: Number(st.mode) & 0o777, size: Number(st.size), hash, ino: Number(st.ino), mtimeNs: st.mtimeNs, ctimeNs: st.ctimeNs });
      if (type === 'dir') walk(rel);
    }
  };
  walk('');
  return out;
}

/** Bytes used by the regular files of a tree (lstat, no following); for the workspace size cap. */
export function treeBytes(root: string, stopAbove = Number.POSITIVE_INFINITY): number {
  let total = 0;
  const walk = (dir: string) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const d of entries) {
      if (total > stopAbove) return;
      const abs = path.join(dir, d.name);
      try {
        const st = fs.lstatSync(abs);
        total += st.blocks * 512;
        if (st.isDirectory()) walk(abs);
      } catch {
        // Deleted while we walked: the Worker is still running.
      }
    }
  };
  walk(root);
  return total;
}
