import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { defaultConfig } from '../../../src/core/config/schema';
import type { CostSummary } from '../../../src/core/contracts/records';
import { appendHistory } from '../../../src/core/history/history';
import { buildCostDashboard } from '../../../src/extension/panels/cost/cost-data';
import { dailySeries, daysOfMonth, monthCostView, OTHER_SERIES } from '../../../src/extension/panels/cost/month-cost';
import { costDashboard, DAILY_SERIES_MAX, parseHostMessage } from '../../../src/shared/protocol';

const spend = (role: 'worker' | 'auditor' | 'controller', agent: string | undefined, model: string, costUsd: number, extra: Record<string, unknown> = {}) => ({ role, ...(agent ? { agent } : {}), model, costUsd, ...extra });

describe('Cost dashboard data: the month by model, role, tier and day (real history file)', () => {
  let root: string;
  const config = defaultConfig();
  beforeEach(() => (root = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-cost-'))));
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  it('shows the newest month with a cycle; each role\'s spend lands on its own agent and model', async () => {
    const history = path.join(root, config.paths.autopilot, 'history.jsonl');
    await appendHistory(history, { runId: '20261030_100000_d1_a', ticketId: 'D1', acIds: ['D1::AC-1'], status: 'PASS', endedAt: '2026-10-30T10:00:00Z', costUsd: 2, agent: 'codex', model: 'gpt-5-mini' });
    await appendHistory(history, {
      runId: '20261103_100000_d2_a', ticketId: 'D2', acIds: ['D2::AC-1', 'D2::AC-2'], status: 'PASS', endedAt: '2026-11-03T10:00:00Z', costUsd: 0.45, agent: 'claude-code', model: 'claude-sonnet-4-5',
      spend: [spend('controller', undefined, 'claude-sonnet-4-5', 0.05), spend('worker', 'claude-code', 'claude-sonnet-4-5', 0.15, { tier: 'standard' }), spend('auditor', 'codex', 'gpt-5', 0.25, { tier: 'premium' })],
    });
    await appendHistory(history, {
      runId: '20261105_100000_d3_a', ticketId: 'D3', acIds: ['D3::AC-1'], status: 'FAIL', endedAt: '2026-11-05T10:00:00Z', costUsd: 0.2, agent: 'custom', model: 'local-llm',
      spend: [spend('worker', 'custom', 'local-llm', 0.2, { priced: false })],
    });
    const d = buildCostDashboard(root, config);
    assert.ok(costDashboard.safeParse(d).success, JSON.stringify(costDashboard.safeParse(d).error?.issues));
    assert.ok(parseHostMessage({ type: 'cost.dashboard', dashboard: d }).ok);
    const m = d.month!;
    assert.equal(m.month, '2026-11');
    assert.deepEqual([m.totalUsd, m.cycles, m.acceptedAcs, m.usdPerAcceptedAc, m.unpriced], [0.65, 2, 2, 0.325, true]);
    assert.deepEqual(m.byModel, [
      { label: 'gpt-5', usd: 0.25, cycles: 1, unpriced: false },
      { label: 'claude-sonnet-4-5', usd: 0.2, cycles: 1, unpriced: false },
      { label: 'local-llm', usd: 0.2, cycles: 1, unpriced: true },
    ]);
    assert.deepEqual(m.byRole.map((r) => [r.label, r.usd, r.unpriced]), [['worker', 0.35, true], ['auditor', 0.25, false], ['controller', 0.05, false]]);
    assert.deepEqual(m.byTier.map((r) => [r.label, r.usd]), [['premium', 0.25], ['unattributed', 0.25], ['standard', 0.15]]);
    assert.deepEqual(m.daily.models, ['gpt-5', 'claude-sonnet-4-5', 'local-llm']);
    assert.deepEqual(m.daily.unpriced, ['local-llm']);
    assert.equal(m.daily.days.length, 30);
    assert.deepEqual(m.daily.days[2], { day: '2026-11-03', usd: [0.25, 0.2, 0] });
    assert.deepEqual(m.daily.days[4], { day: '2026-11-05', usd: [0, 0, 0.2] });
    // The all-time bars: the Auditor's model is its own agent/model row, not the Worker's.
    assert.deepEqual(d.byAgentModel.map((b) => [b.label, b.usd, b.cycles]), [
      ['codex / gpt-5-mini', 2, 1], ['codex / gpt-5', 0.25, 1], ['custom / local-llm', 0.2, 1], ['claude-code / claude-sonnet-4-5', 0.15, 1], ['controller / claude-sonnet-4-5', 0.05, 1],
    ]);
    assert.deepEqual(d.byMonth.map((b) => [b.label, b.usd]), [['2026-10', 2], ['2026-11', 0.65]]);
  });

  it('no history: no month; past DAILY_SERIES_MAX models the smallest are summed as "other"', () => {
    assert.equal(buildCostDashboard(root, config).month, null);
    const byDay: Record<string, Record<string, number>> = { '2026-02-10': {} };
    const byModel: CostSummary['byModel'] = {};
    for (let i = 0; i < DAILY_SERIES_MAX + 3; i++) {
      byDay['2026-02-10'][`m${i}`] = 10 - i * 0.5;
      byModel[`m${i}`] = { cycles: 1, costUsd: 10 - i * 0.5, ...(i === 9 ? { unpriced: true } : {}) };
    }
    const s: CostSummary = { month: '202602', totalUsd: 1, cycles: 1, byStatus: {}, byTicket: {}, byAgent: {}, byModel, byDay };
    const daily = dailySeries(s);
    assert.equal(daily.models.length, DAILY_SERIES_MAX);
    assert.equal(daily.models.at(-1), OTHER_SERIES);
    assert.deepEqual(daily.models.slice(0, 2), ['m0', 'm1']);
    assert.equal(daily.days.length, 28);
    const feb10 = daily.days.find((x) => x.day === '2026-02-10')!;
    // m7 … m10 (6.5 + 6 + 5.5 + 5) are "other".
    assert.equal(feb10.usd.at(-1), 23);
    assert.equal(feb10.usd.reduce((a, b) => a + b, 0), Array.from({ length: DAILY_SERIES_MAX + 3 }, (_, i) => 10 - i * 0.5).reduce((a, b) => a + b, 0));
    assert.deepEqual(daily.unpriced, [], 'an unpriced model summed into "other" is not a series of its own');
    assert.deepEqual(daysOfMonth('202402').length, 29);
    const view = monthCostView({ ...s, acceptedAcs: 0, usdPerAcceptedAc: null });
    assert.equal(view.usdPerAcceptedAc, null);
    assert.equal(view.unpriced, true);
  });
});
