import { simpleGit } from 'simple-git';
import type { GitInfo } from './evidence-format';

/** A remote URL without credentials (`https://user:token@host/x` → `https://host/x`). */
export function stripUrlCredentials(url: string): string {
  try {
    const u = new URL(url);
    if (u.username || u.password) {
      u.username = '';
      u.password = '';
    }
    return u.toString();
  } catch {
    // scp-like `git@host:org/repo.git` has no password part to leak.
    return url;
  }
}

/** git_info.json for a tree that is not a git repository (or where git is unavailable). */
export function emptyGitInfo(now: Date): GitInfo {
  return {
    timestamp: now.toISOString(),
    branch: null,
    commit: null,
    commit_message: null,
    status: 'unknown',
    remote: { origin: null, tracking_branch: null },
    modified_files: [],
    added_files: [],
    deleted_files: [],
  };
}

/**
 * The git snapshot of EVIDENCE_FORMAT.md §3 (branch, commit, message, clean/dirty, remote and the
 * changed files). Read-only git commands only; hooks never run for these.
 */
export async function collectGitInfo(root: string, now: Date = new Date(), signal?: AbortSignal): Promise<GitInfo> {
  const git = simpleGit({ baseDir: root, abort: signal, timeout: { block: 20_000 } });
  try {
    if (!(await git.checkIsRepo())) return emptyGitInfo(now);
  } catch {
    return emptyGitInfo(now);
  }
  const info = emptyGitInfo(now);
  try {
    const status = await git.status();
    info.branch = status.current ?? null;
    info.remote.tracking_branch = status.tracking ?? null;
    info.status = status.isClean() ? 'clean' : 'dirty';
    info.modified_files = [...status.modified, ...status.renamed.map((r) => r.to)].sort();
    info.added_files = [...status.created, ...status.not_added].sort();
    info.deleted_files = [...status.deleted].sort();
  } catch {
    info.status = 'unknown';
  }
  try {
    const head = await git.log({ maxCount: 1 });
    info.commit = head.latest?.hash ?? null;
    info.commit_message = head.latest?.message ?? null;
  } catch {
    /* no commits yet */
  }
  try {
    const remotes = await git.getRemotes(true);
    const origin = remotes.find((r) => r.name === 'origin') ?? remotes[0];
    info.remote.origin = origin ? stripUrlCredentials(origin.refs.fetch) : null;
  } catch {
    /* no remotes */
  }
  return info;
}
