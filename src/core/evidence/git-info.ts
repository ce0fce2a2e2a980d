import { runGit } from '../git/git';
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

/** What `git status --porcelain=v2 --branch -z` says, in git_info.json's terms. */
export function parseStatusV2(out: string): Pick<GitInfo, 'branch' | 'status' | 'modified_files' | 'added_files' | 'deleted_files'> & { tracking: string | null } {
  let branch: string | null = null;
  let tracking: string | null = null;
  const modified: string[] = [];
  const added: string[] = [];
  const deleted: string[] = [];
  let entries = 0;
  const fields = out.split('\0');
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i];
    if (f.startsWith('# branch.head ')) {
      const b = f.slice('# branch.head '.length);
      branch = b === '(detached)' ? null : b;
    } else if (f.startsWith('# branch.upstream ')) {
      tracking = f.slice('# branch.upstream '.length);
    } else if (f.startsWith('? ')) {
      entries++;
      added.push(f.slice(2));
    } else if (f[0] === '1' || f[0] === '2' || f[0] === 'u') {
      entries++;
      // Ordinary: 8 fields before the path; renamed/copied: 9 (the score), then the old path as
      // the next NUL field; unmerged: 10.
      const before = f[0] === '1' ? 8 : f[0] === '2' ? 9 : 10;
      let at = 0;
      for (let k = 0; k < before; k++) at = f.indexOf(' ', at) + 1;
      const p = f.slice(at);
      const xy = f.slice(2, 4);
      if (f[0] === '2') {
        i++; // the old path
        modified.push(p);
      } else if (f[0] === 'u' || xy.includes('M') || xy.includes('T')) modified.push(p);
      else if (xy[0] === 'A') added.push(p);
      if (xy.includes('D')) deleted.push(p);
    }
  }
  return { branch, tracking, status: entries ? 'dirty' : 'clean', modified_files: [...new Set(modified)].sort(), added_files: added.sort(), deleted_files: deleted.sort() };
}

/**
 * The git snapshot of EVIDENCE_FORMAT.md §3 (branch, commit, message, clean/dirty, remote and the
 * changed files). Three read-only git commands side by side, with the same guards as every other
 * git call on the host: nothing the repository configures runs (SECURITY 10: no fsmonitor, no
 * hooks, no pager) and no lock is taken.
 */
export async function collectGitInfo(root: string, now: Date = new Date(), signal?: AbortSignal): Promise<GitInfo> {
  const git = (args: string[]) => runGit(root, args, signal ? { signal } : {});
  const [status, head, remotes] = await Promise.all([
    git(['status', '--porcelain=v2', '--branch', '-z', '--untracked-files=normal', '--ignore-submodules=dirty']),
    git(['log', '-1', '--format=%H%x00%s']),
    git(['remote', '-v']),
  ]);
  if (status.code !== 0) return emptyGitInfo(now);
  const st = parseStatusV2(status.stdout.toString('utf8'));
  const info = emptyGitInfo(now);
  info.branch = st.branch;
  info.remote.tracking_branch = st.tracking;
  info.status = st.status;
  info.modified_files = st.modified_files;
  info.added_files = st.added_files;
  info.deleted_files = st.deleted_files;
  // No commits yet: the log fails and both stay null.
  if (head.code === 0) {
    const [hash, subject] = head.stdout.toString('utf8').replace(/\n$/, '').split('\0');
    info.commit = hash || null;
    info.commit_message = subject ?? null;
  }
  if (remotes.code === 0) {
    const list = remotes.stdout.toString('utf8').split('\n').map((l) => /^(\S+)\t(\S+) \(fetch\)$/.exec(l)).filter((m): m is RegExpExecArray => !!m);
    const origin = list.find((m) => m[1] === 'origin') ?? list[0];
    info.remote.origin = origin ? stripUrlCredentials(origin[2]) : null;
  }
  return info;
}
