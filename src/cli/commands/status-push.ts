/**
 * `git.push` in `factory status` (issue 17): the commits of the current branch not on its
 * upstream, counted from git (the truth survives a crash), and why the last push failed. Core is
 * imported lazily: status start-up stays lean.
 */

/** What `factory status --json` prints under `push` (only when `git.push` is on). */
export interface StatusPush {
  /** Commits in `@{upstream}..HEAD`. */
  ahead: number;
  /** `origin/main`; null when the branch has no upstream. */
  upstream: string | null;
  /** Why the last push failed, when nothing was pushed since. */
  lastError?: string;
}

/** The push state of the repository at `root`; undefined when `git.push` is off. */
export async function collectPush(root: string, pushOn: boolean, signal?: AbortSignal): Promise<StatusPush | undefined> {
  if (!pushOn) return undefined;
  const { pushState } = await import('../../core/cycle/push');
  const s = await pushState(root, signal);
  return { ahead: s.ahead, upstream: s.upstream, ...(s.lastError && s.ahead > 0 ? { lastError: s.lastError } : {}) };
}

/** The status line(s): nothing when all is pushed; "no upstream" said once, never an error. */
export function renderPush(p: StatusPush | undefined): string[] {
  if (!p) return [];
  if (!p.upstream) return ['Push       git.push is on but the current branch has no upstream: nothing is pushed (git branch --set-upstream-to=<remote>/<branch>)'];
  if (p.ahead === 0) return [];
  const why = p.lastError ? ` (last push failed: ${p.lastError})` : '';
  return [`Push       ${p.ahead} commit(s) not pushed to ${p.upstream}${why}`];
}
