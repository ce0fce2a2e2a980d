import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Directory names never part of "the tree under test": VCS metadata and caches that running the
 * Gate itself creates (hashing them would make every second run a cache miss).
 */
export const TREE_HASH_SKIP_DIRS: readonly string[] = ['.git', '__pycache__', '.pytest_cache', '.mypy_cache', '.ruff_cache', '.factory-cache'];

export interface TreeHashOptions {
  /** Repo-relative directories (forward slashes) left out, e.g. the evidence and autopilot folders. */
  exclude?: string[];
}

/**
 * A content hash of a directory tree: every regular file's path, executable bit and bytes, every
 * symlink's path and target text (never followed), sorted by path so the walk order does not
 * matter. Two trees with the same hash give the Gate the same input.
 */
export function hashTree(root: string, opts: TreeHashOptions = {}): string {
  const exclude = new Set((opts.exclude ?? []).map((p) => p.replace(/\\/g, '/').replace(/\/+$/, '')));
  const skip = new Set(TREE_HASH_SKIP_DIRS);
  const entries: string[] = [];
  const walk = (abs: string, rel: string) => {
    const dirents = fs.readdirSync(abs, { withFileTypes: true });
    for (const d of dirents) {
      const childRel = rel ? `${rel}/${d.name}` : d.name;
      const childAbs = path.join(abs, d.name);
      if (d.isDirectory()) {
        // Directories are not entries of their own: creating an excluded folder's parent (the
        // first run makes `logs/`) must not change the hash.
        if (skip.has(d.name) || exclude.has(childRel)) continue;
        walk(childAbs, childRel);
      } else if (d.isSymbolicLink()) {
        entries.push(`l ${childRel}\0${fs.readlinkSync(childAbs)}`);
      } else if (d.isFile()) {
        if (d.name.endsWith('.pyc')) continue;
        const st = fs.statSync(childAbs);
        const h = createHash('sha256').update(fs.readFileSync(childAbs)).digest('hex');
        entries.push(`f ${st.mode & 0o111 ? 'x' : '-'} ${childRel}\0${h}`);
      }
      // Sockets, FIFOs and devices carry no content a test could read reproducibly.
    }
  };
  walk(root, '');
  entries.sort();
  const h = createHash('sha256');
  for (const e of entries) h.update(e).update('\n');
  return h.digest('hex');
}
