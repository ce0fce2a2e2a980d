import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadConfigStrict } from '../../../src/core/config/load';
import { clearCycleState, readCycleState, stateFile, writeCycleState, type CycleState } from '../../../src/core/cycle/cycle-state';
import { dryRun, formatDryRun } from '../../../src/core/cycle/dry-run';
import { abortOnce } from '../../../src/core/cycle/recover';
import { readHistory } from '../../../src/core/history/history';

const EXAMPLE = path.resolve(__dirname, '..', '..', '..', 'examples', 'demo-project');

describe('cycle state file', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-state-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const state: CycleState = { version: 1, runId: '20261125_010203_d201_abcdef0', ticketId: 'D201', acIds: ['D201::AC-2'], phase: 'DO', baseCommit: 'abcdef0123', startedAt: '2026-11-25T01:02:03.000Z', owner: 'host:1' };

  it('round-trips through an atomic write, and is gone once cleared', async () => {
    const file = stateFile(dir, 'logs/autopilot');
    assert.equal(readCycleState(file), null);
    await writeCycleState(file, state);
    assert.deepEqual(readCycleState(file), state);
    assert.deepEqual(fs.readdirSync(path.dirname(file)), ['cycle_state.json'], 'no temp file left behind');
    await clearCycleState(file);
    assert.equal(readCycleState(file), null);
  });

  it('reads an unparseable or foreign file as "no cycle in flight" rather than throwing', () => {
    const file = stateFile(dir, 'a');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, '{"version":1,"runId":');
    assert.equal(readCycleState(file), null);
    fs.writeFileSync(file, JSON.stringify({ ...state, phase: 'SLEEP' }));
    assert.equal(readCycleState(file), null);
  });

  it('a cycle aborted after PLAN keeps what the Controller model already cost: the state carries the spend, the ABORTED line records it once', async () => {
    const file = stateFile(dir, 'logs/autopilot');
    const spend = [{ role: 'controller' as const, model: 'claude-sonnet-4-5', tokens: { in: 3000, out: 400 }, costUsd: 0.015 }];
    await writeCycleState(file, { ...state, spend });
    const st = readCycleState(file);
    assert.deepEqual(st?.spend, spend);
    const history = path.join(dir, 'logs/autopilot/history.jsonl');
    const records = { history, evidence: path.join(dir, 'evidence') };
    await abortOnce(records, { ...state, spend }, 'interrupted', st?.spend);
    await abortOnce(records, { ...state, spend }, 'interrupted again', st?.spend);
    const lines = readHistory(history).records;
    assert.equal(lines.length, 1, 'recorded once');
    assert.equal(lines[0]?.status, 'ABORTED');
    assert.equal(lines[0]?.costUsd, 0.015);
    assert.deepEqual(lines[0]?.spend, spend);
    // Without a spend the line is as before: no cost.
    await abortOnce(records, { ...state, runId: 'other-run', ticketId: 'D202' }, 'interrupted');
    assert.equal(readHistory(history).records.at(-1)?.costUsd, 0);
    assert.equal(readHistory(history).records.at(-1)?.spend, undefined);
  });
});

describe('factory dry (core): the next cycle without starting anything', () => {
  it('shows the example\'s plan, mounts, limits, kill switches and Gate commands, and writes nothing', async () => {
    const before = fs.readdirSync(EXAMPLE, { recursive: true }).length;
    const { config } = await loadConfigStrict(EXAMPLE);
    const d = await dryRun(EXAMPLE, config);
    assert.equal(d.plan.ticket_id, 'D201');
    assert.deepEqual(d.plan.ac_ids, ['D201::AC-2', 'D201::AC-3']);
    assert.deepEqual(d.plan.scope.modify, ['engine/pricing.py', 'tests/test_pricing.py']);
    assert.equal(d.plan.timeout_minutes, 10);
    assert.equal(d.worker.network, 'none');
    assert.deepEqual(d.worker.limits, { memoryMb: 1024, cpus: 1, pidsLimit: 256, tmpfsMb: 256, workspaceMb: 1024, timeMinutes: 10 });
    assert.ok(d.worker.mounts.some((m) => m.container === '/workspace/engine/fees.py' && m.mode === 'ro'), 'readonly paths are overlaid read-only');
    assert.deepEqual(d.gate.guards.map((g) => g.command.join(' ')), ['python3 scripts/check_no_duplicate_pnl.py', 'python3 scripts/check_engine_centricity.py']);
    assert.deepEqual(d.gate.stages.map((s) => [s.name, s.timeoutSeconds]), [['doctor', 120], ['fast', 300], ['regression', 600]]);
    assert.deepEqual([d.killSwitches.budgetUsd, d.killSwitches.maxRetries, d.killSwitches.escalateAfterFails, d.killSwitches.attempts], [1, 3, 2, 0]);
    assert.equal(d.auditor.called, false);
    assert.equal(fs.readdirSync(EXAMPLE, { recursive: true }).length, before);
  });

  it('calls the Auditor for a ticket whose scope the risk rules rate CRIT', async () => {
    const { config } = await loadConfigStrict(EXAMPLE);
    config.scope.tickets.push({ ticket: 'D302', modify: ['engine/pnl.py'] });
    const d = await dryRun(EXAMPLE, config, { ticket: 'D302' });
    assert.equal(d.plan.risk_level, 'CRIT');
    // The cost gate (issue 16): CRIT's Worker is the table's (standard by default); the Auditor is the level's.
    const crit = config.routing.levels.CRIT;
    const tier = typeof crit.worker === 'string' ? crit.worker : d.plan.model_budget;
    assert.equal(d.plan.model_budget, tier);
    assert.equal(d.plan.model, typeof crit.worker === 'string' ? config.routing.tiers[crit.worker].model : crit.worker.model);
    assert.equal(d.auditor.called, true);
    assert.match(d.auditor.why ?? '', /CRIT/);
    assert.deepEqual([d.auditor.agent, d.auditor.model], [crit.auditor?.agent, crit.auditor?.model]);
    assert.equal(d.auditor.reserveUsd, d.plan.routing?.reserve_usd);
    assert.ok((d.auditor.reserveUsd ?? 0) > 0, 'a priced Auditor has a reserve');
    const text = formatDryRun(d);
    assert.match(text, new RegExp(`^routing   Worker: \\S+ ${d.plan.model} \\(${tier}\\) — risk CRIT → routing\\.levels\\.CRIT\\.worker`, 'm'));
    assert.match(text, new RegExp(`^ +Auditor: ${crit.auditor?.agent} ${crit.auditor?.model} \\(premium\\), reserve \\$\\d+\\.\\d+ — risk CRIT ≥ risk\\.auditorAt HIGH`, 'm'));
  });

  it('shows a LOW ticket on the economy route with "Auditor: not needed", and --model as an override', async () => {
    const { config } = await loadConfigStrict(EXAMPLE);
    const d = await dryRun(EXAMPLE, config, { ticket: 'D201', model: 'gpt-5-nano' });
    assert.equal(d.plan.risk_level, 'LOW');
    assert.equal(d.plan.agent, config.routing.tiers.economy.agent);
    assert.equal(d.plan.model, 'gpt-5-nano');
    assert.equal(d.plan.routing?.override, '--model gpt-5-nano');
    assert.deepEqual([d.auditor.called, d.auditor.agent, d.auditor.reserveUsd], [false, null, null]);
    const text = formatDryRun(d);
    assert.match(text, /^ +Auditor: not needed$/m);
    assert.match(text, /^ +override: --model gpt-5-nano$/m);
  });
});

describe('factory tail: every cycle in flight (one per slot of a parallel run)', function () {
  this.timeout(60_000);
  it('prints each slot\'s run and phase, even before the first history line; --json names the slot', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-tail-'));
    try {
      fs.cpSync(EXAMPLE, dir, { recursive: true });
      fs.rmSync(path.join(dir, 'logs/autopilot/history.jsonl'), { force: true });
      const ap = 'logs/autopilot';
      const base = { version: 1 as const, acIds: [], baseCommit: 'abc', startedAt: '2026-12-06T04:30:00.000Z', owner: 'host:1' };
      await writeCycleState(stateFile(dir, ap, 0), { ...base, runId: '20261206_043000_d201_aaaaaaa', ticketId: 'D201', phase: 'DO' });
      await writeCycleState(stateFile(dir, ap, 2), { ...base, runId: '20261206_043001_d203_bbbbbbb', ticketId: 'D203', phase: 'CHECK' });
      const cli = (...args: string[]) => execFileSync(process.execPath, ['--import', 'tsx', path.join(__dirname, '..', '..', '..', 'src/cli/main.ts'), 'tail', '--root', dir, ...args], { encoding: 'utf8' });
      const text = cli();
      assert.match(text, /^in flight\s+DO\s+D201\s+20261206_043000_d201_aaaaaaa$/m);
      assert.match(text, /^in flight #2\s+CHECK\s+D203\s+20261206_043001_d203_bbbbbbb$/m);
      const lines = cli('--json').trim().split('\n').map((l) => JSON.parse(l) as { type: string; ticketId: string; slot: number });
      assert.deepEqual(lines.filter((l) => l.type === 'phase').map((l) => [l.ticketId, l.slot]), [['D201', 0], ['D203', 2]]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
