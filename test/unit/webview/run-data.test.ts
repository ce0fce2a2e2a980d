import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { defaultConfig } from '../../../src/core/config/schema';
import type { GitInfo } from '../../../src/core/evidence/evidence-format';
import { writeEvidence } from '../../../src/core/evidence/writer';
import { renderGateLog } from '../../../src/core/gate/gate-log';
import type { GateReport, StepResult } from '../../../src/core/gate/gate-model';
import { appendHistory } from '../../../src/core/history/history';
import { buildCostDashboard } from '../../../src/extension/panels/cost/cost-data';
import { loadLatestRun, parseGateSteps } from '../../../src/extension/panels/run/run-snapshot';
import { costDashboard, runPanelSnapshot as runSnapshot } from '../../../src/shared/protocol';
import { statusBarText, elapsed } from '../../../src/extension/status-bar/status-text';

const git: GitInfo = {
  timestamp: '2026-11-25T11:00:00Z', branch: 'main', commit: 'abcdef0123456789', commit_message: 'x', status: 'clean',
  remote: { origin: null, tracking_branch: null }, modified_files: [], added_files: [], deleted_files: [],
};

function step(name: string, status: StepResult['status'], ms: number, kind: StepResult['kind'] = 'stage'): StepResult {
  return { kind, name, argv: ['python3', '-m', 'pytest', '-q'], status, exitCode: status === 'PASS' ? 0 : 1, startedAt: '2026-11-25T11:00:00Z', endedAt: '2026-11-25T11:00:01Z', durationMs: ms, outputTail: status === 'FAIL' ? 'E   assert 1 == 2' : '' };
}

function gate(status: 'PASS' | 'FAIL'): GateReport {
  const r: Omit<GateReport, 'log'> = {
    status, runner: 'host', runnerIdentity: 'python3', treeHash: 'cd'.repeat(32), startedAt: '2026-11-25T11:00:00Z', endedAt: '2026-11-25T11:00:03Z', durationMs: 3000,
    guards: [step('ssot_docs', 'PASS', 40, 'guard')],
    stages: [step('doctor', 'PASS', 520), step('fast', status, 610), step('regression', status === 'PASS' ? 'PASS' : 'SKIPPED', status === 'PASS' ? 590 : 0)],
    ...(status === 'FAIL' ? { failedAt: 'fast' } : {}),
  };
  return { ...r, log: renderGateLog(r) };
}

describe('Run panel and Cost dashboard data (real evidence and history files)', () => {
  let root: string;
  const config = defaultConfig();

  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-panels-'));
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  it('an empty workspace gives a snapshot that says why it is empty', () => {
    const { snapshot, logs } = loadLatestRun(root, config);
    assert.ok(runSnapshot.safeParse(snapshot).success);
    assert.equal(snapshot.runId, null);
    assert.match(snapshot.note ?? '', /No evidence run yet/);
    assert.deepEqual(logs, {});
    const d = buildCostDashboard(root, config);
    assert.equal(d.cycles, 0);
    assert.match(d.note ?? '', /No cycles recorded yet/);
  });

  it('the newest run written by the evidence writer becomes the snapshot: timeline, manifest, gates, cost vs budget', async () => {
    const evidenceDir = path.join(root, config.paths.evidence);
    const older = await writeEvidence(evidenceDir, { ticketId: 'D101', status: 'PASS', startedAt: new Date('2026-10-02T09:00:00Z'), endedAt: new Date('2026-10-02T09:01:00Z'), git, gate: gate('PASS'), costUsd: 0.02, worker: { claimedStatus: 'PASS', recordedStatus: 'PASS', overridden: false, model: 'claude-sonnet-4-5' } });
    const newest = await writeEvidence(evidenceDir, { ticketId: 'D201', taskName: 'Spread quoting', status: 'FAIL', startedAt: new Date('2026-11-25T11:00:00Z'), endedAt: new Date('2026-11-25T11:00:05Z'), git, gate: gate('FAIL'), costUsd: 0.4, worker: { claimedStatus: 'PASS', recordedStatus: 'FAIL', overridden: true, model: 'gpt-5' } });
    await appendHistory(path.join(root, config.paths.autopilot, 'history.jsonl'), {
      runId: newest.runId, ticketId: 'D201', status: 'FAIL', endedAt: '2026-11-25T11:00:05Z', costUsd: 0.4, agent: 'codex', model: 'gpt-5',
      scopeViolations: ['engine/pnl.py (outside scope.modify)'], audit: { verdict: 'FAIL', summary: 'PnL re-derived in the thin layer' },
    });

    const { snapshot, logs } = loadLatestRun(root, config);
    assert.ok(runSnapshot.safeParse(snapshot).success, JSON.stringify(runSnapshot.safeParse(snapshot).error?.issues));
    assert.equal(snapshot.runId, newest.runId);
    assert.equal(snapshot.ticketId, 'D201');
    assert.equal(snapshot.status, 'FAIL');
    assert.deepEqual(snapshot.cost, { spentUsd: 0.4, budgetUsd: config.killSwitch.budgetUsd });
    const check = snapshot.timeline.find((p) => p.name === 'CHECK')!;
    assert.equal(check.status, 'FAIL');
    assert.deepEqual(check.steps.map((s) => [s.name, s.status]), [['ssot_docs', 'PASS'], ['doctor', 'PASS'], ['fast', 'FAIL'], ['regression', 'SKIPPED']]);
    assert.equal(snapshot.timeline.find((p) => p.name === 'DO')!.status, 'PASS', 'the Worker claimed PASS');
    assert.ok(snapshot.manifest.some((f) => f.path === 'gate.log'));
    assert.ok(snapshot.manifest.some((f) => f.path === 'manifest.json'));
    assert.deepEqual(snapshot.gates.find((g) => g.name === 'fast'), { name: 'fast', status: 'FAIL' });
    assert.deepEqual(snapshot.scopeViolations, ['engine/pnl.py (outside scope.modify)']);
    assert.equal(snapshot.audit?.verdict, 'FAIL');
    assert.equal(logs.gate, path.join(newest.dir, 'gate.log'));
    // A chosen run (the Runs view's "Open in Run panel"), and an unknown id falls back to the newest.
    assert.equal(loadLatestRun(root, config, older.runId).snapshot.ticketId, 'D101');
    assert.equal(loadLatestRun(root, config, '20000101_000000_nope_0000000').snapshot.runId, newest.runId);

    const d = buildCostDashboard(root, config);
    assert.ok(costDashboard.safeParse(d).success);
    assert.equal(d.cycles, 2, 'history names one run; the other comes from its evidence');
    assert.equal(d.totalUsd, 0.42);
    assert.deepEqual(d.byMonth.map((b) => [b.label, b.usd]), [['2026-10', 0.02], ['2026-11', 0.4]]);
    assert.deepEqual(d.byTicket.map((b) => b.label), ['D201', 'D101'], 'largest spend first');
    assert.ok(d.byAgentModel.some((b) => b.label === 'codex / gpt-5' && b.usd === 0.4));
    assert.ok(d.byAgentModel.some((b) => b.label.endsWith('/ claude-sonnet-4-5')));
  });

  it('a run that left no evidence (a FAIL from the Runs view) shows its history line, not the newest evidence run', async () => {
    const evidenceRoot = path.join(root, config.paths.evidence);
    await writeEvidence(evidenceRoot, { runId: '20261125_110000_d201_abcdef0', ticketId: 'D201', taskName: 'Spread', acIds: ['D201::AC-2'], status: 'PASS', startedAt: new Date('2026-11-25T11:00:00Z'), endedAt: new Date('2026-11-25T11:00:05Z'), git, gate: gate('PASS'), commands: [], kpi: {}, profitRelated: false, costUsd: 0.1 });
    const history = path.join(root, config.paths.autopilot, 'history.jsonl');
    await appendHistory(history, { runId: '20261125_120000_d202_abcdef0', ticketId: 'D202', acIds: ['D202::AC-1'], status: 'FAIL', endedAt: '2026-11-25T12:00:09Z', costUsd: 0.05, reasons: ['1 change(s) outside the plan\'s scope: engine/__init__.py (out-of-scope)'], scopeViolations: ['engine/__init__.py (out-of-scope)'] });
    const { snapshot, logs } = loadLatestRun(root, config, '20261125_120000_d202_abcdef0');
    assert.ok(runSnapshot.safeParse(snapshot).success);
    assert.equal(snapshot.runId, '20261125_120000_d202_abcdef0');
    assert.equal(snapshot.ticketId, 'D202');
    assert.equal(snapshot.status, 'FAIL');
    assert.deepEqual(snapshot.scopeViolations, ['engine/__init__.py (out-of-scope)']);
    assert.match(snapshot.note ?? '', /outside the plan's scope/);
    assert.equal(snapshot.cost.spentUsd, 0.05);
    assert.deepEqual(logs, {});
    // An id neither in evidence nor in history still falls back to the newest evidence run.
    assert.equal(loadLatestRun(root, config, '20991231_000000_x_0000000').snapshot.runId, '20261125_110000_d201_abcdef0');
  });

  it('a FAIL run with its own evidence folder shows why: the history line\'s reasons are the note (a PASS has none)', async () => {
    const evidenceRoot = path.join(root, config.paths.evidence);
    const id = '20261125_130000_d201_abcdef0';
    await writeEvidence(evidenceRoot, { runId: id, ticketId: 'D201', taskName: 'Spread', acIds: ['D201::AC-2'], status: 'FAIL', startedAt: new Date('2026-11-25T13:00:00Z'), endedAt: new Date('2026-11-25T13:00:05Z'), git, gate: gate('PASS'), commands: [], kpi: {}, profitRelated: false, costUsd: 0.1, reasons: ['rejected in review: not this time'] });
    const history = path.join(root, config.paths.autopilot, 'history.jsonl');
    await appendHistory(history, { runId: id, ticketId: 'D201', acIds: ['D201::AC-2'], status: 'FAIL', endedAt: '2026-11-25T13:00:05Z', costUsd: 0.1, reasons: ['rejected in review: not this time'], evidence: `${config.paths.evidence}/${id}/` });
    const { snapshot } = loadLatestRun(root, config, id);
    assert.equal(snapshot.status, 'FAIL');
    assert.equal(snapshot.note, 'rejected in review: not this time');
    await appendHistory(history, { runId: '20261125_140000_d201_abcdef0', ticketId: 'D201', status: 'ABORTED', endedAt: '2026-11-25T14:00:00Z', costUsd: 0, reason: 'Controller stopped during DO' });
    await writeEvidence(evidenceRoot, { runId: '20261125_140000_d201_abcdef0', ticketId: 'D201', status: 'ABORTED', startedAt: new Date('2026-11-25T14:00:00Z'), endedAt: new Date('2026-11-25T14:00:01Z'), git, commands: [], kpi: {}, profitRelated: false, costUsd: 0 });
    assert.equal(loadLatestRun(root, config, '20261125_140000_d201_abcdef0').snapshot.note, 'Controller stopped during DO');
    await writeEvidence(evidenceRoot, { runId: '20261125_150000_d201_abcdef0', ticketId: 'D201', status: 'PASS', startedAt: new Date('2026-11-25T15:00:00Z'), endedAt: new Date('2026-11-25T15:00:05Z'), git, gate: gate('PASS'), commands: [], kpi: {}, profitRelated: false, costUsd: 0.1 });
    assert.equal(loadLatestRun(root, config, '20261125_150000_d201_abcdef0').snapshot.note, null);
  });

  it('after a reload each role\'s agent, model, tier and spend come from the run\'s history line (evidence run and history-only run alike)', async () => {
    const evidenceRoot = path.join(root, config.paths.evidence);
    const history = path.join(root, config.paths.autopilot, 'history.jsonl');
    const passId = '20261125_110000_d201_abcdef0';
    await writeEvidence(evidenceRoot, { runId: passId, ticketId: 'D201', taskName: 'Spread', acIds: ['D201::AC-2'], status: 'PASS', startedAt: new Date('2026-11-25T11:00:00Z'), endedAt: new Date('2026-11-25T11:00:05Z'), git, gate: gate('PASS'), commands: [], kpi: {}, profitRelated: false, costUsd: 0.35 });
    await appendHistory(history, {
      runId: passId, ticketId: 'D201', acIds: ['D201::AC-2'], status: 'PASS', endedAt: '2026-11-25T11:00:05Z', costUsd: 0.35, agent: 'codex', model: 'gpt-5-mini',
      spend: [
        { role: 'worker', agent: 'codex', model: 'gpt-5-mini', tier: 'economy', tokens: { in: 1000, out: 100 }, requests: 2, costUsd: 0.1 },
        { role: 'auditor', agent: 'claude-code', model: 'claude-opus-4-5', tier: 'premium', requests: 1, costUsd: 0.25 },
      ],
    });
    await appendHistory(history, { runId: '20261125_120000_d202_abcdef0', ticketId: 'D202', status: 'FAIL', endedAt: '2026-11-25T12:00:09Z', costUsd: 0.2, agent: 'custom', model: 'local-llm', spend: [{ role: 'worker', agent: 'custom', model: 'local-llm', costUsd: 0.2, priced: false }] });
    await appendHistory(history, { runId: '20261125_130000_d203_abcdef0', ticketId: 'D203', status: 'FAIL', endedAt: '2026-11-25T13:00:00Z', costUsd: 0 });

    const pass = loadLatestRun(root, config, passId).snapshot;
    assert.ok(runSnapshot.safeParse(pass).success);
    assert.deepEqual(pass.routing?.roles.map((r) => [r.role, r.agent, r.model, r.tier, r.spentUsd, r.unpriced]), [
      ['worker', 'codex', 'gpt-5-mini', 'economy', 0.1, false],
      ['auditor', 'claude-code', 'claude-opus-4-5', 'premium', 0.25, false],
    ]);
    const fail = loadLatestRun(root, config, '20261125_120000_d202_abcdef0').snapshot;
    assert.deepEqual(fail.routing?.roles.map((r) => [r.role, r.agent, r.model, r.spentUsd, r.unpriced]), [['worker', 'custom', 'local-llm', 0.2, true]]);
    // An older line that names no agent, model or spend: no role rows rather than empty ones.
    assert.equal(loadLatestRun(root, config, '20261125_130000_d203_abcdef0').snapshot.routing, null);
    // A line that spent nothing (a replayed Worker): the Worker's model with its tier from the price table, nothing metered.
    await appendHistory(history, { runId: '20261125_140000_d204_abcdef0', ticketId: 'D204', status: 'FAIL', endedAt: '2026-11-25T14:00:00Z', costUsd: 0, agent: 'replay', model: 'claude-sonnet-4-5' });
    assert.deepEqual(loadLatestRun(root, config, '20261125_140000_d204_abcdef0').snapshot.routing?.roles.map((r) => [r.agent, r.model, r.tier, r.spentUsd]), [['replay', 'claude-sonnet-4-5', 'standard', null]]);
  });

  it('SEC-20 untrusted evidence: a symlinked gate.log is not followed, oversized strings are cut to the protocol limits', async () => {
    const runDir = path.join(root, config.paths.evidence, '20261125_120000_d9_abcdef0');
    fs.mkdirSync(runDir, { recursive: true });
    fs.writeFileSync(path.join(root, 'secret.txt'), 'host secret');
    fs.symlinkSync(path.join(root, 'secret.txt'), path.join(runDir, 'gate.log'));
    fs.writeFileSync(path.join(runDir, 'manifest.json'), JSON.stringify({ ticket_id: 'D9'.repeat(1000), status: 'PASS', files: [{ path: '../../secret.txt', bytes: 1 }, { path: 'kpi.json', bytes: 2 }] }));
    const { snapshot, logs } = loadLatestRun(root, config);
    assert.equal(logs.gate, undefined, 'a symlink is not a log');
    assert.ok(runSnapshot.safeParse(snapshot).success);
    assert.deepEqual(snapshot.manifest.map((f) => f.path), ['manifest.json', 'kpi.json'], 'a path outside the run is not listed');
    assert.ok((snapshot.ticketId ?? '').length <= 500);
  });

  it('reads step durations from gate.log Result lines', () => {
    const steps = parseGateSteps(gate('PASS').log);
    assert.deepEqual(steps.map((s) => [s.name, s.durationMs]), [['ssot_docs', 40], ['doctor', 520], ['fast', 610], ['regression', 590]]);
  });

  it('the status bar text shows phase, elapsed and cost/budget while running, the last run when idle', () => {
    const t0 = Date.parse('2026-11-25T11:00:00Z');
    const run = statusBarText({ phase: 'CHECK', ticketId: 'D201', startedAt: t0, costUsd: 0.12, budgetUsd: 1 }, t0 + 151_000);
    assert.equal(run.text, '$(sync~spin) D201 CHECK 2:31 · $0.12/$1.00');
    assert.equal(run.warning, false);
    assert.equal(statusBarText({ phase: 'DO', costUsd: 1.2, budgetUsd: 1 }, t0).warning, true);
    assert.equal(statusBarText({ phase: 'IDLE', ticketId: 'D101', lastStatus: 'PASS', budgetUsd: 1 }, t0).text, '$(pulse) Factory · last D101 PASS');
    assert.equal(elapsed(3_725_000), '1:02:05');
  });
});
