import type { Snapshot, SnapshotEntry } from './snapshot';

export type ChangeKind = 'added' | 'modified' | 'deleted' | 'type-changed';

export interface Change {
  path: string;
  kind: ChangeKind;
  /** Entry type before/after (undefined when absent). */
  before?: SnapshotEntry['type'];
  after?: SnapshotEntry['type'];
}

/**
 * The changeset between two snapshots of the staging tree: files, symlinks and special files that
 * were added, modified (content or mode), deleted or changed type. Directories only appear when a
 * directory turned into something else (or back); empty directories are not content.
 */
export function diffSnapshots(before: Snapshot, after: Snapshot): Change[] {
  const changes: Change[] = [];
  for (const [p, b] of before) {
    const a = after.get(p);
    if (!a) {
      if (b.type !== 'dir') changes.push({ path: p, kind: 'deleted', before: b.type });
      continue;
    }
    if (a.type !== b.type) {
      changes.push({ path: p, kind: 'type-changed', before: b.type, after: a.type });
    } else if (a.type !== 'dir' && (a.hash !== b.hash || a.mode !== b.mode || a.type === 'other')) {
      changes.push({ path: p, kind: 'modified', before: b.type, after: a.type });
    }
  }
  for (const [p, a] of after) {
    if (before.has(p) || a.type === 'dir') continue;
    changes.push({ path: p, kind: 'added', after: a.type });
  }
  return changes.sort((x, y) => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0));
}
