/**
 * The Controller's one way to run git on the host: simple-git with the hardening of hardening.ts on
 * every call (the streaming calls that simple-git cannot serve use `spawnGit`, with the same
 * settings). Results carry git's exit code, its stdout as bytes and its stderr; a repository git
 * refuses as another user's (safe.directory) is a FactoryError `git-unsafe-directory` whatever the call.
 */
import { execFile, spawn, type ChildProcessByStdio } from 'node:child_process';
import * as fs from 'node:fs';
import type { Readable } from 'node:stream';
import { FactoryError } from '../util/errors';
import { ConfigCache, INCLUDE_KEYS, parseOriginEntries, type Ticket } from './config-cache';
import { FIXED_CONFIG, FIXED_ENV, USER_ENV, WATCHED_KEYS, configArgs, hardenedEnv, overridesFor, type Overrides } from './hardening';

export interface GitResult {
  /** git's exit code (128 for git's own fatal errors). */
  code: number;
  stdout: Buffer;
  stderr: string;
}

export interface GitRunOptions {
  signal?: AbortSignal;
  /** Bytes fed to git's stdin (`--stdin` commands). */
  input?: Buffer | string;
  /** A temporary index file (GIT_INDEX_FILE) instead of the repository's own. */
  index?: string;
}

/**
 * simple-git refuses `-c` keys and environment variables that can start programs unless they are
 * allowed by name. These are exactly the ones the hardening sets (each to a value that turns the
 * program off, or to the user's own from their global config) and the user's environment passed through.
 */
const ALLOW_CONFIG = [
  'core.hooksPath', 'core.fsmonitor', 'core.pager', 'commit.gpgSign', 'tag.gpgSign', 'push.gpgSign', 'log.showSignature',
  'protocol.ext.allow', 'maintenance.auto', 'filter.*.clean', 'filter.*.smudge', 'filter.*.process', 'filter.*.required', 'credential.*helper', 'core.askPass',
];
const ALLOW_ENV = [...USER_ENV, ...Object.keys(FIXED_ENV), 'GIT_PROXY_COMMAND', 'GIT_INDEX_FILE'];

/** `work`, or a rejection as soon as `signal` fires, whichever comes first; the listener is removed after. */
async function untilAborted<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work;
  let fire = (): void => undefined;
  const aborted = new Promise<never>((_resolve, reject) => {
    fire = () => reject(new Error('aborted'));
    if (signal.aborted) fire();
    else signal.addEventListener('abort', fire, { once: true });
  });
  try {
    return await Promise.race([work, aborted]);
  } finally {
    signal.removeEventListener('abort', fire);
  }
}

/** One git process through simple-git; `config` are its `-c` settings. Never rejects for a non-zero exit. */
async function execGit(dir: string, args: readonly string[], config: readonly string[], env: Record<string, string>, opts: GitRunOptions): Promise<GitResult> {
  if (!fs.existsSync(dir)) return { code: 128, stdout: Buffer.alloc(0), stderr: `fatal: cannot change to '${dir}': No such file or directory` };
  let result: GitResult | undefined;
  // Lazy: simple-git (135 KB) loads with the first command that needs it, not with `factory status`.
  const { simpleGit, GitPluginError } = await import('simple-git');
  const git = simpleGit({
    baseDir: dir,
    config: [...config],
    strict: true,
    // Done when the process closes (all output read), without simple-git's default 50 ms wait after exit.
    completion: { onClose: true, onExit: false },
    allowConfig: ALLOW_CONFIG,
    allowEnvironment: ALLOW_ENV,
    ...(opts.signal ? { abort: opts.signal } : {}),
    // stdin always ends (empty when there is no input): no git waits on it. simple-git writes only
    // a truthy value, so an empty input is an empty Buffer, never ''.
    input: () => Buffer.from(opts.input ?? ''),
    errors(error, r) {
      result = { code: r.exitCode, stdout: Buffer.concat(r.stdOut), stderr: Buffer.concat(r.stdErr).toString('utf8') };
      // A non-zero exit is a result the caller reads; an abort, a refused argument or a spawn failure is not.
      return error instanceof GitPluginError || r.exitCode < 0 ? error : undefined;
    },
  });
  try {
    // On abort simple-git kills git, but a helper git started (git-remote-http, ssh) may hold the
    // pipes open for as long as it waits on the network: the call ends at the abort, not then.
    await untilAborted(git.env(env).raw([...args]), opts.signal);
  } catch (err) {
    if (opts.signal?.aborted) throw new FactoryError(`interrupted: git ${subcommand(args)} in ${dir} was stopped`, 'interrupted');
    throw new FactoryError(`git ${subcommand(args)} could not run in ${dir}: ${err instanceof Error ? err.message : String(err)}`, 'git-failed');
  }
  if (!result) throw new FactoryError(`git ${subcommand(args)} in ${dir} gave no result`, 'git-failed');
  return result;
}

const pending = new Map<string, { signal: AbortSignal | undefined; read: Promise<Overrides | GitResult> }>();

/** The watched keys of each folder's config, kept while the files they come from are unchanged (config-cache.ts). */
const configCache = new ConfigCache();
let configReads = 0;

/** How many `git config` reads this process has made (tests: a remembered config starts none). */
export function gitConfigReads(): number {
  return configReads;
}

/** The watched keys and the include directives (whose files key the cache). */
const READ_KEYS = `^(${WATCHED_KEYS.slice(2, -2)}|${INCLUDE_KEYS})$`;

/**
 * What the repository at `dir` configures among the watched keys, read with `git config` (which
 * runs nothing), as overrides — or remembered from the last read while none of the files it came
 * from changed. Concurrent calls for one folder (with the same signal) share one read. A config
 * git cannot read comes back as that failure: no command runs without its overrides.
 */
function repoOverrides(dir: string, signal?: AbortSignal): Promise<Overrides | GitResult> {
  const hit = configCache.lookup(dir);
  // A driver the overrides cannot turn off throws: as a rejection, like a fresh read's.
  if ('entries' in hit) return Promise.resolve(hit.entries).then((e) => overridesFor(e));
  const known = pending.get(dir);
  if (known && known.signal === signal) return known.read;
  const read = readWatched(dir, signal)
    .then((r) => (r.code !== 0 && r.code !== 1 ? r : overridesFor(remember(hit.ticket, r)))) // 1: no such key
    .finally(() => {
      if (pending.get(dir)?.read === read) pending.delete(dir);
    });
  pending.set(dir, { signal, read });
  return read;
}

function remember(ticket: Ticket, r: GitResult): ReturnType<typeof parseOriginEntries> {
  const entries = parseOriginEntries(r.stdout.toString('utf8'));
  configCache.store(ticket, entries);
  return entries;
}

/**
 * `git config --show-scope --show-origin -z --get-regexp READ_KEYS` in `dir`. Spawned directly: git config
 * runs no program, and simple-git would wait 50 ms after a process that printed nothing (the usual answer here).
 */
function readWatched(dir: string, signal?: AbortSignal): Promise<GitResult> {
  if (!fs.existsSync(dir)) return Promise.resolve({ code: 128, stdout: Buffer.alloc(0), stderr: `fatal: cannot change to '${dir}': No such file or directory` });
  configReads++;
  return new Promise((resolve, reject) => {
    const args = [...configArgs(FIXED_CONFIG), 'config', '--show-scope', '--show-origin', '-z', '--get-regexp', READ_KEYS];
    execFile('git', args, { cwd: dir, env: hardenedEnv(), encoding: 'buffer', maxBuffer: 16 * 1024 * 1024, ...(signal ? { signal } : {}) }, (err, stdout, stderr) => {
      if (signal?.aborted) return reject(new FactoryError(`interrupted: git config in ${dir} was stopped`, 'interrupted'));
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      if (code < 0) return reject(new FactoryError(`git could not run in ${dir}: ${err?.message ?? ''}`, 'git-failed'));
      resolve({ code, stdout, stderr: stderr.toString('utf8') });
    });
  });
}

/** The FactoryError for git's "dubious ownership" refusal, or null when `stderr` is not one. */
export function unsafeDirectoryError(stderr: string, dir: string): FactoryError | null {
  const m = /detected dubious ownership in repository at '(.*)'\s*$/m.exec(stderr);
  if (!m) return null;
  const repo = m[1] || dir;
  const quoted = /^[\w@%+=:,./-]+$/.test(repo) ? repo : `'${repo.replace(/'/g, `'\\''`)}'`;
  return new FactoryError(
    `git refuses the repository ${repo}: it belongs to another user (git's safe.directory check). If you trust it, run: git config --global --add safe.directory ${quoted} — then try again`,
    'git-unsafe-directory',
  );
}

/**
 * Run `git <args>` in `dir` (its repository) with the hardening. Resolves with the exit code,
 * stdout and stderr; rejects with `git-unsafe-directory` (another user's repository) or
 * `interrupted` (the signal fired).
 */
export async function runGit(dir: string, args: readonly string[], opts: GitRunOptions = {}): Promise<GitResult> {
  const o = await repoOverrides(dir, opts.signal);
  if ('code' in o) return o;
  const env = hardenedEnv({ ...o.env, ...(opts.index ? { GIT_INDEX_FILE: opts.index } : {}) });
  const r = await execGit(dir, args, [...FIXED_CONFIG, ...o.config], env, opts);
  if (r.code !== 0) {
    const unsafe = unsafeDirectoryError(r.stderr, dir);
    if (unsafe) throw unsafe;
  }
  return r;
}

/** The git command `args` run (`commit` of `-c user.name=… commit -q …`). */
function subcommand(args: readonly string[]): string {
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? '';
    if (a === '-c' || a === '-C') i++;
    else if (!a.startsWith('-')) return a;
  }
  return '';
}

/** `runGit`, failing with FactoryError `git-failed` (the command, the folder and git's stderr) on a non-zero exit. */
export async function gitOrThrow(dir: string, args: readonly string[], opts: GitRunOptions = {}): Promise<Buffer> {
  const r = await runGit(dir, args, opts);
  if (r.code !== 0) throw new FactoryError(`git ${subcommand(args)} failed in ${dir} (git ${args.join(' ').slice(0, 200)}): ${r.stderr.trim() || `exit ${r.code}`}`, 'git-failed');
  return r.stdout;
}

/** The arguments and environment a spawned git needs for `dir`: the same hardening as `runGit`. */
export async function hardenedInvocation(dir: string, signal?: AbortSignal): Promise<{ args: string[]; env: Record<string, string> }> {
  const o = await repoOverrides(dir, signal);
  if ('code' in o) throw unsafeDirectoryError(o.stderr, dir) ?? new FactoryError(`git cannot read the configuration of ${dir}: ${o.stderr.trim()}`, 'git-failed');
  return { args: [...configArgs([...FIXED_CONFIG, ...o.config]), '-C', dir], env: hardenedEnv(o.env) };
}

/**
 * A streaming git (simple-git buffers whole outputs): `git <hardening> -C dir <args>` as a child
 * whose stdout the caller reads. stdin is ignored, stderr piped.
 */
export async function spawnGit(dir: string, args: readonly string[], signal?: AbortSignal): Promise<ChildProcessByStdio<null, Readable, Readable>> {
  const h = await hardenedInvocation(dir, signal);
  return spawn('git', [...h.args, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: h.env, ...(signal ? { signal } : {}) });
}

/**
 * A network git (push): spawned in a process group of its own, so that an abort (the user's, or a
 * time cap) ends git AND the helpers it started — git-remote-http, ssh — which otherwise outlive a
 * killed git for as long as the network keeps them waiting. Never rejects for a non-zero exit.
 */
export async function runGitGroup(dir: string, args: readonly string[], signal?: AbortSignal): Promise<GitResult> {
  const h = await hardenedInvocation(dir, signal);
  if (signal?.aborted) throw new FactoryError(`interrupted: git ${subcommand(args)} in ${dir} was stopped`, 'interrupted');
  const child = spawn('git', [...h.args, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: h.env, detached: true });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (b: Buffer) => out.push(b));
  child.stderr.on('data', (b: Buffer) => err.push(b));
  const killGroup = () => {
    try {
      if (child.pid) process.kill(-child.pid, 'SIGKILL');
    } catch {
      // the group is already gone
    }
  };
  signal?.addEventListener('abort', killGroup, { once: true });
  try {
    const code = await new Promise<number>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (c) => resolve(c ?? -1));
    });
    if (signal?.aborted) throw new FactoryError(`interrupted: git ${subcommand(args)} in ${dir} was stopped`, 'interrupted');
    const r: GitResult = { code, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('utf8') };
    const unsafe = code !== 0 ? unsafeDirectoryError(r.stderr, dir) : null;
    if (unsafe) throw unsafe;
    return r;
  } finally {
    signal?.removeEventListener('abort', killGroup);
    // Helpers git left behind on its own way out (it exits before them on some errors).
    killGroup();
  }
}
