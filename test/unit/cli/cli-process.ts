import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** The repository root and the built CLI bundle the tests run as a real process. */
export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');
export const CLI = path.join(REPO_ROOT, 'dist', 'cli.js');
export const DEMO_DIR = path.join(REPO_ROOT, 'examples', 'demo-project');

let built = false;
/** `node esbuild.js` once per test process, so the tests exercise the bundle users run. */
export function buildCli(): void {
  if (built) return;
  execFileSync(process.execPath, ['esbuild.js'], { cwd: REPO_ROOT, stdio: 'pipe', timeout: 120_000 });
  built = true;
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run `node dist/cli.js …args` to completion (no shell). */
export function runCli(args: string[], cwd = REPO_ROOT): CliResult {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A fresh temp folder; `cleanup()` removes every folder made so far. */
export function tempDirs(): { make: (prefix: string) => string; cleanup: () => void } {
  const made: string[] = [];
  return {
    make: (prefix) => {
      const d = fs.mkdtempSync(path.join(os.tmpdir(), `factory-${prefix}-`));
      made.push(d);
      return d;
    },
    cleanup: () => made.splice(0).forEach((d) => fs.rmSync(d, { recursive: true, force: true })),
  };
}

/** A copy of the example workspace in a temp folder (tests never touch the committed example). */
export function copyDemo(into: string): string {
  const dest = path.join(into, 'demo-project');
  fs.cpSync(DEMO_DIR, dest, { recursive: true });
  return dest;
}
