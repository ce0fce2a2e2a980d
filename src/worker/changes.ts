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
 * - after it: every file whose inode changed (ctime) since then, by GNU find (≈ 20 ms for 10,000
 *   files on one CPU, against ≈ 70 ms for the same stat walk in Node), plus the names now gone.
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
  const walk = (dir: string, rel: string) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (names.size >= CAP) return;
      const r = rel ? `${rel}/${e.name}` : e.name;
      names.set(r, e.isDirectory());
      if (e.isDirectory()) walk(path.join(dir, e.name), r);
    }
  };
  walk(root, '');
  return { names, sinceNs };
}

/** path → [is a directory, changed since the mark], by find; undefined when find cannot run. */
function findAfter(root: string, sinceNs: bigint): Map<string, [boolean, boolean]> | undefined {
  const sec = sinceNs / 1_000_000_000n;
  const frac = String(sinceNs % 1_000_000_000n).padStart(9, '0');
  const r = spawnSync('find', ['.', '-mindepth', '1', '(', '-type', 'd', '-printf', 'D%P\\0', ')', '-o', '(', '-newerct', `@${sec}.${frac}`, '-printf', 'C%P\\0', ')', '-o', '-printf', 'N%P\\0'], {
    cwd: root,
    maxBuffer: 256 * 1024 * 1024,
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  // A file vanishing under find makes it exit 1 with a full listing otherwise; anything else
  // (no find, not GNU find) falls back to the walk below.
  if (r.error || !r.stdout || (r.status !== 0 && r.status !== 1)) return undefined;
  const out = new Map<string, [boolean, boolean]>();
  for (const item of r.stdout.toString('utf8').split('\0')) {
    if (!item) continue;
    out.set(item.slice(1), [item[0] === 'D', item[0] === 'C']);
    if (out.size >= CAP) break;
  }
  return out;
}

/** The same answer from Node (images without GNU find). */
function walkAfter(root: string, sinceNs: bigint): Map<string, [boolean, boolean]> {
  const out = new Map<string, [boolean, boolean]>();
  const walk = (dir: string, rel: string) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (out.size >= CAP) return;
      const r = rel ? `${rel}/${e.name}` : e.name;
      const abs = path.join(dir, e.name);
      let st: fs.BigIntStats;
      try {
        st = fs.lstatSync(abs, { bigint: true });
      } catch {
        continue;
      }
      const isDir = st.isDirectory();
      out.set(r, [isDir, !isDir && st.ctimeNs > sinceNs]);
      if (isDir) walk(abs, r);
    }
  };
  walk(root, '');
  return out;
}

/** Files (not directories) created, changed or removed since `beforeAgent`, sorted. */
export function changedFiles(root: string, before: BeforeAgent): string[] {
  const after = findAfter(root, before.sinceNs) ?? walkAfter(root, before.sinceNs);
  const changed = new Set<string>();
  for (const [p, [isDir, newer]] of after) if (!isDir && (newer || before.names.get(p) !== false)) changed.add(p);
  for (const [p, wasDir] of before.names) if (!wasDir && after.get(p)?.[0] !== false) changed.add(p);
  return [...changed].sort();
}

export const testing = { findAfter, walkAfter };
