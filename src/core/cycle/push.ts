/**
 * `git.push`: the push after a PASS commit, the retry of an earlier failed push at the start of
 * the next run, and what is not pushed yet. "Not pushed" is always computed from git (commits of
 * the current branch not on its upstream), never from our records, so it survives a crash. The
 * reason of the last failed push is kept in the repository's git folder (never a tracked file,
 * never a dirty tree); it is only the "why", the count comes from git.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readHistory, lineHash } from '../history/history';
import { runGitGroup } from '../git/git';
import { atomicWrite } from '../util/atomic-write';
import { errorMessage } from '../util/errors';
import { gitQuery } from './git-ops';

/** A push never waits for ever (an unreachable host, an SSH prompt nobody answers). */
export const PUSH_TIMEOUT_MS = 120_000;
/** The last failed push's reason, inside the git folder. */
const STATE_FILE = 'factory-push.json';

/** Commits of the current branch not on its upstream. */
export interface PushState {
  /** `origin/main`; null when the branch has no upstream (or HEAD is detached). */
  upstream: string | null;
  /** Commits in `@{u}..HEAD` (0 without an upstream). */
  ahead: number;
  /** Run ids (`Factory-Run:` trailers) of those commits, newest first. */
  runIds: string[];
  /** Why the last push failed, when it did and nothing was pushed since. */
  lastError?: string;
}

/** What one push did. */
export interface PushResult {
  pushed: boolean;
  /** Commits that were not on the upstream before the push. */
  commits: number;
  upstream: string | null;
  error?: string;
}

async function stateFile(root: string, signal?: AbortSignal): Promise<string | null> {
  const dir = await gitQuery(root, ['rev-parse', '--absolute-git-dir'], signal);
  return dir ? path.join(dir, STATE_FILE) : null;
}

/** The reason of the last failed push, as recorded (undefined when none). */
export async function lastPushError(root: string, signal?: AbortSignal): Promise<string | undefined> {
  const file = await stateFile(root, signal);
  if (!file) return undefined;
  try {
    const v = JSON.parse(fs.readFileSync(file, 'utf8')) as { error?: unknown };
    return typeof v.error === 'string' ? v.error : undefined;
  } catch {
    return undefined;
  }
}

async function rememberError(root: string, error: string | null): Promise<void> {
  const file = await stateFile(root);
  if (!file) return;
  if (error === null) fs.rmSync(file, { force: true });
  else await atomicWrite(file, JSON.stringify({ error, at: new Date().toISOString() }) + '\n');
}

/** The current branch's upstream (`origin/main`), or null. */
export async function upstreamOf(root: string, signal?: AbortSignal): Promise<string | null> {
  return gitQuery(root, ['rev-parse', '--abbrev-ref', '--symbolic-full-name', '@{upstream}'], signal);
}

/** What is not pushed: counted from git; `lastError` from the record of the last failed push. */
export async function pushState(root: string, signal?: AbortSignal): Promise<PushState> {
  const upstream = await upstreamOf(root, signal);
  const lastError = await lastPushError(root, signal);
  const err = lastError ? { lastError } : {};
  if (!upstream) return { upstream: null, ahead: 0, runIds: [], ...err };
  const log = await gitQuery(root, ['log', '--format=%H%x00%(trailers:key=Factory-Run,valueonly,separator=%x2C)%x01', '@{upstream}..HEAD', '--'], signal);
  if (log === null) return { upstream, ahead: 0, runIds: [], ...err };
  const commits = log.split('\x01').map((s) => s.trim()).filter(Boolean);
  const runIds = commits.flatMap((c) => (c.split('\0')[1] ?? '').split(',').map((x) => x.trim()).filter(Boolean));
  return { upstream, ahead: commits.length, runIds, ...err };
}

/**
 * Push the current branch to its upstream (`git push <remote> HEAD:<merge ref>`) with the host
 * git guards (no hooks: no pre-push program runs; no prompt; a time limit). Never throws: a
 * failure is returned with git's reason and remembered for `factory status`; a success clears it.
 */
export async function pushToUpstream(root: string, signal?: AbortSignal): Promise<PushResult> {
  const upstream = await upstreamOf(root, signal);
  const before = upstream ? (await pushState(root, signal)).ahead : 0;
  const fail = async (error: string): Promise<PushResult> => {
    await rememberError(root, error);
    return { pushed: false, commits: before, upstream, error };
  };
  if (!upstream) return fail('the current branch has no upstream (git branch --set-upstream-to=<remote>/<branch>)');
  const branch = await gitQuery(root, ['symbolic-ref', '--short', '-q', 'HEAD'], signal);
  const remote = branch ? await gitQuery(root, ['config', '--get', `branch.${branch}.remote`], signal) : null;
  const merge = branch ? await gitQuery(root, ['config', '--get', `branch.${branch}.merge`], signal) : null;
  if (!remote || !merge) return fail(`cannot tell the remote of ${upstream}`);
  const timeout = AbortSignal.timeout(PUSH_TIMEOUT_MS);
  const both = signal ? AbortSignal.any([signal, timeout]) : timeout;
  try {
    // --receive-pack: the program on the other side is git's own, never one the repository's config
    // names. Its own process group: a stop or the time cap ends the transport helpers with it.
    const r = await runGitGroup(root, ['push', '--no-verify', '--porcelain', '--receive-pack=git-receive-pack', '--', remote, `HEAD:${merge}`], both);
    if (r.code !== 0) return fail(pushError(r.stdout.toString('utf8'), r.stderr) || `git push exited ${r.code}`);
  } catch (err) {
    if (signal?.aborted) throw err;
    return fail(timeout.aborted ? `git push took longer than ${PUSH_TIMEOUT_MS / 1000} s` : errorMessage(err));
  }
  await rememberError(root, null);
  return { pushed: true, commits: before, upstream };
}

/**
 * Why a push failed, in one line: the refs `--porcelain` reports rejected (`!  HEAD:refs/heads/main
 * [rejected] (fetch first)`) and git's error lines (hints dropped).
 */
export function pushError(stdout: string, stderr: string): string {
  const rejected = stdout.split('\n').filter((l) => l.startsWith('!')).map((l) => l.replace(/^!\s*/, '').split('\t').filter(Boolean).join(' '));
  const lines = stderr.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('hint:'));
  const errors = lines.filter((l) => /^(error|fatal|remote:|! )/.test(l));
  return [...rejected, ...(errors.length ? errors : lines)].join('; ').slice(0, 500);
}

/**
 * The start of a run with `git.push` on: commits an earlier push left behind are pushed once.
 * Null when there is nothing to push (or no upstream: status says so). Never throws.
 */
export async function retryPendingPush(root: string, signal?: AbortSignal): Promise<PushResult | null> {
  const state = await pushState(root, signal);
  if (!state.upstream || state.ahead === 0) return null;
  return pushToUpstream(root, signal);
}

/**
 * The run's history line (the file's last, written before the commit) gains `pushed: false` and
 * the reason, its hash recomputed (nothing follows it, so the chain stays whole). False when the
 * last line is not that run's or the file has problems: then nothing is rewritten.
 */
export async function markNotPushed(historyFile: string, runId: string, error: string): Promise<boolean> {
  const read = readHistory(historyFile);
  const last = read.records.at(-1);
  if (read.problems.length || !last || last.runId !== runId) return false;
  const text = fs.readFileSync(historyFile, 'utf8');
  const lines = text.replace(/\n$/, '').split('\n');
  const raw = JSON.parse(lines[lines.length - 1] ?? '') as Record<string, unknown> & { prev_hash: string };
  if (raw.runId !== runId) return false;
  const { hash: _old, ...rest } = raw;
  const marked: Record<string, unknown> = { ...rest, pushed: false, pushError: error };
  marked.hash = lineHash(marked, raw.prev_hash);
  lines[lines.length - 1] = JSON.stringify(marked);
  await atomicWrite(historyFile, lines.join('\n') + '\n');
  return true;
}
