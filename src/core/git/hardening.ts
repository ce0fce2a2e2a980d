/**
 * THE definition of how the Controller runs git on the host (SECURITY 10): nothing the repository
 * configures may run a program. Every git call of src/core takes its `-c` settings and its
 * environment from here, through simple-git (git.ts) or, for the few streaming calls, through
 * `spawnGit` — never a hand-written list elsewhere.
 *
 * Fixed on every call: no hooks, no fsmonitor, no pager, no signing (commit, tag, push) and no
 * signature check in logs (gpg), no `ext::` transport, no automatic gc/maintenance, no optional
 * locks, no prompt, the C locale.
 * Read from the repository's config first (`git config --get-regexp`, which runs nothing) and
 * neutralised when the repository (its `.git/config`, a worktree config or a file either includes)
 * sets them: filter drivers (clean/smudge/process → the user's global value or empty, required →
 * false), credential helpers (the list is reset, then the user's global/system helpers added back,
 * so a push to an https upstream keeps working), core.askPass (→ the user's or none),
 * core.sshCommand (→ the user's GIT_SSH_COMMAND, global core.sshCommand, GIT_SSH or plain `ssh`),
 * and core.gitProxy (→ none). (A push names git-receive-pack itself: remote.<name>.receivepack is never used.)
 * safe.directory is never set here: a repository owned by another user is refused (git.ts).
 */
import { FactoryError } from '../util/errors';

/** `-c` settings on every call. */
export const FIXED_CONFIG: readonly string[] = [
  'core.hooksPath=/dev/null',
  'core.fsmonitor=false',
  'core.pager=cat',
  'commit.gpgSign=false',
  'tag.gpgSign=false',
  'push.gpgSign=false',
  'log.showSignature=false',
  'protocol.ext.allow=never',
  // No background gc/maintenance after a commit of ours (its tasks would run with the repository's other settings).
  'maintenance.auto=false',
  'gc.auto=0',
];

/** Environment set on every call (GIT_OPTIONAL_LOCKS=0 is `--no-optional-locks` for every command). */
export const FIXED_ENV: Readonly<Record<string, string>> = { GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C', GIT_OPTIONAL_LOCKS: '0' };

/**
 * The user's own git environment, passed through (it is the Controller's process, not the
 * repository): their ssh, askpass, global config location and CA bundle. Every other GIT_*
 * variable of the process (GIT_DIR, GIT_INDEX_FILE, GIT_CONFIG_PARAMETERS … of a parent git) is dropped.
 */
export const USER_ENV = ['GIT_SSH_COMMAND', 'GIT_SSH', 'GIT_SSH_VARIANT', 'GIT_ASKPASS', 'SSH_ASKPASS', 'GIT_CONFIG_GLOBAL', 'GIT_CONFIG_SYSTEM', 'GIT_CONFIG_NOSYSTEM', 'GIT_SSL_CAINFO', 'GIT_SSL_CAPATH'] as const;

/** Variables git reads outside the GIT_ namespace that would start a program (never needed here). */
const DROPPED_ENV = new Set(['EDITOR', 'VISUAL', 'PAGER', 'PREFIX']);

/** Config keys read from the repository before each call (canonical, lower-case names). */
export const WATCHED_KEYS = '^(filter\\..+\\.(clean|smudge|process|required)|credential\\..*helper|core\\.(askpass|sshcommand|gitproxy))$';

/** One config entry as `git config --show-scope -z --get-regexp` prints it. */
export interface ConfigEntry {
  /** system, global, local, worktree, command. */
  scope: string;
  key: string;
  value: string;
}

/** Parse `git config --show-scope -z --get-regexp` output: `scope\0key\nvalue\0` per entry. */
export function parseConfigEntries(out: string): ConfigEntry[] {
  const fields = out.split('\0');
  const entries: ConfigEntry[] = [];
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const scope = fields[i] ?? '';
    const kv = fields[i + 1] ?? '';
    const nl = kv.indexOf('\n');
    entries.push({ scope, key: nl < 0 ? kv : kv.slice(0, nl), value: nl < 0 ? '' : kv.slice(nl + 1) });
  }
  return entries;
}

/** What the user (not the repository) configured: system and global files (and what they include). */
function trusted(e: ConfigEntry): boolean {
  return e.scope === 'system' || e.scope === 'global';
}

/** The per-call additions that undo what the repository's config sets. */
export interface Overrides {
  config: string[];
  env: Record<string, string>;
}

function lastTrusted(entries: readonly ConfigEntry[], key: string): string | undefined {
  return entries.filter((e) => trusted(e) && e.key === key).at(-1)?.value;
}

/** Filter drivers the repository defines: each of their commands is the user's own or empty. */
function filterOverrides(entries: readonly ConfigEntry[]): string[] {
  const names = new Set<string>();
  for (const e of entries) {
    const m = /^filter\.(.+)\.(clean|smudge|process|required)$/.exec(e.key);
    if (m && !trusted(e)) names.add(m[1] ?? '');
  }
  const out: string[] = [];
  for (const name of names) {
    // `-c` splits at the first `=`: such a driver cannot be overridden, so nothing runs in that repository.
    if (name.includes('=')) throw new FactoryError(`the git config of this repository defines a filter driver named ${JSON.stringify(name)}, which the Controller cannot turn off (an "=" in the name): rename or remove it (git config --remove-section ${JSON.stringify(`filter.${name}`)})`, 'git-failed');
    for (const k of ['clean', 'smudge', 'process']) out.push(`filter.${name}.${k}=${lastTrusted(entries, `filter.${name}.${k}`) ?? ''}`);
    out.push(`filter.${name}.required=${lastTrusted(entries, `filter.${name}.required`) ?? 'false'}`);
  }
  return out;
}

/**
 * Credential helpers: an empty `credential.helper` (last on the command line) empties the list of
 * every URL (verified: url-specific helpers of .git/config do not run either), then the user's own
 * helpers are added back in their order. A key git cannot take through `-c` (an `=` in a URL) is left out.
 */
function credentialOverrides(entries: readonly ConfigEntry[]): string[] {
  const helpers = entries.filter((e) => /^credential\..*helper$/.test(e.key));
  if (!helpers.some((e) => !trusted(e))) return [];
  return ['credential.helper=', ...helpers.filter((e) => trusted(e) && !e.key.includes('=')).map((e) => `${e.key}=${e.value}`)];
}

/** A POSIX shell word for `s`. */
function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The additions for a repository whose config holds `entries`; `env` is the user's environment. */
export function overridesFor(entries: readonly ConfigEntry[], env: NodeJS.ProcessEnv = process.env): Overrides {
  const config = [...filterOverrides(entries), ...credentialOverrides(entries)];
  const extraEnv: Record<string, string> = {};
  const fromRepo = (key: string) => entries.some((e) => e.key === key && !trusted(e));
  // askpass: GIT_ASKPASS (the user's) wins over config; an empty core.askPass means none (no SSH_ASKPASS either).
  if (fromRepo('core.askpass')) config.push(`core.askPass=${lastTrusted(entries, 'core.askpass') ?? ''}`);
  // ssh: GIT_SSH_COMMAND wins over core.sshCommand, so the user's ssh is put there.
  if (fromRepo('core.sshcommand') && !env.GIT_SSH_COMMAND) {
    extraEnv.GIT_SSH_COMMAND = lastTrusted(entries, 'core.sshcommand') ?? (env.GIT_SSH ? shellQuote(env.GIT_SSH) : 'ssh');
  }
  // core.gitProxy: the first match wins, so the command line cannot replace it; an empty GIT_PROXY_COMMAND turns it off.
  if (fromRepo('core.gitproxy') && env.GIT_PROXY_COMMAND === undefined) extraEnv.GIT_PROXY_COMMAND = '';
  return { config, env: extraEnv };
}

/** The child environment: the process's, minus every GIT_* variable not the user's, plus FIXED_ENV and `extra`. */
export function hardenedEnv(extra: Readonly<Record<string, string>> = {}, env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const keep = new Set<string>(USER_ENV);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) continue;
    const upper = k.toUpperCase();
    if ((upper.startsWith('GIT_') && !keep.has(upper)) || DROPPED_ENV.has(upper)) continue;
    out[k] = v;
  }
  return { ...out, ...FIXED_ENV, ...extra };
}

/** `-c` arguments for a list of `key=value` settings. */
export function configArgs(settings: readonly string[]): string[] {
  return settings.flatMap((s) => ['-c', s]);
}
