/**
 * The verified tree of a PASS: the git tree of exactly what the Gate verified — the base commit
 * with the Worker's changeset — built in a temporary index (the user's index is never touched),
 * so a person can later check that a commit holds that tree and re-run the Gate on it.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runGit as hostGit } from '../git/git';
import { FactoryError } from '../util/errors';

/** One changed path as the evidence records it: its git blob and mode after the change (null: deleted). */
export interface VerifiedChange {
  /** Relative to the workspace root (as the changeset names it). */
  path: string;
  kind: string;
  blob: string | null;
  mode: string | null;
}

export interface VerifiedTree {
  /** The git tree id of the whole repository's verified tree. */
  tree: string;
  base: string;
  /** The workspace root's folder inside the repository (`''` at the top, else `pkg/`). */
  prefix: string;
  changes: VerifiedChange[];
  linesAdded: number;
  linesRemoved: number;
}

interface GitOut {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * git through src/core/git (the Controller's one hardening: no hooks, fsmonitor, pager, filter
 * drivers or credential helpers of the repository), with an optional temporary index and stdin.
 * A signal that fires ends the call with FactoryError `interrupted`.
 */
export async function runGit(root: string, args: string[], opts: { index?: string; input?: string; signal?: AbortSignal } = {}): Promise<GitOut> {
  const r = await hostGit(root, args, { ...(opts.index ? { index: opts.index } : {}), ...(opts.input !== undefined ? { input: opts.input } : {}), ...(opts.signal ? { signal: opts.signal } : {}) });
  return { code: r.code, stdout: r.stdout.toString('utf8'), stderr: r.stderr };
}

/** Like {@link runGit}, but a non-zero exit is a `git-failed` error naming the command. */
export async function gitOk(root: string, args: string[], opts: Parameters<typeof runGit>[2] = {}): Promise<string> {
  const r = await runGit(root, args, opts);
  if (r.code !== 0) throw new FactoryError(`git ${args.slice(0, 2).join(' ')} failed in ${root}: ${r.stderr.trim() || `exit ${r.code}`}`, 'git-failed');
  return r.stdout;
}

/** The workspace root's folder inside its repository, `''` or ending in `/`. */
export async function repoPrefix(root: string, signal?: AbortSignal): Promise<string> {
  return (await gitOk(root, ['rev-parse', '--show-prefix'], signal ? { signal } : {})).trim();
}

/** An index entry to set (mode + object) or a path to remove, relative to the repository's top. */
export type IndexEdit = { path: string; mode: string; sha: string } | { path: string; remove: true };

/**
 * The tree of `base` with `edits` applied, through a temporary index in a temp folder. Removals
 * go first, so a file that became a folder (or back) is replaced cleanly.
 */
export async function treeWithEdits(root: string, base: string, edits: readonly IndexEdit[], signal?: AbortSignal): Promise<string> {
  const tmp = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'factory-tree-'));
  const opts = { index: path.join(tmp, 'index'), ...(signal ? { signal } : {}) };
  try {
    await gitOk(root, ['read-tree', '--end-of-options', base], opts);
    return await editIndex(root, opts, edits);
  } finally {
    await fs.promises.rm(tmp, { recursive: true, force: true });
  }
}

/** Apply `edits` to the temporary index `opts.index` (removals first) and write its tree. */
async function editIndex(root: string, opts: { index: string; signal?: AbortSignal }, edits: readonly IndexEdit[]): Promise<string> {
  const removed = edits.filter((e) => 'remove' in e).map((e) => e.path);
  if (removed.length) await gitOk(root, ['update-index', '-z', '--force-remove', '--stdin'], { ...opts, input: removed.map((p) => p + '\0').join('') });
  const set = edits.flatMap((e) => ('sha' in e ? [`${e.mode} ${e.sha}\t${e.path}\0`] : []));
  if (set.length) await gitOk(root, ['update-index', '-z', '--add', '--replace', '--index-info'], { ...opts, input: set.join('') });
  return (await gitOk(root, ['write-tree'], opts)).trim();
}

/** Lines added and removed between two trees (binary files count 0). */
export async function lineCounts(root: string, from: string, to: string, signal?: AbortSignal): Promise<{ added: number; removed: number }> {
  const out = await gitOk(root, ['diff-tree', '-r', '--no-renames', '--numstat', '-z', from, to], signal ? { signal } : {});
  let added = 0;
  let removed = 0;
  for (const rec of out.split('\0')) {
    const m = /^(\d+|-)\t(\d+|-)\t/.exec(rec);
    if (!m) continue;
    added += m[1] === '-' ? 0 : Number(m[1]);
    removed += m[2] === '-' ? 0 : Number(m[2]);
  }
  return { added, removed };
}

/** Paths whose entries differ between two trees (relative to the repository's top). */
export async function differingPaths(root: string, a: string, b: string, signal?: AbortSignal): Promise<string[]> {
  const out = await gitOk(root, ['diff-tree', '-r', '--no-renames', '--name-only', '-z', a, b], signal ? { signal } : {});
  return out.split('\0').filter(Boolean);
}

type Stored = { sha: string; mode: string } | null;

/**
 * Store the changed paths of the staging tree as blobs (regular files in one `hash-object
 * --stdin-paths` call, symlinks by their target); null for a path that is gone or not a file/link.
 */
async function hashChanges(root: string, workspace: string, rels: readonly string[], signal?: AbortSignal): Promise<Stored[]> {
  const opts = signal ? { signal } : {};
  const out: Stored[] = rels.map(() => null);
  const files: { i: number; abs: string; mode: string }[] = [];
  for (const [i, rel] of rels.entries()) {
    const abs = path.join(workspace, ...rel.split('/'));
    const st = await fs.promises.lstat(abs).catch(() => undefined);
    if (st?.isSymbolicLink()) {
      const target = await fs.promises.readlink(abs);
      out[i] = { sha: (await gitOk(root, ['hash-object', '-w', '--stdin'], { ...opts, input: target })).trim(), mode: '120000' };
    } else if (st?.isFile()) files.push({ i, abs, mode: st.mode & 0o100 ? '100755' : '100644' });
  }
  if (files.some((f) => /[\n\r]/.test(f.abs))) throw new FactoryError(`a changed path has a line break in its name; git hash-object --stdin-paths cannot take it: ${JSON.stringify(files.find((f) => /[\n\r]/.test(f.abs))!.abs)}`, 'git-failed');
  if (files.length) {
    const shas = (await gitOk(root, ['hash-object', '-w', '--no-filters', '--stdin-paths'], { ...opts, input: files.map((f) => f.abs + '\n').join('') })).trim().split('\n');
    for (const [k, f] of files.entries()) out[f.i] = { sha: shas[k], mode: f.mode };
  }
  return out;
}

/** The state of each changed path when its blob was taken ('-' when absent): a later change to one shows here. */
function stateOf(workspace: string, rels: readonly string[]): string {
  return rels
    .map((rel) => {
      const st = fs.lstatSync(path.join(workspace, ...rel.split('/')), { bigint: true, throwIfNoEntry: false });
      return st ? `${st.mode} ${st.ino} ${st.size} ${st.mtimeNs} ${st.ctimeNs}` : '-';
    })
    .join('|');
}

interface Early {
  /** The changed paths' state before the blobs were taken. */
  state: string;
  tree: Promise<VerifiedTree | null>;
}

/** Verified trees computed ahead (`prefetchVerifiedTree`), by their inputs; a handful at most. */
const early = new Map<string, Early>();
const EARLY_MAX = 8;

function earlyKey(root: string, baseCommit: string, workspace: string, changes: readonly { path: string; kind: string }[]): string {
  return JSON.stringify([path.resolve(root), baseCommit, path.resolve(workspace), changes.map((c) => [c.path, c.kind])]);
}

/**
 * Start computing the verified tree now (DO, once the changeset is known), while the Gate runs on
 * the same read-only copy; `buildVerifiedTree` with the same inputs takes it over — unless a
 * changed path's state (mode, inode, size, mtime, ctime) differs from when its blob was taken,
 * then it computes afresh. A failure here is never reported: the later call computes it again.
 * `signal` (the cycle's) stops the git calls. Resolves when it is done (never rejects).
 */
export function prefetchVerifiedTree(root: string, baseCommit: string, workspace: string, changes: readonly { path: string; kind: string }[], signal?: AbortSignal): Promise<unknown> {
  const key = earlyKey(root, baseCommit, workspace, changes);
  const known = early.get(key);
  if (known) return known.tree;
  const state = stateOf(workspace, changes.map((c) => c.path));
  const tree = computeVerifiedTree(root, baseCommit, workspace, changes, signal).catch(() => null);
  early.set(key, { state, tree });
  for (const k of early.keys()) {
    if (early.size <= EARLY_MAX) break;
    early.delete(k);
  }
  return tree;
}

/**
 * The verified tree: `baseCommit`'s tree with every change of the staging copy's `workspace`
 * (its blobs written to the repository's object store, as `git add` would), computed in a
 * temporary index; plus each change's blob and mode and the changeset's size in lines. Taken
 * over from `prefetchVerifiedTree` when it was started with the same inputs and no changed path
 * changed since.
 */
export async function buildVerifiedTree(
  root: string,
  baseCommit: string,
  workspace: string,
  changes: readonly { path: string; kind: string }[],
  signal?: AbortSignal,
): Promise<VerifiedTree> {
  const key = earlyKey(root, baseCommit, workspace, changes);
  const ahead = early.get(key);
  early.delete(key);
  if (ahead) {
    const v = await ahead.tree;
    if (v && stateOf(workspace, changes.map((c) => c.path)) === ahead.state) return v;
  }
  return computeVerifiedTree(root, baseCommit, workspace, changes, signal);
}

async function computeVerifiedTree(
  root: string,
  baseCommit: string,
  workspace: string,
  changes: readonly { path: string; kind: string }[],
  signal?: AbortSignal,
): Promise<VerifiedTree> {
  // The prefix, the changed files' blobs and the base in a temporary index do not depend on each other: side by side.
  const tmp = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'factory-tree-'));
  const opts = { index: path.join(tmp, 'index'), ...(signal ? { signal } : {}) };
  const recorded: VerifiedChange[] = [];
  try {
    const [prefix, stored] = await Promise.all([
      repoPrefix(root, signal),
      hashChanges(root, workspace, changes.map((c) => (c.kind === 'deleted' ? '' : c.path)), signal),
      gitOk(root, ['read-tree', '--end-of-options', baseCommit], opts),
    ]);
    const edits: IndexEdit[] = [];
    for (const [i, c] of changes.entries()) {
      const entry = c.kind === 'deleted' ? null : stored[i]!;
      recorded.push({ path: c.path, kind: c.kind, blob: entry?.sha ?? null, mode: entry?.mode ?? null });
      edits.push(entry ? { path: prefix + c.path, ...entry } : { path: prefix + c.path, remove: true });
    }
    const tree = await editIndex(root, opts, edits);
    const lines = await lineCounts(root, baseCommit, tree, signal);
    return { tree, base: baseCommit, prefix, changes: recorded, linesAdded: lines.added, linesRemoved: lines.removed };
  } finally {
    await fs.promises.rm(tmp, { recursive: true, force: true });
  }
}
