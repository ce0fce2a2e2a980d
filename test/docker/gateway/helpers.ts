import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { planSchema, type Plan } from '../../../src/core/contracts/plan';

const ROOT = path.resolve(__dirname, '..', '..', '..');
let seq = 0;

/** Bundle src/worker to dist/worker.js (the runtime under test, fresh for this run). */
export async function buildRuntime(): Promise<string> {
  const esbuild = await import('esbuild');
  const out = path.join(ROOT, 'dist', 'worker.js');
  await esbuild.build({ entryPoints: [path.join(ROOT, 'src/worker/main.ts')], outfile: out, bundle: true, platform: 'node', format: 'cjs', target: 'node18', logLevel: 'error', external: ['cpu-features', '*.node'] });
  return out;
}

/** The agents image (scripts/build-agents-image.sh: cached by tag; ≈ 1 min from nothing). */
export function ensureAgentsImage(): string {
  const out = execFileSync('bash', [path.join(ROOT, 'scripts', 'build-agents-image.sh')], { stdio: ['ignore', 'pipe', 'inherit'] }).toString().trim().split('\n');
  return out[out.length - 1];
}

/** A small git repository with one tracked file. */
export function makeRepo(): string {
  const repo = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-gwt-'));
  fs.mkdirSync(path.join(repo, 'src'));
  fs.writeFileSync(path.join(repo, 'src', 'app.py'), 'VALUE = 1\n');
  fs.writeFileSync(path.join(repo, 'D_ROADMAP.md'), '# Roadmap\n');
  // The Worker's local gate (run by the CLI path): one stage that checks the module imports.
  fs.mkdirSync(path.join(repo, '.factory'));
  fs.writeFileSync(path.join(repo, '.factory', 'config.json'), JSON.stringify({ gate: { stages: [{ name: 'doctor', command: ['python3', '-c', 'import src.app'] }] } }));
  const git = (...args: string[]) => execFileSync('git', ['-C', repo, '-c', 'user.email=t@example.invalid', '-c', 'user.name=t', ...args], { stdio: 'pipe' });
  git('init', '-q');
  git('add', '-A');
  git('commit', '-qm', 'base');
  return repo;
}

export function makePlan(agent: string, timeoutMinutes = 4): Plan {
  return planSchema.parse({
    schema_version: 1,
    run_id: `gw_${process.pid}_${Date.now()}_${++seq}`,
    ticket_id: 'T-GW',
    ac_ids: ['AC-1'],
    scope: { modify: ['src/**', 'hello.txt'], readonly: [], forbidden: ['D_ROADMAP.md'] },
    done_criteria: 'the file exists',
    timeout_minutes: timeoutMinutes,
    model_budget: 'standard',
    risk_level: 'LOW',
    agent,
    created_at: new Date().toISOString(),
  });
}
