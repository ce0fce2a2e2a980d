import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * The Worker's own list of changed files for result.json (`files_changed`). Informational only:
 * the Controller computes the real changeset itself from lstat snapshots and content hashes, so
 * this list is made as cheaply as possible, with one stat pass after the agent instead of two:
 *
 * - before the agent: the names under the working directory — from the Controller's own base
 *   snapshot when it wrote them next to plan.json, else by readdir — and a time a little before
 *   the runtime started;
 * - after it: every file whose inode changed (ctime) since then, by GNU find (≈ 15 ms for 10,000
 *   files on one CPU, against ≈ 70 ms for the same stat walk in Node), plus the names now gone
 *   from the folders whose entries changed.
 *
 * ctime cannot be set back by an unprivileged process, and the staging copy was written before
 * the container started, so its untouched files are older than the mark.
 */
export interface BeforeAgent {
  /** Relative path → is a directory. */
  names: Map<string, boolean>;
  /** Nanoseconds since the epoch: changes after this count. */
  sinceNs: bigint;
}

const CAP = 100_000;
/** How far before the runtime's own start the mark is put: more than a coarse clock tick. */
const MARGIN_NS = 10_000_000n;

/** Every entry under `root` (readdir; symlinks are never followed), parents first, up to CAP. */
function eachEntry(root: string, visit: (rel: string, abs: string, e: fs.Dirent) => void): void {
  let n = 0;
  const walk = (dir: string, rel: string) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return; // gone meanwhile, or unreadable
    }
    for (const e of entries) {
      if (n++ >= CAP) return;
      const r = rel ? `${rel}/${e.name}` : e.name;
      const abs = path.join(dir, e.name);
      visit(r, abs, e);
      if (e.isDirectory()) walk(abs, r);
    }
  };
  walk(root, '');
}

/**
 * The names of the `D`/`F` + path, NUL-separated list the Controller wrote from its own base
 * snapshot (/factory/plan/base-entries), or undefined when there is none.
 */
export function readBaseEntries(file: string): Map<string, boolean> | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const names = new Map<string, boolean>();
  for (const item of text.split('\0')) if (item.length > 1) names.set(item.slice(1), item[0] === 'D');
  return names;
}

/**
 * `startedMs`: when the runtime started (the default); tests pass their own. `known`: the names
 * from `readBaseEntries`, when the Controller supplied them; otherwise the tree is listed here.
 */
export function beforeAgent(root: string, startedMs = Date.now() - process.uptime() * 1000, known?: Map<string, boolean>): BeforeAgent {
  const sinceNs = BigInt(Math.floor(startedMs)) * 1_000_000n - MARGIN_NS;
  if (known) return { names: known, sinceNs };
  const names = new Map<string, boolean>();
  eachEntry(root, (r, _abs, e) => names.set(r, e.isDirectory()));
  return { names, sinceNs };
}

/**
 * What changed since the mark, by GNU find: the non-directories whose inode changed, and the
 * folders whose entries changed (a create, unlink, rename or mkdir changes its folder's ctime);
 * undefined when find cannot run. Only changed entries are printed, so a large quiet tree costs
 * one stat pass in C and no parsing.
 */
function findChanged(root: string, sinceNs: bigint): { files: Set<string>; dirs: Set<string> } | undefined {
  const sec = sinceNs / 1_000_000_000n;
  const frac = String(sinceNs % 1_000_000_000n).padStart(9, '0');
  const r = spawnSync('find', ['.', '-newerct', `@${sec}.${frac}`, '-printf', '%y%P\\0'], {
    cwd: root,
    maxBuffer: 256 * 1024 * 1024,
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  // A file vanishing under find makes it exit 1 with the rest listed; anything else (no find,
  // not GNU find) falls back to the Node walk.
  if (r.error || !r.stdout || (r.status !== 0 && r.status !== 1)) return undefined;
  const files = new Set<string>();
  const dirs = new Set<string>();
  for (const item of r.stdout.toString('utf8').split('\0')) {
    if (!item) continue;
    (item[0] === 'd' ? dirs : files).add(item.slice(1));
  }
  return { files, dirs };
}

/** `changedFiles` from find's answer: deletions and type changes are looked for only in changed folders. */
function changedFromFind(root: string, before: BeforeAgent, found: { files: Set<string>; dirs: Set<string> }): string[] {
  const changed = new Set(found.files);
  const listings = new Map<string, Map<string, boolean> | undefined>();
  const listing = (dir: string) => {
    if (!listings.has(dir)) {
      try {
        listings.set(dir, new Map(fs.readdirSync(dir ? path.join(root, dir) : root, { withFileTypes: true }).map((e) => [e.name, e.isDirectory()])));
      } catch {
        listings.set(dir, undefined);
      }
    }
    return listings.get(dir);
  };
  const parentOf = (p: string) => {
    const i = p.lastIndexOf('/');
    return i < 0 ? '' : p.slice(0, i);
  };
  // Base folders that are no folders any more: everything that was below them is gone.
  const gone = new Set<string>();
  for (const [p, wasDir] of before.names) {
    const parent = parentOf(p);
    if (!found.dirs.has(parent)) continue;
    const now = listing(parent)?.get(p.slice(parent ? parent.length + 1 : 0));
    if (now === wasDir) continue;
    if (wasDir) gone.add(p);
    else changed.add(p);
  }
  if (gone.size) {
    for (const [p, wasDir] of before.names) {
      if (wasDir) continue;
      for (let a = parentOf(p); a; a = parentOf(a)) {
        if (gone.has(a)) {
          changed.add(p);
          break;
        }
      }
    }
  }
  return [...changed].sort();
}

/** The same answer from Node (images without GNU find): path → [is a directory, changed since the mark]. */
function walkAfter(root: string, sinceNs: bigint): Map<string, [boolean, boolean]> {
  const out = new Map<string, [boolean, boolean]>();
  eachEntry(root, (r, abs, e) => {
    const st = fs.lstatSync(abs, { bigint: true, throwIfNoEntry: false });
    if (st) out.set(r, [e.isDirectory(), !e.isDirectory() && st.ctimeNs > sinceNs]);
  });
  return out;
}

/** Files (not directories) created, changed or removed since `beforeAgent`, sorted. */
export function changedFiles(root: string, before: BeforeAgent, useFind = true): string[] {
  const found = useFind ? findChanged(root, before.sinceNs) : undefined;
  if (found) return changedFromFind(root, before, found);
  const after = walkAfter(root, before.sinceNs);
  const changed = new Set<string>();
  for (const [p, [isDir, newer]] of after) if (!isDir && (newer || before.names.get(p) !== false)) changed.add(p);
  for (const [p, wasDir] of before.names) if (!wasDir && after.get(p)?.[0] !== false) changed.add(p);
  return [...changed].sort();
}

export const testing = { findChanged };
