/**
 * Make a host folder hold exactly what a checked scratch tree holds (a swarm task's writable mount
 * after the run): files whose bytes did not change are left as they are (the snapshots then see no
 * change), changed or new ones are copied in, links re-made, and what the task deleted is deleted.
 * Never follows a link on either side (lstat only; a link in the way is removed, not entered).
 * A root Controller hands what it writes to the host folder's owner (the container's user), and
 * every mode is 0644 / 0755, so the Gate's user can read it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface MirrorStats {
  written: number;
  removed: number;
  kept: number;
}

/** Same bytes? (sizes first; then a chunked compare). */
function sameBytes(a: string, b: string, size: number): boolean {
  if (size === 0) return true;
  const fa = fs.openSync(a, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  const fb = fs.openSync(b, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  try {
    const ba = Buffer.allocUnsafe(Math.min(size, 1 << 20));
    const bb = Buffer.allocUnsafe(ba.length);
    let pos = 0;
    while (pos < size) {
      const na = fs.readSync(fa, ba, 0, ba.length, pos);
      const nb = fs.readSync(fb, bb, 0, bb.length, pos);
      if (na !== nb || na === 0 || !ba.subarray(0, na).equals(bb.subarray(0, nb))) return false;
      pos += na;
    }
    return true;
  } finally {
    fs.closeSync(fa);
    fs.closeSync(fb);
  }
}

function lstatOrNull(p: string): fs.Stats | null {
  try {
    return fs.lstatSync(p);
  } catch {
    return null;
  }
}

/** Mirror `src` (a checked scratch tree) into `dest` (an existing host folder). */
export function mirrorTree(src: string, dest: string, owner?: { uid: number; gid: number }): MirrorStats {
  const stats: MirrorStats = { written: 0, removed: 0, kept: 0 };
  const own = (p: string) => {
    if (owner && process.getuid?.() === 0) fs.lchownSync(p, owner.uid, owner.gid);
  };
  const walk = (s: string, d: string): void => {
    const names = new Set<string>();
    for (const name of fs.readdirSync(s)) {
      names.add(name);
      mirrorEntry(path.join(s, name), path.join(d, name));
    }
    for (const name of fs.readdirSync(d)) {
      if (names.has(name)) continue;
      fs.rmSync(path.join(d, name), { recursive: true, force: true });
      stats.removed++;
    }
  };
  const replace = (d: string, had: fs.Stats | null) => {
    if (had) fs.rmSync(d, { recursive: true, force: true });
  };
  const mirrorEntry = (s: string, d: string): void => {
    const ss = fs.lstatSync(s);
    const ds = lstatOrNull(d);
    if (ss.isDirectory()) {
      if (!ds?.isDirectory()) {
        replace(d, ds);
        fs.mkdirSync(d, { mode: 0o755 });
        own(d);
        stats.written++;
      }
      walk(s, d);
    } else if (ss.isSymbolicLink()) {
      const target = fs.readlinkSync(s);
      if (ds?.isSymbolicLink() && fs.readlinkSync(d) === target) {
        stats.kept++;
        return;
      }
      replace(d, ds);
      fs.symlinkSync(target, d);
      own(d);
      stats.written++;
    } else {
      const mode = ss.mode & 0o111 ? 0o755 : 0o644;
      if (ds?.isFile() && ds.size === ss.size && sameBytes(s, d, ss.size)) {
        // Only the execute bit is the task's to change (a file's other bits stay the host's).
        if (Boolean(ds.mode & 0o111) !== Boolean(mode & 0o111)) fs.chmodSync(d, mode);
        stats.kept++;
        return;
      }
      replace(d, ds);
      fs.copyFileSync(s, d, fs.constants.COPYFILE_EXCL);
      fs.chmodSync(d, mode);
      own(d);
      stats.written++;
    }
  };
  walk(src, dest);
  return stats;
}
