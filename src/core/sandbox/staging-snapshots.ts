import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import picomatch from 'picomatch';
import { hashFile, takeSnapshot, takeSnapshotYielding, unhashedTouched, type Snapshot } from '../changeset/snapshot';
import { exportTree, type StagingCopy } from './staging';

/** Paths per `git archive` call, well under any argv limit. */
const BATCH = 500;

/**
 * The snapshot of a fresh staging copy, before the Worker runs: lstat only, except the files in
 * `scope.modify` — the ones the Worker is there to change, hashed now so that afterwards the
 * common case needs no second export. The copy is an export of `baseCommit`, so any other file's
 * content is known without reading it now; on a large tree hashing every file costs more than the
 * rest of the check. Taken in slices, so a cycle can start the Worker container meanwhile (the
 * runtime waits for plan.json, written once this is done, before it starts the agent).
 */
export function baseSnapshot(staging: StagingCopy, modify: readonly string[] = []): Promise<Snapshot> {
  const inScope = modify.length ? picomatch([...modify], { dot: true, nonegate: true, noextglob: true }) : () => false;
  return takeSnapshotYielding(staging.workspace, { hashFiles: (rel) => inScope(rel) });
}

/**
 * The snapshot after the Worker, and `before` completed: every file the Worker could have
 * touched (gone, or with a new inode, size, mtime or ctime — ctime cannot be set by an
 * unprivileged process) gets its base hash from a fresh export of just those paths of the base
 * commit, through the same `git archive` (same filters, same attributes), so "touched but
 * identical" stays unchanged and a conflict check compares against the real base content.
 */
export async function afterSnapshot(staging: StagingCopy, before: Snapshot, signal?: AbortSignal): Promise<Snapshot> {
  const after = takeSnapshot(staging.workspace, { previous: before });
  const touched = unhashedTouched(before, after);
  if (touched.length === 0) return after;
  const scratch = fs.mkdtempSync(path.join(staging.dir, 'base-'));
  try {
    for (let i = 0; i < touched.length; i += BATCH) {
      await exportTree(staging.source, staging.baseCommit, scratch, { paths: touched.slice(i, i + BATCH), ...(signal ? { signal } : {}) });
    }
    for (const p of touched) {
      const entry = before.get(p)!;
      const abs = path.join(scratch, p);
      const st = fs.lstatSync(abs, { throwIfNoEntry: false });
      if (!st?.isFile()) throw new Error(`the base commit has no file ${JSON.stringify(p)} although the staging copy had one`);
      entry.hash = hashFile(abs);
    }
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
  // Files the Worker left alone kept '' from `before`; both sides agree, so the diff sees no change.
  return after;
}

/**
 * The identity of a checked staging tree without reading it: the base commit (and the folder
 * exported) plus every change with its new content hash and mode. Two staging trees with the same
 * identity hold the same bytes, which is what the Gate cache needs (`runGate`'s `treeHash`).
 */
export function stagingTreeHash(staging: Pick<StagingCopy, 'baseCommit' | 'source'>, changes: readonly { path: string; kind: string }[], after: Snapshot): string {
  const h = crypto.createHash('sha256').update(`staging ${staging.baseCommit} ${staging.source}\n`);
  for (const c of [...changes].sort((x, y) => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0))) {
    const a = after.get(c.path);
    h.update(`${c.kind} ${c.path}\0${a ? `${a.type} ${a.mode.toString(8)} ${a.hash}` : '-'}\n`);
  }
  return h.digest('hex');
}

/** Above this many entries the runtime lists the tree itself (the list would be large). */
const BASE_ENTRIES_CAP = 100_000;

/**
 * Hand the runtime the names of the base snapshot (`control/base-entries`, mounted read-only at
 * /factory/plan/base-entries): `D` or `F` and the path, NUL-separated. The runtime uses it as the
 * "before" of its own `files_changed` list instead of walking the tree again inside the
 * container. That list is the Worker's claim, never trusted; the Controller's changeset is the
 * real one.
 */
export function writeBaseEntries(staging: Pick<StagingCopy, 'control'>, before: Snapshot): void {
  if (before.size > BASE_ENTRIES_CAP) return;
  const parts: string[] = [];
  for (const [p, e] of before) parts.push(`${e.type === 'dir' ? 'D' : 'F'}${p}`);
  const tmp = path.join(staging.control, '.base-entries.tmp');
  fs.writeFileSync(tmp, parts.join('\0'), { mode: 0o644 });
  fs.renameSync(tmp, path.join(staging.control, 'base-entries'));
}
