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
  // Nothing the repository configures may run here (SECURITY 10): no fsmonitor, no hooks. simple-git
  // refuses to set these two keys at all unless told it may; the values set are the safe ones.
  const git = simpleGit({
    baseDir: root,
    abort: signal,
    timeout: { block: 20_000 },
    config: ['core.fsmonitor=false', 'core.hooksPath=/dev/null'],
    unsafe: { allowUnsafeFsMonitor: true, allowUnsafeHooksPath: true },
  });
  const info = emptyGitInfo(now);
  // Three independent read-only questions, side by side; outside a repository all three fail.
  const [status, head, remotes] = await Promise.allSettled([git.status(), git.log({ maxCount: 1 }), git.getRemotes(true)]);
  if (status.status === 'rejected' && /not a git repository/i.test(String(status.reason))) return emptyGitInfo(now);
  if (status.status === 'fulfilled') {
    const st = status.value;
    info.branch = st.current ?? null;
    info.remote.tracking_branch = st.tracking ?? null;
    info.status = st.isClean() ? 'clean' : 'dirty';
    info.modified_files = [...st.modified, ...st.renamed.map((r) => r.to)].sort();
    info.added_files = [...st.created, ...st.not_added].sort();
    info.deleted_files = [...st.deleted].sort();
  } else {
    info.status = 'unknown';
  }
  if (head.status === 'fulfilled') {
    // No commits yet: the log fails and both stay null.
    info.commit = head.value.latest?.hash ?? null;
    info.commit_message = head.value.latest?.message ?? null;
  }
  if (remotes.status === 'fulfilled') {
    const origin = remotes.value.find((r) => r.name === 'origin') ?? remotes.value[0];
    info.remote.origin = origin ? stripUrlCredentials(origin.refs.fetch) : null;
  }
  return info;
}
