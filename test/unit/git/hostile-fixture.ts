/**
 * A hostile repository for SEC-10 tests: every setting of its config that can start a program
 * (hooks, fsmonitor, pager, filter driver, external diff, textconv, credential helpers, askPass,
 * sshCommand, gitProxy, gpg, receive-pack) names a marker program that leaves a file in `marks`
 * when it runs. A test runs the Controller's git operations and asserts `marks` stays empty.
 */
import { execFile, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';

export const ID = ['-c', 'user.name=T', '-c', 'user.email=t@localhost', '-c', 'commit.gpgsign=false'];

/** Plain git (no hardening), for building fixtures. */
export function plainGit(cwd: string, args: string[], env: NodeJS.ProcessEnv = process.env): string {
  return execFileSync('git', [...ID, ...args], { cwd, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], env }).trim();
}

/** Plain git without blocking the event loop (the loopback HTTP server of the test runs in this process); resolves with the exit code. */
export function plainGitAsync(cwd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  return new Promise((resolve) => {
    execFile('git', [...ID, ...args], { cwd, env }, (err) => resolve(err ? (typeof err.code === 'number' ? err.code : -1) : 0));
  });
}

export const HOOKS = ['pre-commit', 'prepare-commit-msg', 'commit-msg', 'post-commit', 'reference-transaction', 'pre-push', 'post-checkout', 'post-index-change', 'post-rewrite', 'pre-auto-gc', 'push-to-checkout'];

export interface Hostile {
  tmp: string;
  /** The hostile work tree (its `main` tracks `origin/main`, a local bare repository). */
  work: string;
  remote: string;
  /** Folder the marker programs write into. */
  marks: string;
  /** Path of a marker program called `name` (it records `name` and, for filters, passes stdin through). */
  marker(name: string): string;
  /** Names of the markers that ran. */
  ran(): string[];
  clear(): void;
}

/** The marker program: records its name, then behaves enough like the real thing not to hang git. */
function writeMarker(dir: string, marks: string, name: string): string {
  const file = path.join(dir, name);
  const tail = name === 'receive-pack' ? 'exec git-receive-pack "$@"' : name.startsWith('filter-') || name === 'textconv' ? 'cat "$@"' : 'exit 1';
  fs.writeFileSync(file, `#!/bin/sh\ntouch '${path.join(marks, name)}'\n${tail}\n`, { mode: 0o755 });
  return file;
}

/** A temp folder with a hostile repository and its bare upstream. `globalConfig`: the file GIT_CONFIG_GLOBAL names. */
export function hostileRepo(): Hostile {
  const tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'factory-hostile-')));
  const marks = path.join(tmp, 'marks');
  const bin = path.join(tmp, 'bin');
  fs.mkdirSync(marks);
  fs.mkdirSync(bin);
  const marker = (name: string) => writeMarker(bin, marks, name);
  const remote = path.join(tmp, 'remote.git');
  const work = path.join(tmp, 'work');
  plainGit(tmp, ['init', '-q', '--bare', '-b', 'main', remote]);
  plainGit(tmp, ['init', '-q', '-b', 'main', work]);
  plainGit(work, ['remote', 'add', 'origin', remote]);
  fs.writeFileSync(path.join(work, 'f.txt'), 'hello\n');
  fs.writeFileSync(path.join(work, '.gitignore'), 'ignored/\n');
  // Driver x has a process filter (which git prefers), driver s only clean and smudge.
  fs.writeFileSync(path.join(work, '.gitattributes'), '* filter=x\n*.txt diff=y\n*.s filter=s\n');
  fs.writeFileSync(path.join(work, 'doc.s'), 'smudged? no\n');
  plainGit(work, ['add', '.']);
  plainGit(work, ['commit', '-q', '-m', 'first (D201)']);
  plainGit(work, ['push', '-q', '-u', 'origin', 'main']);
  makeHostile(work, marker);
  return {
    tmp,
    work,
    remote,
    marks,
    marker,
    ran: () => fs.readdirSync(marks).sort(),
    clear: () => {
      for (const f of fs.readdirSync(marks)) fs.rmSync(path.join(marks, f));
    },
  };
}

/** Point every program-running setting of `work`'s config (and its hooks) at markers. */
function makeHostile(work: string, marker: (name: string) => string): void {
  const hooksDir = path.join(work, '.git', 'hooks');
  fs.mkdirSync(hooksDir, { recursive: true });
  for (const h of HOOKS) fs.copyFileSync(marker(`hook-${h}`), path.join(hooksDir, h));
  const set = (k: string, v: string) => plainGit(work, ['config', k, v]);
  // A hooks folder of its own too (core.hooksPath): the hooks there are the same markers.
  const ownHooks = path.join(path.dirname(work), 'own-hooks');
  fs.mkdirSync(ownHooks, { recursive: true });
  for (const h of HOOKS) fs.copyFileSync(marker(`hook-${h}`), path.join(ownHooks, h));
  set('core.hooksPath', ownHooks);
  set('core.fsmonitor', marker('fsmonitor'));
  set('core.pager', marker('pager'));
  set('filter.x.clean', marker('filter-clean'));
  set('filter.x.smudge', marker('filter-smudge'));
  set('filter.x.process', marker('filter-process'));
  set('filter.x.required', 'true');
  set('filter.s.clean', marker('filter-s-clean'));
  set('filter.s.smudge', marker('filter-s-smudge'));
  set('diff.external', marker('diff-external'));
  set('diff.y.textconv', marker('textconv'));
  set('diff.y.command', marker('diff-command'));
  set('credential.helper', marker('credential-helper'));
  set('core.askPass', marker('askpass'));
  set('core.sshCommand', marker('ssh-command'));
  set('core.gitProxy', marker('git-proxy'));
  set('log.showSignature', 'true');
  set('gpg.program', marker('gpg'));
  set('commit.gpgSign', 'true');
  set('remote.origin.receivepack', marker('receive-pack'));
}

/** A loopback HTTP server that answers every request with 401 (Basic auth wanted). */
export async function unauthorizedServer(): Promise<{ url: string; requests: () => number; close: () => Promise<void> }> {
  let count = 0;
  const server = http.createServer((_req, res) => {
    count++;
    res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="factory-test"', 'Content-Length': '0' });
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}/repo.git`,
    requests: () => count,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Make `work`'s `main` track `<name>/main` at `url` (its remote-tracking ref where origin/main is). */
export function trackRemote(work: string, name: string, url: string): void {
  // Built with the repository's hooks off (update-ref would run its reference-transaction marker).
  const quiet = (args: string[]) => plainGit(work, ['-c', 'core.hooksPath=/dev/null', ...args]);
  quiet(['remote', 'add', name, url]);
  quiet(['update-ref', `refs/remotes/${name}/main`, 'refs/remotes/origin/main']);
  quiet(['config', 'branch.main.remote', name]);
  quiet(['config', 'branch.main.merge', 'refs/heads/main']);
}

/**
 * A temp global config for the test process (GIT_CONFIG_GLOBAL, no system config): the user's own
 * settings, isolated from the machine's. Returns a restore function.
 */
export function isolateGlobalConfig(file: string, lines = ''): () => void {
  fs.writeFileSync(file, lines);
  const saved = { g: process.env.GIT_CONFIG_GLOBAL, n: process.env.GIT_CONFIG_NOSYSTEM };
  process.env.GIT_CONFIG_GLOBAL = file;
  process.env.GIT_CONFIG_NOSYSTEM = '1';
  return () => {
    if (saved.g === undefined) delete process.env.GIT_CONFIG_GLOBAL;
    else process.env.GIT_CONFIG_GLOBAL = saved.g;
    if (saved.n === undefined) delete process.env.GIT_CONFIG_NOSYSTEM;
    else process.env.GIT_CONFIG_NOSYSTEM = saved.n;
  };
}
