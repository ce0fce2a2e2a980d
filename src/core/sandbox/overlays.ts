import * as fs from 'node:fs';
import * as path from 'node:path';
import picomatch from 'picomatch';
import type { EntryType } from '../changeset/snapshot';
import { checkRepoPath } from '../paths/validate';
import { globPrefixes } from './staging';

/** Path → type, of a whole tree (a Snapshot) or of the parts of it some globs can name (`overlayListing`). */
export type TreeListing = ReadonlyMap<string, { type: EntryType }>;

/**
 * The entries of the staging copy that `globs` can name, without walking the rest: each glob's
 * literal folder (or file) is looked up one path part at a time with lstat — a symlink is never
 * followed, not even as a middle part — and a folder found is listed below it. What
 * `overlayTargets` needs before the Worker starts, while the full snapshot is still being taken.
 */
export function overlayListing(ws: string, globs: readonly string[]): TreeListing {
  const out = new Map<string, { type: EntryType }>();
  const typeOf = (st: fs.Stats): EntryType => (st.isFile() ? 'file' : st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : 'other');
  // How deep below its literal folder a glob can reach: as many parts as it has there, unless a
  // globstar or a brace (which may hold a slash) makes it unbounded. `.env.*` needs the top
  // folder only, not a walk of the whole tree.
  const depthOf = (glob: string, prefix: string): number => {
    const rest = glob.replace(/^\.\//, '').replace(/\/+$/, '').slice(prefix ? prefix.length + 1 : 0);
    return /\*\*|\{/.test(rest) ? Infinity : rest.split('/').length;
  };
  const depth = new Map<string, number>();
  for (const g of globs) {
    const prefix = globPrefixes([g])[0] ?? '';
    depth.set(prefix, Math.max(depth.get(prefix) ?? 0, depthOf(g, prefix)));
  }
  const listed = new Map<string, number>();
  const list = (rel: string, maxDepth: number) => {
    const stack: Array<[string, number]> = [[rel, maxDepth]];
    while (stack.length) {
      const [dir, left] = stack.pop()!;
      if (left <= 0 || (listed.get(dir) ?? 0) >= left) continue; // listed as deep already
      listed.set(dir, left);
      for (const name of fs.readdirSync(dir ? path.join(ws, dir) : ws)) {
        const r = dir ? `${dir}/${name}` : name;
        let type = out.get(r)?.type;
        if (!type) {
          const st = fs.lstatSync(path.join(ws, r), { throwIfNoEntry: false });
          if (!st) continue;
          type = typeOf(st);
          out.set(r, { type });
        }
        if (type === 'dir') stack.push([r, left - 1]);
      }
    }
  };
  for (const [prefix, maxDepth] of depth) {
    if (prefix === '') {
      list('', maxDepth);
      continue;
    }
    let rel = '';
    let st: fs.Stats | undefined;
    for (const part of prefix.split('/')) {
      if (rel && !st?.isDirectory()) {
        st = undefined; // a file, a symlink or nothing in the middle: the path names nothing here
        break;
      }
      rel = rel ? `${rel}/${part}` : part;
      st = fs.lstatSync(path.join(ws, rel), { throwIfNoEntry: false });
      if (!st) break;
    }
    if (!st) continue;
    out.set(prefix, { type: typeOf(st) });
    if (st.isDirectory()) list(prefix, maxDepth);
  }
  return out;
}

/**
 * Files (or whole folders for `dir/**` globs) of the staging copy to overlay read-only. `before`
 * is the snapshot of the copy, or `overlayListing` of the same globs.
 */
export function overlayTargets(before: TreeListing, globs: readonly string[]): string[] {
  const dirs = new Set<string>();
  const fileGlobs: string[] = [];
  for (const g of globs) {
    const m = /^(.+)\/\*\*$/.exec(g);
    if (m && !/[*?[\]{}()!]/.test(m[1]) && before.get(m[1])?.type === 'dir') dirs.add(m[1]);
    else fileGlobs.push(g);
  }
  const inDir = (p: string) => [...dirs].some((d) => p.startsWith(d + '/'));
  const files = new Set<string>();
  const take = (p: string) => {
    if (before.get(p)?.type === 'file' && !inDir(p) && !checkRepoPath(p, { protect: false })) files.add(p);
  };
  // Literal paths are looked up; a wildcard glob is matched only against entries under its
  // literal folder (a 10,000-file tree is not run through picomatch for `engine/fees.py`).
  const wild: string[] = [];
  for (const g of fileGlobs) {
    const prefix = globPrefixes([g])[0] ?? '';
    if (prefix === g.replace(/^\.\//, '').replace(/\/+$/, '')) take(prefix);
    else wild.push(g);
  }
  if (wild.length) {
    const prefixes = globPrefixes(wild);
    const match = picomatch(wild, { dot: true, nonegate: true, noextglob: true });
    const under = (p: string) => prefixes.some((d) => d === '' || p === d || p.startsWith(d + '/'));
    for (const p of before.keys()) if (under(p) && match(p)) take(p);
  }
  return [...dirs, ...files].sort();
}
