import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import picomatch from 'picomatch';
import { runGit, spawnGit, unsafeDirectoryError } from '../git/git';
import { FactoryError } from '../util/errors';
import { chooseStagingRoot, realMachine, type MachineFacts, type StagingRootChoice } from './staging-root';
import { TarUsageMeter } from './tar-usage';

/** uid:gid the Worker runs as: 1000:1000 when the Controller is root, else the Controller's own ids. */
export function workerIdentity(): { uid: number; gid: number } {
  const uid = typeof process.getuid === 'function' ? process.getuid() : 1000;
  const gid = typeof process.getgid === 'function' ? process.getgid() : 1000;
  if (uid === 0) return { uid: 1000, gid: 1000 };
  return { uid, gid: gid === 0 ? uid : gid };
}

/** The commit `ref` names in the repository at `root` (full hash). */
export async function resolveCommit(root: string, ref = 'HEAD', signal?: AbortSignal): Promise<string> {
  const r = await runGit(root, ['rev-parse', '--verify', '--end-of-options', `${ref}^{commit}`], signal ? { signal } : {});
  if (r.code !== 0) throw new FactoryError(`${root} has no commit ${ref} (the staging copy exports a commit): ${r.stderr.trim()}`, 'no-commit');
  return r.stdout.toString().trim();
}

/** What the host repository says before a cycle: HEAD, and the paths that differ from it. */
export interface HostChanges {
  /** Full id of HEAD, null in a repository without commits. */
  head: string | null;
  /**
   * Paths under the folders the globs can reach (relative to `root`) that differ from HEAD:
   * modified, staged, deleted, renamed (both names) or untracked. Filter with the globs.
   */
  paths: string[];
}

/**
 * HEAD and the changed paths under the folders `globs` can reach, in two git calls side by side:
 * `rev-parse` (where `root` sits in its repository, and HEAD) and one `git status -z` limited to
 * those folders, so a 10,000-file repository is not walked for `engine/**` and odd names arrive
 * intact.
 */
export async function hostChanges(root: string, globs: readonly string[], signal?: AbortSignal): Promise<HostChanges> {
  const scopes = globPrefixes(globs);
  const pathspecs = scopes.includes('') ? ['.'] : scopes.map((d) => `:(literal)${d}`);
  const [rp, st] = await Promise.all([
    runGit(root, ['rev-parse', '--show-prefix', '--verify', '-q', 'HEAD^{commit}'], signal ? { signal } : {}),
    // --ignore-submodules=dirty: git does not look into a submodule's work tree (its own config's filters never run).
    globs.length ? runGit(root, ['status', '--porcelain=v1', '-z', '--untracked-files=all', '--ignored=no', '--ignore-submodules=dirty', '--', ...pathspecs], signal ? { signal } : {}) : undefined,
  ]);
  // Without a commit rev-parse still prints the prefix, then fails the HEAD lookup (exit 1).
  if (rp.code !== 0 && rp.code !== 1) throw new FactoryError(`${root} is not inside a git repository: ${rp.stderr.trim()}`, 'not-a-repo');
  const [prefix = '', head = ''] = rp.stdout.toString('utf8').split('\n');
  if (!st) return { head: head || null, paths: [] };
  if (st.code !== 0) throw new FactoryError(`git status failed in ${root}: ${st.stderr.trim()}`, 'git-status');
  // Porcelain paths are relative to the repository's top; keep those under `root`, relative to it.
  const fields = st.stdout.toString('utf8').split('\0');
  const paths: string[] = [];
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i] ?? '';
    if (f.length < 4) continue;
    const xy = f.slice(0, 2);
    paths.push(f.slice(3));
    // Renames and copies carry the original path in the next field.
    if (xy[0] === 'R' || xy[0] === 'C') paths.push(fields[++i] ?? '');
  }
  const local = paths.filter((p) => p.startsWith(prefix)).map((p) => p.slice(prefix.length)).filter(Boolean);
  return { head: rp.code === 0 && head ? head : null, paths: [...new Set(local)].sort() };
}

/** Those of `changed` (root-relative) that any of `globs` matches. */
export function matchingPaths(changed: readonly string[], globs: readonly string[]): string[] {
  if (globs.length === 0) return [];
  const match = picomatch([...globs], { dot: true, nonegate: true, noextglob: true });
  return changed.filter((p) => match(p));
}

/**
 * Host paths that differ from HEAD (modified, staged, deleted, renamed or untracked) and match
 * any of `globs`. Paths come from `git status -z`, so odd names arrive intact.
 */
export async function dirtyPaths(root: string, globs: readonly string[], signal?: AbortSignal): Promise<string[]> {
  if (globs.length === 0) return [];
  return matchingPaths((await hostChanges(root, globs, signal)).paths, globs);
}

/** The refusal when scope.modify paths are dirty on the host (the Worker sees HEAD, ADJUST would overwrite them). */
export function dirtyScopeError(dirty: readonly string[]): FactoryError {
  return new FactoryError(`refusing to start: paths in scope.modify have uncommitted changes on the host: ${dirty.map((p) => JSON.stringify(p)).join(', ')}`, 'scope-dirty');
}

/**
 * The literal folder each glob starts with (`engine/**` → `engine`, `src/*.py` → `src`, `''`
 * for a glob that starts with a wildcard): every path the glob can match lies under it.
 */
export function globPrefixes(globs: readonly string[]): string[] {
  const out = new Set<string>();
  for (const g of globs) {
    const clean = g.replace(/^\.\//, '');
    const parts = clean.split('/');
    if (!/[*?[\]{}()!+@\\]/.test(clean) && !parts.includes('..')) {
      out.add(clean.replace(/\/+$/, '')); // a literal path: just that file (or folder)
      continue;
    }
    const literal: string[] = [];
    // The last part names files, and a part with a glob character (or an escape) ends the prefix.
    for (const part of parts.slice(0, -1)) {
      if (/[*?[\]{}()!+@\\]/.test(part) || part === '..' || part === '.' || part === '') break;
      literal.push(part);
    }
    out.add(literal.join('/'));
  }
  return [...out].sort();
}

/**
 * Which of `paths` (relative to `root`, untracked in the base) the HOST repository's ignore rules
 * ignore (.gitignore files, .git/info/exclude, core.excludesFile) — e.g. `__pycache__/`,
 * `node_modules/` a Worker's tools create. The rules are read on the host, never from the
 * Worker's copy, so a Worker cannot widen them. Ignored paths are never applied.
 */
export async function ignoredPaths(root: string, paths: readonly string[], signal?: AbortSignal): Promise<Set<string>> {
  if (paths.length === 0) return new Set();
  const input = Buffer.from(paths.map((p) => p + '\0').join(''));
  const r = await runGit(root, ['check-ignore', '-z', '--stdin'], { input, ...(signal ? { signal } : {}) });
  // 0: some ignored, 1: none ignored; anything else is an error (then nothing counts as ignored).
  if (r.code !== 0 && r.code !== 1) throw new FactoryError(`git check-ignore failed in ${root}: ${r.stderr.trim()}`, 'git-check-ignore');
  return new Set(r.stdout.toString('utf8').split('\0').filter(Boolean));
}

/** A staging copy: the base commit's tracked files, owned by the Worker user. */
export interface StagingCopy {
  /** The temp folder holding everything below (`<staging root>/factory-<runId>-XXXX`). */
  dir: string;
  /** Where `dir` was made and why (RAM or disk; see staging-root.ts). */
  placement: StagingRootChoice;
  /** The exported tree; mounted at /workspace. */
  workspace: string;
  /** Read-only control folder (plan.json); mounted at /factory/plan. */
  control: string;
  /** The Worker's output folder (result.json); mounted at /factory/out. */
  output: string;
  baseCommit: string;
  /** The folder exported (the repository root or a folder inside it). */
  source: string;
  uid: number;
  gid: number;
  /** Delete the whole staging folder. Idempotent. */
  dispose(): void;
  /**
   * Delete it off the caller's path (a 10,000-file copy takes ≈ 0.1 s): the caller goes on, the
   * process stays alive until the deletion is done. Resolves when it is; never rejects.
   */
  disposeInBackground(): Promise<void>;
}

/** Safe folder-name fragment of a run id. */
function slug(runId: string): string {
  return runId.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 80) || 'run';
}

export interface StagingOptions {
  root: string;
  runId: string;
  modify: readonly string[];
  ref?: string;
  /** The commit already resolved (full id, e.g. the plan's base commit): exported as is, no `rev-parse`. */
  commit?: string;
  /** The caller has refused dirty scope.modify paths itself (the cycle does it in PLAN, with `hostChanges`). */
  dirtyChecked?: boolean;
  signal?: AbortSignal;
  /** The Worker's growth allowance and memory limit (MiB), which decide whether the copy fits in RAM. */
  workspaceMb?: number;
  memoryMb?: number;
  /** Tests: the machine's facts for the choice of root. */
  machine?: MachineFacts;
}

/**
 * Export commit `ref` of `root` into a fresh temp folder (SECURITY 13): `git archive` streams the
 * tracked files of the commit — never `.git`, never ignored or untracked files such as `.env` —
 * into `tar -x` running as the Worker user, so the copy is owned by that user without a chown pass.
 * Refuses (naming them) when any `scope.modify` path is dirty on the host. The folder is in RAM
 * when the tree fits (staging-root.ts), else in the temp folder.
 */
export async function createStagingCopy(opts: StagingOptions): Promise<StagingCopy> {
  const root = path.resolve(opts.root);
  const baseCommit = opts.commit && /^[0-9a-f]{40,64}$/.test(opts.commit) ? opts.commit : await resolveCommit(root, opts.commit ?? opts.ref ?? 'HEAD', opts.signal);
  const exported = () => exportPlaced(root, opts, baseCommit);
  // The dirty check and the export read different things (the working tree, the commit): run
  // them side by side, and drop the copy when the check refuses.
  const [dirty, copy] = await Promise.allSettled([opts.dirtyChecked ? Promise.resolve([]) : dirtyPaths(root, opts.modify, opts.signal), exported()]);
  if (dirty.status === 'fulfilled' && dirty.value.length === 0 && copy.status === 'fulfilled') return copy.value;
  if (copy.status === 'fulfilled') copy.value.dispose();
  if (dirty.status === 'rejected') throw dirty.reason;
  if (dirty.value.length) throw dirtyScopeError(dirty.value);
  throw (copy as PromiseRejectedResult).reason;
}

/** Export into the root the machine allows (RAM when the tree fits), moving to disk when it does not. */
async function exportPlaced(root: string, opts: StagingOptions, baseCommit: string): Promise<StagingCopy> {
  const machine = opts.machine ?? realMachine;
  const placement = chooseStagingRoot({ workspaceMb: opts.workspaceMb ?? 1024, memoryMb: opts.memoryMb ?? 2048 }, machine);
  try {
    return await exportInto(root, opts, baseCommit, placement);
  } catch (err) {
    if (!(err instanceof FactoryError && err.code === 'staging-over-budget')) throw err;
    // Larger than RAM allows: the export stopped early; the disk takes it.
    const onDisk: StagingRootChoice = { root: path.resolve(machine.tmpdir), kind: 'tmpdir', reason: err.message };
    return exportInto(root, opts, baseCommit, onDisk);
  }
}

/** The StagingCopy view of folder `dir`. */
function stagingAt(dir: string, placement: StagingRootChoice, baseCommit: string, source: string): StagingCopy {
  const { uid, gid } = workerIdentity();
  let disposed = false;
  return {
    dir,
    placement,
    workspace: path.join(dir, 'workspace'),
    control: path.join(dir, 'control'),
    output: path.join(dir, 'out'),
    baseCommit,
    source,
    uid,
    gid,
    dispose() {
      if (disposed) return;
      disposed = true;
      fs.rmSync(dir, { recursive: true, force: true });
    },
    async disposeInBackground() {
      if (disposed) return;
      disposed = true;
      // Errors are swallowed as a failed synchronous delete would have to be: the outcome stands.
      await fs.promises.rm(dir, { recursive: true, force: true }).catch(() => undefined);
    },
  };
}

async function exportInto(root: string, opts: StagingOptions, baseCommit: string, placement: StagingRootChoice): Promise<StagingCopy> {
  const dir = fs.mkdtempSync(path.join(placement.root, `factory-${slug(opts.runId)}-`));
  const copy = stagingAt(dir, placement, baseCommit, root);
  const { uid, gid } = copy;
  try {
    fs.mkdirSync(copy.workspace, { mode: 0o755 });
    fs.mkdirSync(copy.control, { mode: 0o755 });
    fs.mkdirSync(copy.output, { mode: 0o755 });
    // mkdtemp makes it 0700; the extraction runs as the Worker uid and must traverse it. It stays
    // owned by the Controller, so the Worker cannot rename or replace its sub-folders.
    fs.chmodSync(dir, 0o755);
    const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;
    if (asRoot) {
      fs.chownSync(copy.workspace, uid, gid);
      fs.chownSync(copy.output, uid, gid);
    }
    // Run inside `root`, git archive exports only that folder's subtree (a monorepo package works).
    await exportTree(root, baseCommit, copy.workspace, { ...(asRoot ? { as: { uid, gid } } : {}), ...(opts.signal ? { signal: opts.signal } : {}), ...(placement.budgetBytes !== undefined ? { budgetBytes: placement.budgetBytes } : {}) });
    return copy;
  } catch (err) {
    copy.dispose();
    throw err;
  }
}

interface ExportOptions {
  /** Run the extraction as this user (root Controllers hand the copy to the Worker user). */
  as?: { uid: number; gid: number };
  signal?: AbortSignal;
  /** Stop with 'staging-over-budget' once the tree would take more than this on a tmpfs. */
  budgetBytes?: number;
  /** Only these paths (relative to `root`, taken literally — no pathspec magic). */
  paths?: readonly string[];
}

/** `git archive <commit> | tar -x` (in `root`: its subtree only), the extraction running as `opts.as`. */
export async function exportTree(root: string, commit: string, dest: string, opts: ExportOptions = {}): Promise<void> {
  const { as, signal, budgetBytes } = opts;
  const only = opts.paths ? ['--', ...opts.paths] : [];
  // Streamed into tar: spawned, with the hardening of src/core/git (no filter driver of the repository's config runs).
  const git = await spawnGit(root, ['--literal-pathspecs', 'archive', '--format=tar', commit, ...only], signal);
  const tar = spawn('tar', ['-x', '--no-same-owner', '--no-same-permissions', '-C', dest, '-f', '-'], {
    stdio: ['pipe', 'ignore', 'pipe'],
    signal,
    ...(as ? { uid: as.uid, gid: as.gid } : {}),
  });
  let gitErr = '';
  let tarErr = '';
  git.stderr.on('data', (c: Buffer) => (gitErr += c.toString()));
  tar.stderr.on('data', (c: Buffer) => (tarErr += c.toString()));
  let overBudget = 0;
  // Once tar is gone nobody reads git's output: stop git too, and drop what it still sends, so
  // neither process waits on a full pipe for ever (a disk that fills, a budget that runs out).
  const stopBoth = () => {
    git.kill('SIGKILL');
    tar.kill('SIGKILL');
    git.stdout.unpipe();
    git.stdout.resume();
  };
  if (budgetBytes !== undefined) {
    const meter = new TarUsageMeter(budgetBytes, (usage) => {
      overBudget = usage;
      stopBoth();
      meter.destroy();
    });
    git.stdout.pipe(meter).pipe(tar.stdin);
  } else {
    git.stdout.pipe(tar.stdin);
  }
  tar.on('close', (code) => {
    // A tar that failed (a full disk, a bad entry) leaves git blocked on the pipe. A tar that
    // succeeded has read the whole archive; git then exits on its own.
    if (code !== 0 && git.exitCode === null && git.signalCode === null) stopBoth();
  });
  // An early tar exit must not crash the Controller with EPIPE.
  tar.stdin.on('error', () => undefined);
  const done = (p: ReturnType<typeof spawn>) =>
    new Promise<number | null>((resolve) => {
      p.on('error', () => resolve(-1));
      p.on('close', (code) => resolve(code));
    });
  const [g, t] = await Promise.all([done(git), done(tar)]);
  if (signal?.aborted) throw new FactoryError('interrupted while exporting the staging copy', 'interrupted');
  if (overBudget) throw new FactoryError(`the tree needs more than the ${Math.round(budgetBytes! / 1048576)} MiB of RAM it may take (over ${Math.round(overBudget / 1048576)} MiB when the export stopped)`, 'staging-over-budget');
  if (g !== 0 || t !== 0) {
    const unsafe = unsafeDirectoryError(gitErr, root);
    if (unsafe) throw unsafe;
    throw new FactoryError(`exporting ${commit.slice(0, 12)} failed: ${(gitErr || tarErr || `git ${g}, tar ${t}`).trim()}`, 'staging-export');
  }
}
