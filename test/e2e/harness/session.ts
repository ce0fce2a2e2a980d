import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Workbench } from './browser';
import { removeKeptStaging } from '../../support/staging';
import { CodeServer, createProfile, installExtension, type CodeServerInstall, type Profile } from './code-server';

export const PROJECT_ROOT = path.resolve(__dirname, '..', '..', '..');
/** The example workspace the e2e tests open (a copy of it: tests may write to it). */
export const EXAMPLE_DIR = path.join(PROJECT_ROOT, 'examples', 'demo-project');

let packaged: string | undefined;

/**
 * Builds and packages the extension ONCE per test process, exactly as `npm run package` does, and
 * returns the .vsix path: the e2e tests install that file, not the source tree.
 */
export function packageVsix(): string {
  if (packaged && fs.existsSync(packaged)) return packaged;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-vsix-'));
  process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  const out = path.join(dir, 'agentic-factory.vsix');
  const r = spawnSync(process.execPath, [path.join(PROJECT_ROOT, 'scripts', 'package-vsix.mjs'), '--out', out], { cwd: PROJECT_ROOT, encoding: 'utf8', timeout: 180_000 });
  if (r.status !== 0) throw new Error(`npm run package failed (exit ${r.status ?? r.signal}):\n${r.stdout}\n${r.stderr}`);
  console.log(`      ${r.stdout.trim().split('\n').pop() ?? ''}`);
  // The production build replaced dist/; rebuild the dev bundles (and the extension-host suite)
  // so the tree is as `npm run build -- --tests` left it.
  const b = spawnSync(process.execPath, ['esbuild.js', '--tests'], { cwd: PROJECT_ROOT, encoding: 'utf8', timeout: 180_000 });
  if (b.status !== 0) throw new Error(`node esbuild.js --tests failed:\n${b.stdout}\n${b.stderr}`);
  packaged = out;
  return out;
}

export interface SessionOptions {
  install: CodeServerInstall;
  chromium: string;
  /** Used in temp names and screenshot names. */
  name: string;
  env?: Record<string, string>;
  /** Open the browser (the extension host only starts once a window connects). Default true. */
  browser?: boolean;
  /** The folder to open a copy of; `null` opens an empty folder. Default: the example. */
  source?: string | null;
  /** Open this folder IN PLACE instead of a copy (read-only inputs such as the shared corpus). */
  inPlace?: string;
  /** User settings on top of E2E_SETTINGS (e.g. `factory.replayDirectory`). */
  settings?: Record<string, unknown>;
}

/**
 * One real VS Code session: a fresh profile with the packaged extension installed, a copy of the
 * example, code-server on 127.0.0.1 and Chromium on its workbench. `close()` stops Chromium and
 * code-server (in that order) and removes the temp files; call it from `after`, it is safe to call
 * on a half-started session.
 */
export class Session {
  profile: Profile;
  folder: string;
  logFile: string;
  server: CodeServer | undefined;
  workbench: Workbench | undefined;

  constructor(private readonly opts: SessionOptions) {
    this.profile = createProfile(`factory-e2e-${opts.name}`, opts.settings);
    this.folder = opts.inPlace ?? path.join(this.profile.dir, opts.source === null ? 'new-project' : 'demo-project');
    this.logFile = path.join(this.profile.dir, 'code-server.log');
  }

  /** Milliseconds from start() to: code-server listening, workbench rendered (printed by tests). */
  readonly timings: { listeningMs?: number; workbenchMs?: number } = {};

  async start(): Promise<this> {
    installExtension(this.opts.install, this.profile, packageVsix());
    const t0 = Date.now();
    const source = this.opts.source === undefined ? EXAMPLE_DIR : this.opts.source;
    if (this.opts.inPlace) {
      // Opened as it is: nothing is copied or written there.
    } else if (source === null) fs.mkdirSync(this.folder, { recursive: true });
    else fs.cpSync(source, this.folder, { recursive: true });
    this.server = await CodeServer.start(this.opts.install, {
      folder: this.folder,
      profile: this.profile,
      logFile: this.logFile,
      env: {
        // No gallery on the internet: extension queries go to a closed loopback port.
        EXTENSIONS_GALLERY: JSON.stringify({ serviceUrl: 'http://127.0.0.1:9/gallery', itemUrl: 'http://127.0.0.1:9/item' }),
        ...this.opts.env,
      },
    });
    this.timings.listeningMs = Date.now() - t0;
    if (this.opts.browser !== false) {
      this.workbench = await Workbench.open(this.opts.chromium, this.server.url);
      this.timings.workbenchMs = Date.now() - t0;
    }
    return this;
  }

  /** The tail of code-server's log (extension host output included), for failure messages. */
  logTail(chars = 4000): string {
    try {
      return fs.readFileSync(this.logFile, 'utf8').slice(-chars);
    } catch {
      return '(no log)';
    }
  }

  /** The extension's own output channel ("Agentic Factory"), as its log file in the profile. */
  extensionLog(): string {
    const logs = path.join(this.profile.userDataDir, 'logs');
    try {
      const file = fs
        .readdirSync(logs, { recursive: true, encoding: 'utf8' })
        .filter((f) => f.endsWith(path.join('agentic-factory.agentic-factory', 'Agentic Factory.log')))
        .sort()
        .at(-1);
      return file ? fs.readFileSync(path.join(logs, file), 'utf8') : '';
    } catch {
      return '';
    }
  }

  /**
   * "activation → trees populated in N ms" from the extension's log (measured in its host), once
   * written, with the part of it the SSOT index took ("indexed … in N ms").
   */
  async activation(timeoutMs = 30_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const log = this.extensionLog();
      const m = /activation → trees populated \(ready\) in (\d+) ms/.exec(log);
      const idx = /indexed .* in (\d+) ms/.exec(log);
      if (m) return `${m[1]} ms (of which config + index ${idx?.[1] ?? '?'} ms)`;
      if (Date.now() > deadline) return '? (not logged)';
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  async close(): Promise<void> {
    try {
      await this.workbench?.close();
    } finally {
      this.workbench = undefined;
      await this.server?.stop();
      this.server = undefined;
      // Cycles the session ran may have kept FAILed staging copies (in RAM when they fit): they
      // go with the copied folder.
      removeKeptStaging(this.folder);
      fs.rmSync(this.profile.dir, { recursive: true, force: true });
    }
  }
}
