/**
 * The watched config entries of a repository (hardening.ts), remembered per folder and keyed by
 * the files git reads them from, so a cycle does not start one `git config` process before each of
 * its ~30 git calls. The key is the identity (inode, size, mtime, ctime) of every file that can
 * hold them — the repository's `config` and `config.worktree`, the `.git` entry that leads there
 * (and the missing `.git` of every folder in between, so a new repository closer to the folder is
 * seen), the user's global and system files, every file an `include.path` / `includeIf.*.path`
 * names (and HEAD when an `onbranch:` condition depends on it) — plus the environment variables
 * that choose those files. A change to any of them reads the config again. Anything this cannot
 * resolve for certain (a bare repository, an include it cannot follow, a file it cannot stat, a
 * file changed within the last clock tick) is simply not remembered: the next call reads again.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ConfigEntry } from './hardening';

/** Include directives, read along with the watched keys so their files join the key. */
export const INCLUDE_KEYS = 'include\\.path|includeif\\..+\\.path';

/** Where git's system config lives when GIT_CONFIG_SYSTEM does not say (Debian and most builds: /etc). */
const SYSTEM_CANDIDATES = ['/etc/gitconfig', '/usr/local/etc/gitconfig', '/usr/etc/gitconfig', '/opt/homebrew/etc/gitconfig'];

/** A file changed this recently may change again within the same timestamp: not remembered (git's "racy" rule). */
const RACY_MS = 1100;

/** The environment variables that choose which files git reads config from. */
const ENV_KEYS = ['HOME', 'XDG_CONFIG_HOME', 'GIT_CONFIG_GLOBAL', 'GIT_CONFIG_SYSTEM', 'GIT_CONFIG_NOSYSTEM'] as const;

/** One parsed entry of `git config --show-scope --show-origin -z`. */
export interface OriginEntry extends ConfigEntry {
  /** `file:<path>` (path relative to the folder git ran in, or absolute), `command line:` … */
  origin: string;
}

/** Parse `git config --show-scope --show-origin -z --get-regexp`: `scope\0origin\0key\nvalue\0` per entry. */
export function parseOriginEntries(out: string): OriginEntry[] {
  const fields = out.split('\0');
  const entries: OriginEntry[] = [];
  for (let i = 0; i + 2 < fields.length; i += 3) {
    const kv = fields[i + 2] ?? '';
    const nl = kv.indexOf('\n');
    entries.push({ scope: fields[i] ?? '', origin: fields[i + 1] ?? '', key: nl < 0 ? kv : kv.slice(0, nl), value: nl < 0 ? '' : kv.slice(nl + 1) });
  }
  return entries;
}

/** The folder whose `.git` git finds from `dir`, and the repository's git folder and common folder. */
interface Located {
  /** Paths whose identity decides where the repository is (each ancestor's `.git`, a gitfile, commondir). */
  markers: string[];
  gitDir: string;
  commonDir: string;
}

/** A folder that looks like a git folder itself (bare repository, or `dir` inside `.git`): not handled here. */
function looksLikeGitDir(p: string): boolean {
  return fs.existsSync(path.join(p, 'HEAD')) && fs.existsSync(path.join(p, 'objects')) && fs.existsSync(path.join(p, 'refs'));
}

/** Git's discovery from `dir` (the environment's GIT_DIR is never passed to git), or null when unsure. */
function locateRepo(dir: string): Located | null {
  const markers: string[] = [];
  // git walks up from its real working folder (getcwd), not through the symlinks of `dir`.
  for (let p = fs.realpathSync(dir); ; ) {
    if (looksLikeGitDir(p)) return null;
    const dotGit = path.join(p, '.git');
    markers.push(dotGit);
    const st = fs.lstatSync(dotGit, { throwIfNoEntry: false });
    if (st?.isDirectory()) return withCommon(markers, dotGit);
    if (st?.isFile()) {
      const m = /^gitdir: (.+)$/m.exec(fs.readFileSync(dotGit, 'utf8'));
      return m?.[1] ? withCommon(markers, path.resolve(p, m[1].trim())) : null;
    }
    if (st) return null;
    const up = path.dirname(p);
    if (up === p) return null;
    p = up;
  }
}

function withCommon(markers: string[], gitDir: string): Located {
  const commondir = path.join(gitDir, 'commondir');
  markers.push(commondir);
  const common = fs.existsSync(commondir) ? path.resolve(gitDir, fs.readFileSync(commondir, 'utf8').trim()) : gitDir;
  return { markers, gitDir, commonDir: common };
}

/** The user's files: global (GIT_CONFIG_GLOBAL, else XDG and ~/.gitconfig) and system. */
function userFiles(env: NodeJS.ProcessEnv): string[] {
  const home = env.HOME ?? '';
  const global = env.GIT_CONFIG_GLOBAL !== undefined ? [env.GIT_CONFIG_GLOBAL] : [path.join(env.XDG_CONFIG_HOME || path.join(home, '.config'), 'git', 'config'), path.join(home, '.gitconfig')];
  const noSystem = /^(1|true|yes|on)$/i.test(env.GIT_CONFIG_NOSYSTEM ?? '');
  const system = noSystem ? [] : env.GIT_CONFIG_SYSTEM !== undefined ? [env.GIT_CONFIG_SYSTEM] : SYSTEM_CANDIDATES;
  return [...global, ...system].filter(Boolean).map((f) => path.resolve(f));
}

/** The files an include entry names (resolved as git does: `~/` is HOME, relative is beside the including file), or null. */
function includedFile(e: OriginEntry, dir: string, env: NodeJS.ProcessEnv): string | null {
  if (!/^include(if\..+)?\.path$/.test(e.key)) return null;
  if (!e.origin.startsWith('file:')) throw new Error('include outside a file');
  const from = path.resolve(dir, e.origin.slice('file:'.length));
  const v = e.value;
  if (v.startsWith('~/')) return path.join(env.HOME ?? '', v.slice(2));
  if (v.startsWith('~')) throw new Error('~user include');
  return path.resolve(path.dirname(from), v);
}

/** `inode size mtime ctime` of each file ('-' when missing); null when one cannot be read or changed too recently. */
function identities(files: readonly string[], now: number): string | null {
  const parts: string[] = [];
  for (const f of files) {
    let st: fs.BigIntStats | undefined;
    try {
      st = fs.statSync(f, { bigint: true, throwIfNoEntry: false });
    } catch {
      return null;
    }
    if (!st) {
      parts.push('-');
      continue;
    }
    // A folder (a `.git` marker) changes its times with every file git writes in it: only which folder it is counts.
    if (st.isDirectory()) {
      parts.push(`d ${st.ino}`);
      continue;
    }
    if (Number(st.mtimeMs) > now - RACY_MS || Number(st.ctimeMs) > now - RACY_MS) return null;
    parts.push(`${st.ino} ${st.size} ${st.mtimeNs} ${st.ctimeNs}`);
  }
  return parts.join('|');
}

interface Remembered {
  key: string;
  includes: string[];
  entries: ConfigEntry[];
}

/**
 * Remembered config per folder. `lookup` before a read says whether the entries are still valid
 * (and captures the key the read will be stored under); `store` after a successful read keeps them.
 */
export class ConfigCache {
  private readonly byDir = new Map<string, Remembered>();

  /** `now`: the clock the "changed too recently" rule compares file times with. */
  constructor(private readonly now: () => number = Date.now) {}

  /** What the files git would read look like now, or null (do not remember this folder now). */
  private keyOf(dir: string, includes: readonly string[], env: NodeJS.ProcessEnv): string | null {
    try {
      const repo = locateRepo(dir);
      if (!repo) return null;
      const worktree = [path.join(repo.commonDir, 'config'), path.join(repo.gitDir, 'config.worktree'), path.join(repo.commonDir, 'config.worktree')];
      const ids = identities([...repo.markers, ...worktree, ...userFiles(env), ...includes], this.now());
      return ids === null ? null : `${ENV_KEYS.map((k) => env[k] ?? '').join('\0')}\n${repo.gitDir}\n${ids}`;
    } catch {
      return null;
    }
  }

  /** The entries remembered for `dir` if nothing they came from changed; else a ticket to store the read with. */
  lookup(dir: string, env: NodeJS.ProcessEnv = process.env): { entries: ConfigEntry[] } | { ticket: Ticket } {
    const known = this.byDir.get(dir);
    const includes = known?.includes ?? [];
    const key = this.keyOf(dir, includes, env);
    if (known && key !== null && known.key === key) return { entries: known.entries };
    return { ticket: { dir, key, includes, env } };
  }

  /** Remember a successful read (taken after `lookup` gave `ticket`), when its includes were already in the key. */
  store(ticket: Ticket, entries: readonly OriginEntry[]): void {
    const { dir, key, env } = ticket;
    let includes: string[];
    try {
      includes = entries.flatMap((e) => includedFile(e, dir, env) ?? []);
      // An onbranch: condition depends on the branch HEAD names.
      if (entries.some((e) => /^includeif\.onbranch:/i.test(e.key))) {
        const repo = locateRepo(dir);
        if (repo) includes.push(path.join(repo.gitDir, 'HEAD'));
      }
    } catch {
      this.byDir.delete(dir);
      return;
    }
    includes = [...new Set(includes)].sort();
    const same = includes.length === ticket.includes.length && includes.every((f, i) => f === ticket.includes[i]);
    // A read whose included files were not part of the key taken before it: keep only the file list, so the next read is keyed by them.
    if (key === null || !same) {
      this.byDir.set(dir, { key: '', includes, entries: [] });
      return;
    }
    this.byDir.set(dir, { key, includes, entries: entries.map(({ scope, key: k, value }) => ({ scope, key: k, value })) });
  }

  /** Forget everything (tests). */
  clear(): void {
    this.byDir.clear();
  }
}

/** What a read must hand back to `store`. */
export interface Ticket {
  dir: string;
  key: string | null;
  includes: string[];
  env: NodeJS.ProcessEnv;
}
