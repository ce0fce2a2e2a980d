import { localBackend } from '../../../src/core/backend/local';
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type Docker from 'dockerode';
import { defaultConfig, type FactoryConfig } from '../../../src/core/config/schema';
import type { Plan } from '../../../src/core/contracts/plan';
import { writeAbortEvidence } from '../../../src/core/cycle/abort-evidence';
import type { CycleContext } from '../../../src/core/cycle/cycle-context';
import { cyclePaths } from '../../../src/core/cycle/cycle-paths';
import type { CycleState } from '../../../src/core/cycle/cycle-state';
import { emptyOutcome, type CycleOutcome } from '../../../src/core/cycle/cycle-types';
import type { ActInput } from '../../../src/core/cycle/phases/act-input';
import { record } from '../../../src/core/cycle/phases/record';
import { writeVerdictEvidence } from '../../../src/core/cycle/phases/verdict-evidence';
import { formatRunId } from '../../../src/core/evidence/run-id';
import { validateEvidence } from '../../../src/core/evidence/validator';
import { HostRunner } from '../../../src/core/gate/host-runner';
import { runGate } from '../../../src/core/gate/run-gate';
import { readHistory } from '../../../src/core/history/history';
import type { Logger } from '../../../src/core/util/log';

const START = new Date('2026-03-04T05:06:07Z');
const BASE = 'abcdef0123456789abcdef0123456789abcdef01';
const RUN = formatRunId(START, 'D202', BASE);

const read = (dir: string, f: string) => fs.readFileSync(path.join(dir, f), 'utf8');
const manifestOf = (dir: string) => JSON.parse(read(dir, 'manifest.json')) as { status: string; run_id: string; files: { path: string }[]; worker: { claimed_status: string; recorded_status: string; overridden: boolean } | null; gates: Record<string, string> };

/** A temp git repository with one commit; its evidence folder is `logs/evidence`. */
function tempRepo(): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'nonpass-evidence-'));
  const git = (...a: string[]) => execFileSync('git', ['-c', 'core.hooksPath=/dev/null', '-c', 'user.name=T', '-c', 'user.email=t@localhost', '-C', root, ...a], { stdio: 'pipe' });
  git('init', '-q');
  fs.writeFileSync(path.join(root, 'a.txt'), 'a\n');
  git('add', '-A');
  git('commit', '-q', '-m', 'base');
  return root;
}

function state(extra: Partial<CycleState> = {}): CycleState {
  return { version: 1, runId: RUN, ticketId: 'D202', acIds: ['D202::AC-1'], phase: 'DO', baseCommit: BASE, startedAt: START.toISOString(), owner: 'host:1', ...extra };
}

const plan = { run_id: RUN, ticket_id: 'D202', ac_ids: ['D202::AC-1'], agent: 'replay', model: 'gpt-5-mini' } as unknown as Plan;

/** The cycle context the verdict evidence reads: repo, config, record paths, log (warnings kept), clock, state. */
function context(root: string, warnings: string[], config: FactoryConfig = defaultConfig()): CycleContext {
  const log = { trace() {}, debug() {}, info() {}, warn: (m: string) => void warnings.push(m), error() {} } as Logger;
  return {
    root,
    config,
    paths: cyclePaths(root, config),
    statePath: cyclePaths(root, config).state,
    opts: { root },
    deps: {},
    docker: {} as Docker,
    backend: localBackend({ docker: {} as Docker }),
    log,
    now: () => new Date(START.getTime() + 60_000),
    emit: () => undefined,
    lap: () => undefined,
    signal: undefined,
    state: state({ phase: 'CHECK' }),
    setPhase: async () => undefined,
  };
}

/** A FAIL after DO and CHECK: a scope violation, a real (host) Gate whose `fast` stage failed, the Worker claiming PASS. */
async function failedAct(root: string, outcome: CycleOutcome): Promise<ActInput> {
  const c = defaultConfig();
  c.guards = [];
  c.gate.stages = [{ name: 'fast', command: [process.execPath, '-e', 'console.log("1 passed, 1 failed"); process.exit(1)'], timeoutSeconds: 10 }];
  const gate = await runGate({ config: c, treeDir: root, runner: new HostRunner({ cwd: root }) });
  assert.equal(gate.status, 'FAIL');
  outcome.status = 'FAIL';
  outcome.changes = [{ path: 'engine/slippage.py', kind: 'added' }, { path: 'engine/__init__.py', kind: 'modified' }];
  outcome.violations = [{ path: 'engine/__init__.py', rule: 'out-of-scope' }];
  outcome.reasons = ['scope violation: engine/__init__.py (out-of-scope)', 'Gate FAIL at fast'];
  outcome.stagingKept = '/tmp/factory-kept-copy';
  outcome.audit = { verdict: 'FAIL', violations: 1, report: 'logs/autopilot/audits/x.json' };
  const result = { ticket_id: 'D202', status: 'PASS' as const, gate_results: {}, files_changed: ['engine/slippage.py'], kpi_summary: {}, cost_estimate_usd: 0, model_used: 'gpt-5-mini', forced: false };
  return {
    plan,
    built: { ticket: { title: 'Slippage model' } },
    startedAt: START,
    verdict: { status: 'FAIL', cause: 'FAIL', reasons: outcome.reasons },
    outcome,
    controllerRecords: [],
    done: { result: { kind: 'read', result }, agent: { records: [], gateway: { costUsd: 0.01 } } },
    checked: { gate, profit: false, auditRecords: [], facts: { gate: { status: 'FAIL', failedAt: 'fast' }, audit: { verdict: 'FAIL', summary: 'touches the package init', violations: [{ file: 'engine/__init__.py', rule: 'scope' }] } } },
  } as unknown as ActInput;
}

describe('evidence of cycles that did not PASS (FAIL, BLOCKED, ABORTED)', () => {
  const made: string[] = [];
  const repo = () => {
    const r = tempRepo();
    made.push(r);
    return r;
  };
  after(() => made.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

  it('a FAIL after CHECK: a run folder named by the run id, marked FAIL, with the reasons in error.log, the Gate, the violations, the Auditor, result.json and the kept staging copy in README; it validates', async () => {
    const root = repo();
    const warnings: string[] = [];
    const ctx = context(root, warnings);
    const outcome = emptyOutcome(plan);
    const act = await failedAct(root, outcome);
    await writeVerdictEvidence(ctx, { plan, outcome, act });
    assert.deepEqual(warnings, []);
    assert.equal(outcome.evidencePath, `logs/evidence/${RUN}/`);
    const dir = path.join(root, 'logs/evidence', RUN);
    const check = validateEvidence(dir);
    assert.ok(check.valid, check.problems.map((p) => p.message).join('; '));
    const m = manifestOf(dir);
    assert.equal(m.status, 'FAIL');
    assert.deepEqual(m.gates, { fast: 'FAIL' });
    assert.deepEqual(m.worker, { claimed_status: 'PASS', recorded_status: 'FAIL', overridden: true, model: 'gpt-5-mini' });
    for (const f of ['error.log', 'changes.json', 'result.json', 'audit.json', 'gate.log', 'README.md']) assert.ok(m.files.some((x) => x.path === f), `${f} listed`);
    const errorLog = read(dir, 'error.log');
    assert.match(errorLog, /^Status: FAIL$/m);
    assert.match(errorLog, /^Reason: scope violation: engine\/__init__\.py \(out-of-scope\)$/m);
    assert.match(errorLog, /^Failed step: stage fast/m);
    const readme = read(dir, 'README.md');
    assert.match(readme, /Status: FAIL/);
    assert.match(readme, /## What happened/);
    assert.match(readme, /^- engine\/__init__\.py \(out-of-scope\)$/m);
    assert.match(readme, /Gate: FAIL at fast/);
    assert.match(readme, /Auditor: FAIL with 1 violation/);
    assert.match(readme, /kept for inspection at `\/tmp\/factory-kept-copy`/);
    const changes = JSON.parse(read(dir, 'changes.json')) as { changes: unknown[]; violations: unknown[] };
    assert.deepEqual(changes.violations, [{ path: 'engine/__init__.py', rule: 'out-of-scope' }]);
    assert.equal(changes.changes.length, 2);
    assert.equal((JSON.parse(read(dir, 'result.json')) as { cost_estimate_usd: number }).cost_estimate_usd, 0.01, 'the metered Worker cost');
    assert.equal((JSON.parse(read(dir, 'audit.json')) as { summary: string }).summary, 'touches the package init');
  });

  it('the history line of a non-PASS verdict names its evidence folder', async () => {
    const root = repo();
    const ctx = context(root, []);
    const outcome = emptyOutcome(plan);
    const act = await failedAct(root, outcome);
    await writeVerdictEvidence(ctx, { plan, outcome, act });
    await record(ctx.paths, plan, outcome, 'FAIL', ctx.now);
    const line = readHistory(ctx.paths.history).records.at(-1);
    assert.equal(line?.status, 'FAIL');
    assert.equal(line?.evidence, `logs/evidence/${RUN}/`);
    assert.ok(fs.existsSync(path.join(root, line?.evidence ?? '', 'manifest.json')));
  });

  it('a BLOCKED cycle refused before any Worker: reasons only (no Gate, no result), marked BLOCKED, valid', async () => {
    const root = repo();
    const warnings: string[] = [];
    const ctx = context(root, warnings);
    const outcome = emptyOutcome(plan);
    outcome.status = 'BLOCKED';
    outcome.reasons = ['budget cap: the Auditor reserve does not fit the cycle budget'];
    await writeVerdictEvidence(ctx, { plan, outcome });
    assert.deepEqual(warnings, []);
    const dir = path.join(root, 'logs/evidence', RUN);
    const check = validateEvidence(dir);
    assert.ok(check.valid, check.problems.map((p) => p.message).join('; '));
    assert.equal(manifestOf(dir).status, 'BLOCKED');
    assert.equal(manifestOf(dir).files.some((f) => f.path === 'result.json'), false);
    assert.match(read(dir, 'error.log'), /^Reason: budget cap: the Auditor reserve does not fit the cycle budget$/m);
    assert.match(read(dir, 'README.md'), /stopped before any Worker ran/);
    assert.match(read(dir, 'gate.log'), /GATE NOT RUN/);
  });

  it('a run id folder already taken: the evidence goes to a fresh run folder that names the cycle\'s run id; the other is untouched', async () => {
    const root = repo();
    const taken = path.join(root, 'logs/evidence', RUN);
    fs.mkdirSync(taken, { recursive: true });
    fs.writeFileSync(path.join(taken, 'partial.txt'), 'half-written\n');
    const ctx = context(root, []);
    const outcome = emptyOutcome(plan);
    outcome.status = 'FAIL';
    outcome.reasons = ['Gate FAIL at fast'];
    await writeVerdictEvidence(ctx, { plan, outcome });
    assert.deepEqual(fs.readdirSync(taken), ['partial.txt']);
    assert.ok(outcome.evidencePath && outcome.evidencePath !== `logs/evidence/${RUN}/`, String(outcome.evidencePath));
    const dir = path.join(root, outcome.evidencePath);
    assert.ok(validateEvidence(dir).valid);
    assert.equal((JSON.parse(read(dir, 'kpi.json')) as { cycle_run_id: string }).cycle_run_id, RUN);
    assert.match(read(dir, 'README.md'), new RegExp(`Cycle run id: ${RUN}`));
  });

  it('a failure to write the evidence is a warning, never an error: the verdict is recorded without it', async () => {
    const root = repo();
    fs.mkdirSync(path.join(root, 'logs'), { recursive: true });
    fs.writeFileSync(path.join(root, 'logs/evidence'), 'not a folder\n');
    const warnings: string[] = [];
    const ctx = context(root, warnings);
    const outcome = emptyOutcome(plan);
    outcome.reasons = ['Gate FAIL at fast'];
    await writeVerdictEvidence(ctx, { plan, outcome });
    assert.equal(outcome.evidencePath, null);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0] ?? '', /could not write the FAIL evidence of .*its history line still says why/);
  });

  it('ABORTED: what the state file knew (phase, ACs, base commit, spend, reason), marked ABORTED, in the run id folder; returns its repo-relative path; valid', async () => {
    const root = repo();
    const evidenceDir = path.join(root, 'logs/evidence');
    const spend = [{ role: 'worker' as const, agent: 'replay', model: 'claude-sonnet-4-5', costUsd: 0.045 }];
    const rel = await writeAbortEvidence(evidenceDir, state({ phase: 'DO' }), 'the cycle was interrupted', spend);
    assert.equal(rel, `logs/evidence/${RUN}/`);
    const dir = path.join(evidenceDir, RUN);
    const check = validateEvidence(dir);
    assert.ok(check.valid, check.problems.map((p) => p.message).join('; '));
    const m = manifestOf(dir);
    assert.equal(m.status, 'ABORTED');
    assert.equal((m as unknown as { cost_usd: number }).cost_usd, 0.045);
    assert.match(read(dir, 'error.log'), /^Reason: the cycle was interrupted$/m);
    assert.match(read(dir, 'error.log'), /^Reason: interrupted during DO$/m);
    const readme = read(dir, 'README.md');
    assert.match(readme, /ABORTED\*\* during DO: the cycle was interrupted/);
    assert.match(readme, new RegExp(`Base commit: ${BASE}`));
    assert.match(readme, /D202::AC-1/);
    assert.match(readme, /worker replay claude-sonnet-4-5: \$0\.0450/);
    const kpi = JSON.parse(read(dir, 'kpi.json')) as { aborted_in: string; cost_by_role: Record<string, number> };
    assert.equal(kpi.aborted_in, 'DO');
    assert.deepEqual(kpi.cost_by_role, { worker: 0.045 });
  });

  it('ABORTED after an earlier FAIL folder of the same run: a second folder, the first kept as it was', async () => {
    const root = repo();
    const ctx = context(root, []);
    const outcome = emptyOutcome(plan);
    outcome.reasons = ['Gate FAIL at fast'];
    await writeVerdictEvidence(ctx, { plan, outcome });
    const first = path.join(root, 'logs/evidence', RUN);
    const before = read(first, 'manifest.json');
    const rel = await writeAbortEvidence(path.join(root, 'logs/evidence'), state({ phase: 'CHECK' }), 'Controller stopped during CHECK', []);
    assert.ok(rel && rel !== `logs/evidence/${RUN}/`, String(rel));
    assert.equal(read(first, 'manifest.json'), before);
    assert.equal(manifestOf(path.join(root, rel)).status, 'ABORTED');
    assert.ok(validateEvidence(path.join(root, rel)).valid);
  });

  it('ABORTED with a run id that is no run-id folder name, or an unwritable folder: a fresh run folder, or null (never a throw)', async () => {
    const root = repo();
    const rel = await writeAbortEvidence(path.join(root, 'logs/evidence'), state({ runId: 'custom-run', phase: 'PLAN' }), 'stopped', []);
    assert.ok(rel?.startsWith('logs/evidence/20260304_050607_d202_abcdef0'), String(rel));
    assert.ok(validateEvidence(path.join(root, rel ?? '')).valid);
    fs.writeFileSync(path.join(root, 'blocked'), 'a file\n');
    const warned: string[] = [];
    const onWarning = (w: Error) => void warned.push(w.message);
    process.on('warning', onWarning);
    try {
      assert.equal(await writeAbortEvidence(path.join(root, 'blocked', 'evidence'), state(), 'stopped', []), null);
      await new Promise((r) => setImmediate(r));
    } finally {
      process.off('warning', onWarning);
    }
    assert.match(warned.join('\n'), /could not write the ABORTED evidence/);
  });
});
