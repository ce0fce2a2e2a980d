import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { historyEntrySchema, parseHistoryEntry, toCycleRecord } from '../../../src/core/contracts/history-entry';
import { costSummarySchema, cycleStateSchema } from '../../../src/core/contracts/records';
import { runSnapshot as contractSnapshot } from '../../../src/core/contracts/run-snapshot';
import { CYCLE_PHASES, CYCLE_STATUSES, PHASE_STATUSES } from '../../../src/core/contracts/status';
import { summarizeMonth } from '../../../src/core/cycle/cost-summary';
import { appendHistory, lineHash, readHistory, GENESIS } from '../../../src/core/history/history';
import { runSnapshot } from '../../../src/shared/protocol';

/** Lines as a given writer put them on disk, hash-chained like appendHistory does. */
function chained(records: Record<string, unknown>[]): string {
  let prev = GENESIS;
  return records
    .map((r) => {
      const line: Record<string, unknown> = { ...r, prev_hash: prev };
      line.hash = lineHash(line, prev);
      prev = line.hash as string;
      return JSON.stringify(line) + '\n';
    })
    .join('');
}

describe('records typed once (src/core/contracts)', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-records-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('the status and phase lists are the ones the spec names', () => {
    assert.deepEqual(CYCLE_PHASES, ['PLAN', 'DO', 'CHECK', 'ADJUST']);
    assert.deepEqual(CYCLE_STATUSES, ['PASS', 'FAIL', 'BLOCKED', 'TIMEOUT', 'ABORTED']);
    assert.deepEqual(PHASE_STATUSES, ['PENDING', 'RUNNING', 'PASS', 'FAIL', 'SKIPPED', 'UNKNOWN']);
    assert.equal(runSnapshot, contractSnapshot, 'the protocol carries the contract\u2019s snapshot, not a copy');
  });

  it('a history written by an earlier version still loads: old-shape lines, no problems, typed fields', () => {
    const file = path.join(dir, 'history.jsonl');
    fs.writeFileSync(
      file,
      chained([
        // The first sandbox's orphan line and the first cycle's line: no acIds, phases, cause, model.
        { runId: '20261101_090000_d1_abcdef0', ticketId: 'D1', status: 'ABORTED', endedAt: '2026-11-01T09:10:00Z', costUsd: 0, reason: 'Controller stopped mid-cycle; orphan reaped' },
        { runId: '20261101_100000_d1_abcdef0', ticketId: 'D1', status: 'FAIL', endedAt: '2026-11-01T10:01:00Z', costUsd: 0.25, agent: 'replay', reasons: ['gate fast: FAIL'], applied: false },
        // A field a later version may add is kept as written.
        { runId: '20261101_110000_d1_abcdef0', ticketId: 'D1', acIds: ['D1::AC-1'], status: 'PASS', endedAt: '2026-11-01T11:02:00Z', costUsd: 0.5, agent: 'replay', reasons: [], evidence: 'logs/evidence/x', changes: 2, futureField: { a: 1 } },
      ]),
    );
    const read = readHistory(file);
    assert.deepEqual(read.problems, []);
    assert.deepEqual(read.records.map((r) => r.status), ['ABORTED', 'FAIL', 'PASS']);
    assert.equal(read.records[0].reason, 'Controller stopped mid-cycle; orphan reaped');
    assert.equal(read.records[2].futureField && JSON.stringify(read.records[2].futureField), '{"a":1}');
    const summary = summarizeMonth(read.records.map(toCycleRecord), '202611');
    assert.ok(costSummarySchema.safeParse(summary).success, 'the cost summary is its schema\u2019s shape');
    assert.deepEqual(summary.byStatus, { ABORTED: 1, FAIL: 1, PASS: 1 });
    assert.equal(summary.totalUsd, 0.75);
  });

  it('odd field types are dropped (bad list elements left out), the line keeps its key order; no run id, ticket or status: not an entry', () => {
    const raw = { status: 'FAIL', runId: 'r1', ticketId: 'T', costUsd: 'lots', reasons: ['a', 42, 'b'], phases: [{ name: 'DO', status: 'PASS', durationMs: 5 }, { name: 'LUNCH', status: 'PASS' }], acIds: 'T::AC-1', extra: 1 };
    const e = parseHistoryEntry(raw);
    assert.ok(e);
    assert.deepEqual(Object.keys(e), ['status', 'runId', 'ticketId', 'reasons', 'phases', 'extra']);
    assert.deepEqual(e.reasons, ['a', 'b']);
    assert.deepEqual(e.phases, [{ name: 'DO', status: 'PASS', durationMs: 5 }]);
    assert.equal(e.costUsd, undefined);
    assert.ok(historyEntrySchema.safeParse(e).success);
    assert.equal(parseHistoryEntry({ runId: 'r1', ticketId: 'T', status: 'MAYBE' }), undefined);
    assert.equal(parseHistoryEntry({ ticketId: 'T', status: 'PASS' }), undefined);
    assert.equal(parseHistoryEntry([1, 2]), undefined);
  });

  it('a chained line that is no entry is reported, and the chain after it still verifies', async () => {
    const file = path.join(dir, 'history.jsonl');
    fs.writeFileSync(file, chained([{ runId: 'r1', ticketId: 'T', status: 'PASS' }, { runId: 'r2', note: 'no status' }]));
    await appendHistory(file, { runId: 'r3', ticketId: 'T', status: 'FAIL', endedAt: '2026-11-01T00:00:00Z', costUsd: 0 });
    const read = readHistory(file);
    assert.deepEqual(read.problems.map((p) => [p.line, p.kind]), [[2, 'malformed']]);
    assert.deepEqual(read.records.map((r) => r.runId), ['r1', 'r3']);
  });

  it('the cycle state schema is the one cycle_state.json is read with', () => {
    const state = { version: 1, runId: 'r', ticketId: 'T', acIds: [], phase: 'ADJUST', baseCommit: 'abc', startedAt: '2026-11-01T00:00:00Z', owner: 'h:1', backups: { 'a.md': null } };
    assert.ok(cycleStateSchema.safeParse(state).success);
    assert.ok(!cycleStateSchema.safeParse({ ...state, phase: 'LUNCH' }).success);
  });
});
