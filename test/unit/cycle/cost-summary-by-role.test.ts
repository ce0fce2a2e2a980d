import * as assert from 'node:assert/strict';
import { costSummarySchema } from '../../../src/core/contracts/records';
import { parseHistoryEntry, toCycleRecord, type HistoryEntry } from '../../../src/core/contracts/history-entry';
import { summarizeMonth } from '../../../src/core/cycle/cost-summary';

const line = (runId: string, costUsd: number, spend?: HistoryEntry['spend'], endedAt = '2026-11-05T10:00:00Z') =>
  toCycleRecord(parseHistoryEntry({ runId, ticketId: 'D7', status: 'PASS', endedAt, costUsd, ...(spend ? { spend } : {}) })!);

describe('monthly cost summary by role', () => {
  it('sums each role\'s spend without float drift; what a line does not break down is unattributed', () => {
    const h = [
      ...Array.from({ length: 10 }, (_, i) => line(`c${i}`, 0.3, [{ role: 'controller', model: 'claude-sonnet-4-5', tokens: { in: 1000, out: 200 }, costUsd: 0.1 }, { role: 'worker', costUsd: 0.2 }])),
      line('a', 1.5, [{ role: 'worker', costUsd: 0.5 }, { role: 'auditor', costUsd: 0.75 }, { role: 'controller', costUsd: 0.01 }, { role: 'controller', costUsd: 0.02 }]),
      // Older lines: no breakdown at all.
      line('old', 0.4),
      line('next-month', 9, [{ role: 'controller', costUsd: 9 }], '2026-12-01T00:00:00Z'),
    ];
    const s = summarizeMonth(h, '202611');
    assert.ok(costSummarySchema.safeParse(s).success);
    assert.equal(s.totalUsd, 4.9);
    assert.deepEqual(s.byRole, {
      controller: { cycles: 11, costUsd: 1.03 },
      worker: { cycles: 11, costUsd: 2.5 },
      auditor: { cycles: 1, costUsd: 0.75 },
      unattributed: { cycles: 2, costUsd: 0.62 },
    });
  });

  it('a spend entry with an unknown role is left out of the line (the rest of it stays); older summaries without byRole still parse', () => {
    const e = parseHistoryEntry({ runId: 'r', ticketId: 'T', status: 'FAIL', costUsd: 0.2, spend: [{ role: 'intern', costUsd: 1 }, { role: 'controller', costUsd: 0.05 }] });
    assert.deepEqual(e?.spend, [{ role: 'controller', costUsd: 0.05 }]);
    assert.ok(costSummarySchema.safeParse({ month: '202610', totalUsd: 0, cycles: 0, byStatus: {}, byTicket: {}, byAgent: {}, byModel: {} }).success);
  });
});
