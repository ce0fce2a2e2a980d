import { execFileSync, spawn } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { removeKeptStaging } from '../../support/staging';

export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');
export const EXAMPLE = path.join(REPO_ROOT, 'examples', 'demo-project');
export const REPLAYS = path.join(EXAMPLE, 'replays');
export const CLI = path.join(REPO_ROOT, 'dist', 'cli.js');

const made: string[] = [];

/** A temp git repository holding the example as shipped (without its replay recordings). */
export function exampleRepo(): string {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-cycle-test-'));
  made.push(tmp);
  const repo = path.join(tmp, 'demo-project');
  fs.cpSync(EXAMPLE, repo, { recursive: true, filter: (src) => !src.startsWith(REPLAYS) });
  git(repo, 'init', '-q');
  git(repo, 'add', '-A');
  git(repo, 'commit', '-q', '-m', 'example');
  return repo;
}

/** A temp folder of replay recordings: name → recording. */
export function replayDir(files: Record<string, unknown>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-replays-'));
  made.push(dir);
  for (const [name, content] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), JSON.stringify(content));
  return dir;
}

export function cleanup(): void {
  for (const d of made.splice(0)) {
    // FAILed cycles keep their staging copy for inspection, possibly in RAM (/dev/shm).
    removeKeptStaging(path.join(d, 'demo-project'));
    fs.rmSync(d, { recursive: true, force: true });
  }
}

export function git(repo: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'core.hooksPath=/dev/null', '-c', 'user.name=Test', '-c', 'user.email=t@localhost', '-C', repo, ...args], { encoding: 'utf8' });
}

/**
 * Whether `rel` is the evidence run of a cycle that did not PASS (its manifest says FAIL, BLOCKED,
 * TIMEOUT or ABORTED): a record the Controller leaves uncommitted, like logs/autopilot.
 */
function nonPassEvidence(root: string, rel: string): boolean {
  if (path.posix.dirname(rel) !== 'logs/evidence') return false;
  try {
    return (JSON.parse(fs.readFileSync(path.join(root, rel, 'manifest.json'), 'utf8')) as { status?: unknown }).status !== 'PASS';
  } catch {
    return false;
  }
}

/**
 * sha256 of every file and symlink of the tree except `.git` and the Controller's own records
 * (logs/autopilot, the evidence runs of cycles that did not PASS), ignored files (.env) included:
 * "byte-identical" for SECURITY 13. A PASS's evidence run, complete or half-written, counts.
 */
export function treeDigest(root: string, skip: string[] = ['.git', 'logs/autopilot']): string {
  const h = crypto.createHash('sha256');
  const walk = (rel: string) => {
    const abs = path.join(root, rel);
    for (const name of fs.readdirSync(abs).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      if (skip.includes(r) || nonPassEvidence(root, r)) continue;
      const st = fs.lstatSync(path.join(root, r));
      if (st.isDirectory()) walk(r);
      else if (st.isSymbolicLink()) h.update(`L ${r} ${fs.readlinkSync(path.join(root, r))}\n`);
      else h.update(`F ${r} ${st.mode & 0o777} `).update(fs.readFileSync(path.join(root, r))).update('\n');
    }
  };
  walk('');
  return h.digest('hex');
}

/** Containers (any state) labelled with this run id. */
export function containersOf(runId: string): string[] {
  const out = execFileSync('docker', ['ps', '-aq', '--filter', `label=factory.run_id=${runId}`], { encoding: 'utf8' });
  return out.split('\n').filter(Boolean);
}

export function build(): void {
  execFileSync(process.execPath, ['esbuild.js'], { cwd: REPO_ROOT, stdio: 'pipe', timeout: 180_000 });
}

/** Run the CLI as a child process; resolves with its exit code / signal and output. */
export function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: REPO_ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Containers created with this run id's label since `since` (docker events, so also those already
 * removed): their id and `factory.role` (worker, gate, auditor).
 */
export function containersCreated(runId: string, since: Date): { id: string; role: string }[] {
  const args = ['events', '--since', String(Math.floor(since.getTime() / 1000) - 1), '--until', String(Math.ceil(Date.now() / 1000) + 1)];
  const filters = ['type=container', 'event=create', `label=factory.run_id=${runId}`].flatMap((f) => ['--filter', f]);
  const out = execFileSync('docker', [...args, ...filters, '--format', '{{.Actor.ID}} {{index .Actor.Attributes "factory.role"}}'], { encoding: 'utf8', timeout: 30_000 });
  return out
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [id, role] = l.split(' ');
      return { id, role: role ?? '' };
    });
}

/** D302's change as the scripted Workers write it: engine/inventory.py, in D302's scope (tests of real and routed Workers). */
export const D302_INVENTORY = `"""Inventory limits (D302): refuse orders that would take the position past its maximum."""
from dataclasses import dataclass


@dataclass(frozen=True)
class InventoryLimit:
    max_position: float

    def allows(self, position: float, side: str, qty: float) -> bool:
        if side not in ("buy", "sell") or qty <= 0:
            raise ValueError("side must be buy or sell and qty positive")
        after = position + qty if side == "buy" else position - qty
        return abs(after) <= self.max_position
`;
