import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { defaultConfig } from '../../../src/core/config/schema';
import { cycleRecords } from '../../../src/core/cycle/cycle-paths';
import { evaluateKillSwitches, type CycleRecord } from '../../../src/core/cycle/kill-switches';
import { planVerdict } from '../../../src/core/cycle/verdict';
import { appendHistory } from '../../../src/core/history/history';

let seq = 0;
const fail = (countsAsRetry?: boolean): CycleRecord => ({
  runId: `r${seq++}`,
  ticketId: 'T',
  status: 'FAIL',
  endedAt: '2026-12-06T04:00:00Z',
  costUsd: 0.1,
  ...(countsAsRetry === undefined ? {} : { requeue: { reason: 'merge queue', countsAsRetry, head: 'a'.repeat(40) } }),
});

describe('kill switches and the merge queue\'s requeues (issue 18, item 3)', () => {
  const config = defaultConfig();

  it('a requeue not counted as a retry is no attempt and does not break or extend a run of FAILs', () => {
    const d = evaluateKillSwitches([fail(), fail(false), fail(false), fail(false)], 'T', config);
    assert.deepEqual([d.attempts, d.consecutiveFails, d.escalate, d.block], [1, 1, false, false]);
    // Three not counted after two FAILs: still two consecutive (escalation), never the cap of 3.
    const e = evaluateKillSwitches([fail(), fail(false), fail(), fail(false), fail(false)], 'T', config);
    assert.deepEqual([e.attempts, e.consecutiveFails, e.escalate, e.block], [2, 2, true, false]);
  });

  it('a requeue counted as a retry (the change at fault on that HEAD) counts like any FAIL, up to the cap', () => {
    const d = evaluateKillSwitches([fail(true), fail(), fail(true)], 'T', config);
    assert.deepEqual([d.attempts, d.block], [3, true]);
    assert.equal(planVerdict([fail(true), fail(true), fail(true)], 'T', config).blocked?.status, 'BLOCKED');
    assert.equal(planVerdict([fail(false), fail(false), fail(false)], 'T', config).blocked, null);
  });

  it('the history line\'s requeue field reaches the kill switches (history.jsonl round trip)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-ks-requeue-'));
    try {
      const file = path.join(dir, 'history.jsonl');
      for (const r of [fail(false), fail(false), fail(false), fail(true)]) await appendHistory(file, r);
      const records = cycleRecords(file);
      assert.deepEqual(records.map((r) => r.requeue?.countsAsRetry), [false, false, false, true]);
      assert.equal(evaluateKillSwitches(records, 'T', config).attempts, 1);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
