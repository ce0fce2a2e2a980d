/**
 * The first half of `factory evidence-check --reproduce`: find the commit that holds a run's
 * change (by its `Factory-Run:` trailer, from HEAD) and rebuild the verified tree from it — the
 * commit's versions of the changed paths over its parent's tree — then check that tree is the one
 * the evidence recorded.
 */
import type { VerifiedRecord } from './evidence-format';
import { runTrailer } from './readme';
import { differingPaths, gitOk, runGit, treeWithEdits, type IndexEdit } from './verified-tree';

export interface TreeCheck {
  /** The commit holding the run's change, or null when none reachable from HEAD carries the trailer. */
  commit: string | null;
  rebuilt: string | null;
  matches: boolean;
  /** Paths (relative to the workspace root) whose content is not what was verified. */
  differing: string[];
  problems: string[];
  warnings: string[];
}

/** Commits reachable from HEAD whose message has the trailer `Factory-Run: <runId>`, newest first. */
export async function commitsOfRun(root: string, runId: string, signal?: AbortSignal): Promise<string[]> {
  const pattern = `^${runTrailer(runId).replace(/[.[\]*^$\\]/g, '\\$&')}$`;
  const r = await runGit(root, ['log', '--format=%H', '--grep', pattern, 'HEAD', '--'], signal ? { signal } : {});
  return r.code === 0 ? r.stdout.split('\n').filter(Boolean) : [];
}

interface TreeEntry {
  mode: string;
  type: string;
  sha: string;
}

/** The entries of `paths` (relative to the repository's top) in commit `commit`. */
async function entriesAt(root: string, commit: string, paths: readonly string[], signal?: AbortSignal): Promise<Map<string, TreeEntry>> {
  const out = new Map<string, TreeEntry>();
  if (paths.length === 0) return out;
  const text = await gitOk(root, ['--literal-pathspecs', 'ls-tree', '-z', '--full-tree', commit, '--', ...paths], signal ? { signal } : {});
  for (const rec of text.split('\0')) {
    const m = /^(\d+) (\w+) ([0-9a-f]+)\t(.*)$/s.exec(rec);
    if (m) out.set(m[4], { mode: m[1], type: m[2], sha: m[3] });
  }
  return out;
}

async function objectExists(root: string, id: string, signal?: AbortSignal): Promise<boolean> {
  return (await runGit(root, ['cat-file', '-e', `${id}^{tree}`], signal ? { signal } : {})).code === 0;
}

/** The recorded changes whose blob or mode in `entries` is not the verified one. */
function changedEntries(v: VerifiedRecord, entries: ReadonlyMap<string, TreeEntry>): string[] {
  return v.changes
    .filter((c) => {
      const e = entries.get(v.prefix + c.path);
      if (c.blob === null) return e !== undefined;
      return !e || e.type !== 'blob' || e.sha !== c.blob || e.mode !== c.mode;
    })
    .map((c) => c.path);
}

/**
 * Rebuild the verified tree of run `runId` from its commit and compare it with the recorded one.
 * A mismatch names the differing files (and the parent, when it is not the verified base).
 */
export async function checkRunTree(root: string, runId: string, v: VerifiedRecord, signal?: AbortSignal): Promise<TreeCheck> {
  const out: TreeCheck = { commit: null, rebuilt: null, matches: false, differing: [], problems: [], warnings: [] };
  const commits = await commitsOfRun(root, runId, signal);
  if (commits.length === 0) {
    out.problems.push(`no commit reachable from HEAD carries the trailer "${runTrailer(runId)}": the run was not committed (git.commit off) or is on another branch`);
    return out;
  }
  const commit = commits[0];
  out.commit = commit;
  if (commits.length > 1) out.warnings.push(`${commits.length} commits carry "${runTrailer(runId)}"; the newest, ${commit.slice(0, 12)}, is checked`);
  const parent = await runGit(root, ['rev-parse', '--verify', '-q', `${commit}^1`], signal ? { signal } : {});
  if (parent.code !== 0) {
    out.problems.push(`commit ${commit.slice(0, 12)} has no parent: it cannot hold a change over the verified base ${v.base_commit.slice(0, 12)}`);
    return out;
  }
  const parentId = parent.stdout.trim();
  const entries = await entriesAt(root, commit, v.changes.map((c) => v.prefix + c.path), signal);
  const edits: IndexEdit[] = v.changes.map((c) => {
    const e = entries.get(v.prefix + c.path);
    return e && e.type === 'blob' ? { path: v.prefix + c.path, mode: e.mode, sha: e.sha } : { path: v.prefix + c.path, remove: true as const };
  });
  out.rebuilt = await treeWithEdits(root, parentId, edits, signal);
  out.matches = out.rebuilt === v.tree;
  if (out.matches) return out;
  const strip = (p: string) => (v.prefix && p.startsWith(v.prefix) ? p.slice(v.prefix.length) : p);
  out.differing = (await objectExists(root, v.tree, signal)) ? (await differingPaths(root, v.tree, out.rebuilt, signal)).map(strip) : changedEntries(v, entries);
  const base = parentId === v.base_commit ? '' : ` (its parent ${parentId.slice(0, 12)} is not the verified base ${v.base_commit.slice(0, 12)})`;
  out.problems.push(`the tree of ${commit.slice(0, 12)} is not the tree that was verified (${v.tree.slice(0, 12)})${base}: ${out.differing.join(', ') || 'the base differs'}`);
  return out;
}
