import * as fs from 'node:fs';
import * as path from 'node:path';

/** path → "size:mtime:type" of every entry under `root` (no symlink following), capped. */
export function quickSnapshot(root: string, cap = 100_000): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (dir: string, rel: string) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (out.size >= cap) return;
      const r = rel ? `${rel}/${e.name}` : e.name;
      const abs = path.join(dir, e.name);
      let st: fs.Stats;
      try {
        st = fs.lstatSync(abs);
      } catch {
        continue;
      }
      if (st.isDirectory()) walk(abs, r);
      else out.set(r, `${st.size}:${st.mtimeMs}:${st.isSymbolicLink() ? 'l' : 'f'}`);
    }
  };
  walk(root, '');
  return out;
}

/**
 * The Worker's own list of changed files for result.json (`files_changed`). Informational only:
 * the Controller computes the real changeset itself from lstat snapshots and content hashes.
 */
export function changedFiles(before: Map<string, string>, after: Map<string, string>): string[] {
  const changed = new Set<string>();
  for (const [p, v] of after) if (before.get(p) !== v) changed.add(p);
  for (const p of before.keys()) if (!after.has(p)) changed.add(p);
  return [...changed].sort();
}
