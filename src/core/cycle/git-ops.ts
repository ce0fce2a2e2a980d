import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { gitOrThrow, runGit } from '../git/git';
import { FactoryError } from '../util/errors';

/**
 * Host git for the cycle, through src/core/git (SECURITY 10): the commit of ADJUST never runs a
 * program the repository (or a Worker that got a file into it) controls — no hooks, fsmonitor,
 * pager, filter drivers, credential helpers or signing.
 */
async function git(root: string, args: string[], signal?: AbortSignal): Promise<string> {
  return (await gitOrThrow(root, args, signal ? { signal } : {})).toString('utf8');
}

/**
 * A git query's trimmed output, or null when git fails (no such ref, no upstream, outside git).
 * A repository git refuses as another user's still throws (`git-unsafe-directory`).
 */
export async function gitQuery(root: string, args: string[], signal?: AbortSignal): Promise<string | null> {
  const r = await runGit(root, args, signal ? { signal } : {});
  return r.code === 0 ? r.stdout.toString('utf8').trim() : null;
}

/** Full hash of HEAD, or null in a repository without commits (or outside git). */
export function headCommit(root: string, signal?: AbortSignal): Promise<string | null> {
  return gitQuery(root, ['rev-parse', '--verify', '-q', 'HEAD^{commit}'], signal);
}

/**
 * Tracked files (repo-relative, forward slashes); [] outside git. `under`: only those below these
 * folders or files, taken literally (`''` among them, or none given: every file).
 */
export async function trackedFiles(root: string, signal?: AbortSignal, under?: readonly string[]): Promise<string[]> {
  const limit = under && !under.includes('') ? ['--', ...under.map((p) => `:(literal)${p}`)] : [];
  const r = await runGit(root, ['ls-files', '-z', ...limit], signal ? { signal } : {});
  if (r.code !== 0) return [];
  return r.stdout.toString('utf8').split('\0').filter(Boolean);
}

/** The full message of `ref`. */
export async function commitMessage(root: string, ref: string, signal?: AbortSignal): Promise<string> {
  return git(root, ['log', '-1', '--format=%B', ref, '--'], signal);
}

/** Whether `file` exists in commit `ref`. */
export async function existsInCommit(root: string, ref: string, file: string, signal?: AbortSignal): Promise<boolean> {
  const r = await runGit(root, ['cat-file', '-e', `${ref}:${file}`], signal ? { signal } : {});
  return r.code === 0;
}

/** The bytes of `file` in commit `ref`. */
export async function showFile(root: string, ref: string, file: string, signal?: AbortSignal): Promise<Buffer> {
  // A blob, shown as stored: no textconv, no external diff.
  const r = await runGit(root, ['show', '--no-textconv', '--no-ext-diff', `${ref}:${file}`], signal ? { signal } : {});
  if (r.code !== 0) throw new FactoryError(`cannot read ${file} at ${ref.slice(0, 12)} in ${root}: ${r.stderr.trim()}`, 'git-failed');
  return r.stdout;
}

/**
 * Stage exactly `paths` (additions, edits and deletions) and commit them with `message`; nothing
 * else the user has staged or changed is included. Returns the new commit's full hash.
 */
export async function commitPaths(root: string, paths: string[], message: string, signal?: AbortSignal): Promise<string> {
  const unique = [...new Set(paths)].sort();
  // `git add -A -- paths` records deletions too; `--` keeps odd names from being read as options.
  await git(root, ['add', '-A', '--', ...unique], signal);
  const msgFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'factory-msg-')), 'MSG');
  fs.writeFileSync(msgFile, message);
  try {
    await git(root, ['-c', 'user.name=Agentic Factory', '-c', 'user.email=factory@localhost', 'commit', '-q', '--no-verify', '-F', msgFile, '--', ...unique], signal);
  } finally {
    fs.rmSync(path.dirname(msgFile), { recursive: true, force: true });
  }
  const head = await headCommit(root, signal);
  if (!head) throw new FactoryError('git commit left no HEAD', 'git-failed');
  return head;
}


/**
 * Amend HEAD with the working-tree state of exactly `paths` (`--only`: nothing else staged joins
 * it), keeping its message and author. Only for a commit of ours that was never published (a PASS
 * commit whose push failed). Returns the new HEAD.
 */
export async function amendPaths(root: string, paths: string[], signal?: AbortSignal): Promise<string> {
  await git(root, ['-c', 'user.name=Agentic Factory', '-c', 'user.email=factory@localhost', 'commit', '-q', '--amend', '--no-edit', '--no-verify', '--only', '--', ...paths], signal);
  const head = await headCommit(root, signal);
  if (!head) throw new FactoryError('git commit --amend left no HEAD', 'git-failed');
  return head;
}

/** Whether any remote-tracking branch already holds `ref` (then it must never be rewritten). */
export async function onAnyRemote(root: string, ref: string, signal?: AbortSignal): Promise<boolean> {
  const out = await git(root, ['branch', '-r', '--contains', ref], signal);
  return out.trim() !== '';
}
