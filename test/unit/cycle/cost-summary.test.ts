import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseHistoryEntry, type HistoryEntry } from '../../../src/core/contracts/history-entry';
import { costSummarySchema } from '../../../src/core/contracts/records';
import { readMonthSummary, summarizeHistoryFile, summarizeMonth, summaryRecords } from '../../../src/core/cycle/cost-summary';
import { appendHistory } from '../../../src/core/history/history';

type Line = Partial<HistoryEntry> & { runId: string };
const records = (lines: Line[]) => summaryRecords(lines.map((l) => parseHistoryEntry({ ticketId: 'D1', status: 'PASS', endedAt: '2026-11-05T10:00:00Z', ...l })!));

const worker = (model: string, costUsd: number, extra: Partial<NonNullable<HistoryEntry['spend']>[number]> = {}) => ({ role: 'worker' as const, agent: 'codex', model, tier: 'economy', costUsd, ...extra });
const auditor = (model: string, costUsd: number, extra: Partial<NonNullable<HistoryEntry['spend']>[number]> = {}) => ({ role: 'auditor' as const, agent: 'claude-code', model, tier: 'premium', costUsd, ...extra });

describe('monthly cost summary by model, role, tier and day (issue 16)', () => {
  it('each role\'s model counts: a cycle with a Worker and an Auditor on other models lands in both models, both roles and both tiers', () => {
    const s = summarizeMonth(records([
      { runId: 'a', acIds: ['D1::AC-1'], costUsd: 0.35, agent: 'codex', model: 'gpt-5-mini', spend: [worker('gpt-5-mini', 0.1), auditor('claude-opus-4-5', 0.25)] },
      { runId: 'b', ticketId: 'D2', acIds: ['D2::AC-1'], costUsd: 0.02, agent: 'codex', model: 'gpt-5-mini', spend: [worker('gpt-5-mini', 0.02)] },
    ]), '202611');
    assert.ok(costSummarySchema.safeParse(s).success);
    assert.equal(s.totalUsd, 0.37);
    assert.deepEqual(s.byModel, { 'gpt-5-mini': { cycles: 2, costUsd: 0.12 }, 'claude-opus-4-5': { cycles: 1, costUsd: 0.25 } });
    assert.deepEqual(s.byRole, { worker: { cycles: 2, costUsd: 0.12 }, auditor: { cycles: 1, costUsd: 0.25 } });
    assert.deepEqual(s.byTier, { economy: { cycles: 2, costUsd: 0.12 }, premium: { cycles: 1, costUsd: 0.25 } });
    assert.deepEqual(s.byAgent, { codex: { cycles: 2, costUsd: 0.12 }, 'claude-code': { cycles: 1, costUsd: 0.25 } });
    assert.deepEqual(s.byTicket, { D1: { cycles: 1, costUsd: 0.35 }, D2: { cycles: 1, costUsd: 0.02 } });
    assert.deepEqual(s.byDay, { '2026-11-05': { 'gpt-5-mini': 0.12, 'claude-opus-4-5': 0.25 } });
    assert.equal(s.acceptedAcs, 2);
    assert.equal(s.usdPerAcceptedAc, 0.185);
  });

  it('a person\'s unblock line (issue 20) is no cycle: neither counted nor by status', () => {
    const s = summarizeMonth(records([
      { runId: 'r1', status: 'BLOCKED', costUsd: 0.3 },
      { runId: 'r2', status: 'BLOCKED', costUsd: 0, unblocked: { by: 'a person', from: 'BLOCKED (retry cap)', to: 'OPEN' } },
    ]), '202611');
    assert.equal(s.cycles, 1);
    assert.deepEqual(s.byStatus, { BLOCKED: 1 });
  });

  it('sums thousands of small costs without float drift and rounds to micro-dollars', () => {
    const lines = Array.from({ length: 1000 }, (_, i) => ({ runId: `r${i}`, acIds: [`D1::AC-${i}`], costUsd: 0.0001234567, spend: [worker('gpt-5-mini', 0.0001234567)] }));
    const s = summarizeMonth(records(lines), '202611');
    assert.equal(s.totalUsd, 0.123);
    assert.equal(s.byModel['gpt-5-mini'].costUsd, 0.123);
    assert.equal(s.byDay?.['2026-11-05']['gpt-5-mini'], 0.123);
    assert.equal(s.usdPerAcceptedAc, 0.000123);
    // 1/3 of a dollar per AC is rounded, not printed as 0.3333333333.
    const third = summarizeMonth(records([{ runId: 'x', acIds: ['A::1', 'A::2', 'A::3'], costUsd: 1 }]), '202611');
    assert.equal(third.usdPerAcceptedAc, 0.333333);
  });

  it('older lines: no spend → the whole cost under the line\'s agent and model and unattributed by role and tier; controller-only spend leaves the rest unattributed', () => {
    const s = summarizeMonth(records([
      { runId: 'old', costUsd: 0.4, agent: 'replay' },
      { runId: 'ctl', costUsd: 0.3, agent: 'claude-code', model: 'claude-sonnet-4-5', spend: [{ role: 'controller', model: 'claude-sonnet-4-5', costUsd: 0.1 }] },
      { runId: 'free', costUsd: 0, agent: 'replay' },
    ]), '202611');
    assert.deepEqual(s.byAgent, { replay: { cycles: 2, costUsd: 0.4 }, controller: { cycles: 1, costUsd: 0.1 }, 'claude-code': { cycles: 1, costUsd: 0.2 } });
    assert.deepEqual(s.byModel, { unknown: { cycles: 2, costUsd: 0.4 }, 'claude-sonnet-4-5': { cycles: 1, costUsd: 0.3 } });
    assert.deepEqual(s.byRole, { unattributed: { cycles: 2, costUsd: 0.6 }, controller: { cycles: 1, costUsd: 0.1 } });
    assert.deepEqual(s.byTier, { unattributed: { cycles: 2, costUsd: 0.7 } });
    assert.deepEqual(s.byDay, { '2026-11-05': { unknown: 0.4, 'claude-sonnet-4-5': 0.3 } });
  });

  it('a model without a price marks every group it spent in as unpriced; priced groups are not marked', () => {
    const s = summarizeMonth(records([
      { runId: 'u', costUsd: 0.5, spend: [worker('my-local-model', 0.4, { priced: false }), auditor('claude-opus-4-5', 0.1, { priced: true })] },
      { runId: 'p', ticketId: 'D2', costUsd: 0.1, spend: [worker('gpt-5-mini', 0.1)] },
    ]), '202611');
    assert.deepEqual(s.byModel['my-local-model'], { cycles: 1, costUsd: 0.4, unpriced: true });
    assert.deepEqual(s.byModel['claude-opus-4-5'], { cycles: 1, costUsd: 0.1 });
    assert.deepEqual(s.byRole?.worker, { cycles: 2, costUsd: 0.5, unpriced: true });
    assert.equal(s.byRole?.auditor.unpriced, undefined);
    assert.equal(s.byTicket.D1.unpriced, true);
    assert.equal(s.byTicket.D2.unpriced, undefined);
    assert.equal(s.byAgent.codex.unpriced, true);
  });

  it('several months: each summary counts only its own month and days; accepted ACs are distinct ACs of PASS lines', () => {
    const lines = records([
      { runId: 'oct', acIds: ['D1::AC-1'], endedAt: '2026-10-31T23:59:59Z', costUsd: 1, spend: [worker('gpt-5-mini', 1)] },
      { runId: 'n1', acIds: ['D1::AC-1', 'D1::AC-2'], endedAt: '2026-11-01T00:00:00Z', costUsd: 0.2, spend: [worker('gpt-5-mini', 0.2)] },
      // The same AC accepted again (a re-run after a revert) counts once.
      { runId: 'n2', acIds: ['D1::AC-2'], endedAt: '2026-11-02T08:00:00Z', costUsd: 0.2, spend: [worker('gpt-5-mini', 0.2)] },
      // A FAIL accepts nothing, whatever it names; a PASS caused otherwise still counts by its status.
      { runId: 'n3', acIds: ['D1::AC-3'], status: 'FAIL', endedAt: '2026-11-02T09:00:00Z', costUsd: 0.2, spend: [worker('gpt-5', 0.2)] },
      { runId: 'dec', acIds: ['D1::AC-4'], endedAt: '2026-12-01T00:00:00Z', costUsd: 3 },
    ]);
    const oct = summarizeMonth(lines, '202610');
    const nov = summarizeMonth(lines, '202611');
    const jan = summarizeMonth(lines, '202701');
    assert.deepEqual([oct.cycles, oct.totalUsd, oct.acceptedAcs, oct.usdPerAcceptedAc], [1, 1, 1, 1]);
    assert.deepEqual(Object.keys(oct.byDay ?? {}), ['2026-10-31']);
    assert.deepEqual([nov.cycles, nov.totalUsd, nov.acceptedAcs, nov.usdPerAcceptedAc], [3, 0.6, 2, 0.3]);
    assert.deepEqual(nov.byDay, { '2026-11-01': { 'gpt-5-mini': 0.2 }, '2026-11-02': { 'gpt-5-mini': 0.2, 'gpt-5': 0.2 } });
    assert.deepEqual([jan.cycles, jan.totalUsd, jan.acceptedAcs, jan.usdPerAcceptedAc], [0, 0, 0, null]);
    assert.ok(costSummarySchema.safeParse(jan).success);
  });

  it('a line whose end time is no timestamp is in no month (the summary does not throw on it)', () => {
    const s = summarizeMonth(records([{ runId: 'bad', endedAt: 'yesterday', costUsd: 5 }, { runId: 'ok', costUsd: 0.1 }]), '202611');
    assert.deepEqual([s.cycles, s.totalUsd], [1, 0.1]);
  });

  it('spend entries that claim more than the line cost are counted as written; nothing is left unattributed', () => {
    const s = summarizeMonth(records([{ runId: 'x', costUsd: 0.1, spend: [worker('gpt-5-mini', 0.15)] }]), '202611');
    assert.equal(s.totalUsd, 0.1);
    assert.deepEqual(s.byRole, { worker: { cycles: 1, costUsd: 0.15 } });
  });
});

describe('reading the month\'s summary', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cost-summary-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('computes from history.jsonl when no summary file exists, and reads the file when it has this version\'s fields', async () => {
    const history = path.join(dir, 'history.jsonl');
    const file = path.join(dir, 'cost_summary_202611.json');
    await appendHistory(history, { runId: 'r1', ticketId: 'D1', acIds: ['D1::AC-1'], status: 'PASS', endedAt: '2026-11-03T10:00:00Z', costUsd: 0.5, spend: [worker('gpt-5-mini', 0.5)] });
    const computed = readMonthSummary(file, history, '202611');
    assert.equal(computed.source, 'history');
    assert.equal(computed.summary.usdPerAcceptedAc, 0.5);
    assert.deepEqual(computed.summary, summarizeHistoryFile(history, '202611'));

    fs.writeFileSync(file, JSON.stringify({ ...computed.summary, totalUsd: 7 }));
    assert.deepEqual(readMonthSummary(file, history, '202611'), { summary: { ...computed.summary, totalUsd: 7 }, source: 'summary' });
    // A summary written before issue 16 (no byTier/byDay/acceptedAcs) or a damaged file: from history.
    fs.writeFileSync(file, JSON.stringify({ month: '202611', totalUsd: 7, cycles: 1, byStatus: {}, byTicket: {}, byAgent: {}, byModel: {} }));
    assert.equal(readMonthSummary(file, history, '202611').source, 'history');
    // Written from records without their acIds (PASS cycles, no accepted AC): recomputed from history.
    fs.writeFileSync(file, JSON.stringify({ ...computed.summary, acceptedAcs: 0, usdPerAcceptedAc: null }));
    assert.deepEqual(readMonthSummary(file, history, '202611'), computed);
    fs.writeFileSync(file, '{ not json');
    assert.equal(readMonthSummary(file, history, '202611').summary.totalUsd, 0.5);
    assert.equal(readMonthSummary(file, path.join(dir, 'none.jsonl'), '202612').summary.cycles, 0);
  });
});
