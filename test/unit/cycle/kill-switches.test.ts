import { strict as assert } from 'node:assert';
import { defaultConfig } from '../../../src/core/config/schema';
import { summarizeMonth, monthOf } from '../../../src/core/cycle/cost-summary';
import { budgetExceeded, evaluateKillSwitches, type CycleRecord, type CycleStatus } from '../../../src/core/cycle/kill-switches';

let seq = 0;
function rec(ticketId: string, status: CycleStatus, costUsd = 0.1, endedAt = '2026-11-02T10:00:00Z', model = 'claude-sonnet-4-5'): CycleRecord {
  return { runId: `r${seq++}`, ticketId, status, endedAt, costUsd, agent: 'claude-code', model };
}

describe('kill switches', () => {
  const config = defaultConfig();

  it('escalates to the Auditor after 2 consecutive FAILs and blocks at the retry cap of 3', () => {
    const h: CycleRecord[] = [rec('T', 'FAIL')];
    assert.equal(evaluateKillSwitches(h, 'T', config).escalate, false);
    h.push(rec('T', 'FAIL'));
    const two = evaluateKillSwitches(h, 'T', config);
    assert.deepEqual([two.attempts, two.consecutiveFails, two.escalate, two.block], [2, 2, true, false]);
    h.push(rec('T', 'TIMEOUT'));
    const three = evaluateKillSwitches(h, 'T', config);
    assert.equal(three.block, true);
    assert.match(three.reason ?? '', /retry cap: 3/);
  });

  it('counts only this ticket, ignores ABORTED, and resets after a PASS', () => {
    const h = [rec('T', 'FAIL'), rec('T', 'FAIL'), rec('T', 'PASS'), rec('U', 'FAIL'), rec('T', 'ABORTED'), rec('T', 'FAIL')];
    const d = evaluateKillSwitches(h, 'T', config);
    assert.deepEqual([d.attempts, d.consecutiveFails, d.escalate, d.block], [1, 1, false, false]);
  });

  it('follows configured caps', () => {
    const strict = { ...config, killSwitch: { ...config.killSwitch, maxRetries: 1 } };
    assert.equal(evaluateKillSwitches([rec('T', 'FAIL')], 'T', strict).block, true);
    assert.equal(budgetExceeded(0.99, config), false);
    assert.equal(budgetExceeded(1.0, config), true);
  });
});

describe('monthly cost summary', () => {
  it('aggregates one month by ticket, agent, model and status without float drift', () => {
    const h = [
      ...Array.from({ length: 10 }, () => rec('A', 'PASS', 0.1)),
      rec('B', 'FAIL', 0.0105, '2026-11-30T23:59:59Z', 'gpt-5'),
      rec('B', 'FAIL', 5, '2026-12-01T00:00:00Z'),
    ];
    const s = summarizeMonth(h, '202611');
    assert.equal(s.cycles, 11);
    assert.equal(s.totalUsd, 1.0105);
    assert.deepEqual(s.byTicket.A, { cycles: 10, costUsd: 1 });
    assert.deepEqual(s.byModel['gpt-5'], { cycles: 1, costUsd: 0.0105 });
    assert.deepEqual(s.byStatus, { PASS: 10, FAIL: 1 });
    assert.equal(monthOf('2026-12-01T00:00:00Z'), '202612');
    assert.throws(() => monthOf('yesterday'));
  });
});
