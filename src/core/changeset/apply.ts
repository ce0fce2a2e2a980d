import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { atomicWrite } from '../util/atomic-write';
import { checkRepoPath } from '../paths/validate';
import type { Change } from './diff';
import type { Snapshot } from './snapshot';

export interface Conflict {
  path: string;
  reason: 'changed-on-host' | 'host-symlink' | 'unsafe-path' | 'not-a-file';
}

export interface ApplyResult {
  applied: boolean;
  conflicts: Conflict[];
  /** Paths written or deleted on the host, in order. */
  written: string[];
}

function sha256(buf: Buffer): string {
  return crypto.createHash('sha256').update(buf).digest('hex');
}

/** True when every ancestor folder of `rel` inside `root` is a real folder (or absent), never a symlink. */
function parentsAreRealDirs(root: string, rel: string): boolean {
  const parts = rel.split('/').slice(0, -1);
  let cur = root;
  for (const part of parts) {
    cur = path.join(cur, part);
    let st: fs.Stats;
    try {
      st = fs.lstatSync(cur);
    } catch {
      return true; // absent from here on: it will be created as a real folder
    }
    if (!st.isDirectory()) return false;
  }
  return true;
}

/** What the host has at `rel` now, in the snapshot's terms: absent, a file's hash, or another type. */
function hostState(root: string, rel: string): { type: 'absent' | 'file' | 'other'; hash?: string; mode?: number } {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(path.join(root, rel));
  } catch {
    return { type: 'absent' };
  }
  if (!st.isFile()) return { type: 'other' };
  return { type: 'file', hash: sha256(fs.readFileSync(path.join(root, rel))), mode: st.mode & 0o777 };
}

/**
 * ADJUST: copy a checked changeset from the staging copy to the host tree (SECURITY 13, 15).
 * Precondition (the caller's): the changeset passed `checkScope` and the repo lock is held.
 * First every path is verified — the host copy must still be what the base had (same content and
 * exec bit — the only mode git tracks — or still absent), and no host parent may be a symlink — and only if ALL pass is anything
 * written, each file atomically. Otherwise nothing is written and the conflicts are returned.
 */
export async function applyChangeset(opts: { hostRoot: string; stagingRoot: string; changes: readonly Change[]; base: Snapshot }): Promise<ApplyResult> {
  const conflicts: Conflict[] = [];
  for (const c of opts.changes) {
    if (checkRepoPath(c.path)) {
      conflicts.push({ path: c.path, reason: 'unsafe-path' });
      continue;
    }
    if ((c.after && c.after !== 'file') || (c.before && c.before !== 'file' && c.kind !== 'deleted')) {
      conflicts.push({ path: c.path, reason: 'not-a-file' });
      continue;
    }
    if (!parentsAreRealDirs(opts.hostRoot, c.path)) {
      conflicts.push({ path: c.path, reason: 'host-symlink' });
      continue;
    }
    const base = opts.base.get(c.path);
    const host = hostState(opts.hostRoot, c.path);
    const same = base ? base.type === 'file' && host.type === 'file' && host.hash === base.hash && (host.mode! & 0o100) === (base.mode & 0o100) : host.type === 'absent';
    if (!same) conflicts.push({ path: c.path, reason: 'changed-on-host' });
  }
  if (conflicts.length) return { applied: false, conflicts, written: [] };

  const written: string[] = [];
  for (const c of opts.changes) {
    const dest = path.join(opts.hostRoot, c.path);
    if (c.kind === 'deleted') {
      fs.rmSync(dest, { force: true });
    } else {
      const src = path.join(opts.stagingRoot, c.path);
      const st = fs.lstatSync(src);
      if (!st.isFile()) throw new Error(`staging entry changed type after the check: ${c.path}`);
      fs.mkdirSync(path.dirname(dest), { recursive: true });
      await atomicWrite(dest, fs.readFileSync(src));
      // Only the permission bits users expect to travel (rwx); never setuid/setgid/sticky.
      fs.chmodSync(dest, (st.mode & 0o755) | 0o600);
    }
    written.push(c.path);
  }
  return { applied: true, conflicts: [], written };
}
