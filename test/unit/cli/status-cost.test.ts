import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as os from 'node:os';
import { collectCost, emptyMonth, renderCost, type StatusCost } from '../../../src/cli/commands/status-cost';
import { readMonthSummary, summarizeHistoryFile, summarizeMonth } from '../../../src/core/cycle/cost-summary';
import { appendHistory } from '../../../src/core/history/history';
import { buildCli, copyDemo, runCli, tempDirs } from './cli-process';

const group = (costUsd: number, cycles = 1, unpriced?: boolean) => ({ cycles, costUsd, ...(unpriced ? { unpriced } : {}) });

function cost(over: Partial<StatusCost> = {}): StatusCost {
  return {
    month: '202611', totalUsd: 0.37, cycles: 2, byStatus: { PASS: 2 }, byTicket: {}, byAgent: {},
    byModel: { 'gpt-5-mini': group(0.12, 2), 'claude-opus-4-5': group(0.25) },
    byRole: { worker: group(0.12, 2), auditor: group(0.25) },
    byTier: { economy: group(0.12, 2), premium: group(0.25) },
    byDay: {}, acceptedAcs: 2, usdPerAcceptedAc: 0.185, source: 'summary', ...over,
  };
}

describe('factory status: the month\'s cost (render)', () => {
  it('with no summary and no history the empty month is what cost-summary.ts computes, without loading it', async () => {
    assert.deepEqual(emptyMonth('202612'), summarizeMonth([], '202612'));
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'status-cost-'));
    try {
      const want = readMonthSummary(path.join(dir, 'logs/autopilot/cost_summary_202612.json'), path.join(dir, 'logs/autopilot/history.jsonl'), '202612');
      assert.deepEqual(await collectCost(dir, 'logs/autopilot', '202612'), { ...want.summary, source: want.source });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('prints the total, per accepted AC, and each group largest first with its cycles', () => {
    const lines = renderCost(cost());
    assert.deepEqual(lines, [
      'Cost       2026-11: $0.3700 over 2 cycles; $0.1850 per accepted AC (2 ACs)',
      '  by model   claude-opus-4-5 $0.2500 (1 cycle) · gpt-5-mini $0.1200 (2 cycles)',
      '  by role    auditor $0.2500 (1 cycle) · worker $0.1200 (2 cycles)',
      '  by tier    premium $0.2500 (1 cycle) · economy $0.1200 (2 cycles)',
    ]);
  });

  it('an unpriced model reads "unpriced", never "$0"; groups and totals holding it say "incl. unpriced"', () => {
    const lines = renderCost(cost({
      totalUsd: 1.5,
      byModel: { 'local-llm': group(0, 1, true), 'gpt-5-mini': group(1.5) },
      byRole: { worker: group(1.5, 1, true) },
      byTier: { unattributed: group(1.5, 1, true) },
      acceptedAcs: 1, usdPerAcceptedAc: 1.5,
    }));
    assert.match(lines[0], /\$1\.50 incl\. unpriced over 2 cycles; \$1\.50 incl\. unpriced per accepted AC \(1 AC\)$/);
    assert.match(lines[1], /local-llm unpriced \(1 cycle\)/);
    assert.doesNotMatch(lines[1], /local-llm \$/);
    assert.match(lines[2], /worker \$1\.50 incl\. unpriced/);
  });

  it('no AC accepted yet, and a month without cycles, say so', () => {
    assert.match(renderCost(cost({ acceptedAcs: 0, usdPerAcceptedAc: null }))[0], /; no AC accepted yet$/);
    assert.deepEqual(renderCost(cost({ cycles: 0, totalUsd: 0 })), ['Cost       2026-11: no cycle recorded this month']);
  });
});

describe('factory status: the month\'s cost (real process)', function () {
  this.timeout(60_000);
  const tmp = tempDirs();
  before(() => buildCli());
  after(() => tmp.cleanup());

  it('computes the month from history.jsonl when no summary file exists; --json has the same figures under cost', async () => {
    const root = copyDemo(tmp.make('status-cost'));
    const history = path.join(root, 'logs/autopilot/history.jsonl');
    assert.ok(!fs.existsSync(path.join(root, 'logs/autopilot')), 'the example has no records yet');
    await appendHistory(history, {
      runId: 'r1', ticketId: 'D201', acIds: ['D201::AC-1'], status: 'PASS', endedAt: '2026-11-03T10:00:00Z', costUsd: 0.35, agent: 'codex', model: 'gpt-5-mini',
      spend: [{ role: 'worker', agent: 'codex', model: 'gpt-5-mini', tier: 'economy', costUsd: 0.1 }, { role: 'auditor', agent: 'claude-code', model: 'claude-opus-4-5', tier: 'premium', costUsd: 0.25 }],
    });
    await appendHistory(history, {
      runId: 'r2', ticketId: 'D202', acIds: ['D202::AC-1'], status: 'FAIL', endedAt: '2026-11-04T10:00:00Z', costUsd: 0.2, agent: 'custom', model: 'local-llm',
      spend: [{ role: 'worker', agent: 'custom', model: 'local-llm', costUsd: 0.2, priced: false }],
    });
    const r = runCli(['status', '--root', root, '--json', '--month', '202611']);
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout) as { cost: StatusCost };
    assert.equal(s.cost.source, 'history');
    assert.deepEqual({ ...s.cost, source: undefined }, { ...summarizeHistoryFile(history, '202611'), source: undefined });
    assert.equal(s.cost.totalUsd, 0.55);
    assert.equal(s.cost.usdPerAcceptedAc, 0.55);
    assert.deepEqual(s.cost.byModel['local-llm'], { cycles: 1, costUsd: 0.2, unpriced: true });

    const human = runCli(['status', '--root', root, '--month', '202611']);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /^Cost {7}2026-11: \$0\.5500 incl\. unpriced over 2 cycles; \$0\.5500 incl\. unpriced per accepted AC \(1 AC\)$/m);
    assert.match(human.stdout, /^ {2}by model {3}claude-opus-4-5 \$0\.2500 \(1 cycle\) · local-llm unpriced \(1 cycle\) · gpt-5-mini \$0\.1000 \(1 cycle\)$/m);
    assert.match(human.stdout, /^ {2}by role {4}worker \$0\.3000 incl\. unpriced \(2 cycles\) · auditor \$0\.2500 \(1 cycle\)$/m);
    assert.match(human.stdout, /^ {2}by tier {4}premium \$0\.2500 \(1 cycle\) · unattributed \$0\.2000 incl\. unpriced \(1 cycle\) · economy \$0\.1000 \(1 cycle\)$/m);
    assert.doesNotMatch(human.stdout, /local-llm \$0/);
  });

  it('reads the month\'s cost_summary file when it is there; a bad --month is a usage error', () => {
    const root = copyDemo(tmp.make('status-cost-file'));
    const summary = { month: '202611', totalUsd: 2.5, cycles: 4, byStatus: { PASS: 4 }, byTicket: {}, byAgent: {}, byModel: { 'gpt-5': { cycles: 4, costUsd: 2.5 } }, byRole: {}, byTier: {}, byDay: {}, acceptedAcs: 5, usdPerAcceptedAc: 0.5 };
    fs.mkdirSync(path.join(root, 'logs/autopilot'), { recursive: true });
    fs.writeFileSync(path.join(root, 'logs/autopilot/cost_summary_202611.json'), JSON.stringify(summary));
    const r = runCli(['status', '--root', root, '--json', '--month', '202611']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual((JSON.parse(r.stdout) as { cost: unknown }).cost, { ...summary, source: 'summary' });
    const bad = runCli(['status', '--root', root, '--month', '2026-11']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--month: expected YYYYMM/);
  });
});
