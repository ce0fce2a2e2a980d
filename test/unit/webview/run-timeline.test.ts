import * as assert from 'node:assert/strict';
import type { HistoryLine } from '../../../src/core/contracts/history-entry';
import type { CycleOutcome } from '../../../src/core/cycle/cycle-types';
import { CycleFeed } from '../../../src/extension/panels/run/cycle-feed';
import { buildTimeline } from '../../../src/extension/panels/run/run-snapshot';
import { phaseTime } from '../../../src/webview/run/run-view';

const line = (over: Partial<HistoryLine>): HistoryLine => ({ runId: 'r1', ticketId: 'D201', status: 'PASS', prev_hash: '0', hash: '1', ...over });
const shown = (t: ReturnType<typeof buildTimeline>) => t.map((p) => `${p.name} ${p.status} ${phaseTime(p)}`);

/**
 * Issue 20 item 4: a run whose Gate came from the cache showed PLAN and ADJUST as "not recorded".
 * The timeline says what each phase did: its time from history, the Gate from cache, a Gate run
 * without a cycle, a cycle's evidence read before its history line.
 */
describe('Run panel timeline: what each phase did', () => {
  it('a cycle in history whose Gate came from the cache: times from history, CHECK "Gate from cache", ADJUST applied', () => {
    const record = line({ phases: [
      { name: 'PLAN', status: 'PASS', durationMs: 120 },
      { name: 'DO', status: 'PASS', durationMs: 4200 },
      { name: 'CHECK', status: 'PASS', durationMs: 90 },
      { name: 'ADJUST', status: 'PASS', durationMs: null },
    ] });
    const t = buildTimeline(record, { worker: { claimed_status: 'PASS' }, gate_cache: { hit: true, source_run_id: '20261201_000000_d201_abcdef0' } }, []);
    assert.deepEqual(shown(t), ['PLAN PASS 120 ms', 'DO PASS 4.2 s', 'CHECK PASS 90 ms · Gate from cache (PASS of 20261201_000000_d201_abcdef0)', 'ADJUST PASS applied, recorded, committed']);
  });

  it('a FAIL in history: ADJUST says nothing was applied; a cycle BLOCKED at PLAN says why DO and CHECK did not run', () => {
    const fail = line({ status: 'FAIL', phases: [{ name: 'PLAN', status: 'PASS', durationMs: 10 }, { name: 'DO', status: 'PASS', durationMs: 10 }, { name: 'CHECK', status: 'FAIL', durationMs: 10 }, { name: 'ADJUST', status: 'SKIPPED', durationMs: null }] });
    assert.equal(phaseTime(buildTimeline(fail, undefined, [])[3]), 'nothing applied (FAIL)');
    const blocked = line({ status: 'BLOCKED', phases: [{ name: 'PLAN', status: 'SKIPPED', durationMs: null }, { name: 'DO', status: 'SKIPPED', durationMs: null }, { name: 'CHECK', status: 'SKIPPED', durationMs: null }, { name: 'ADJUST', status: 'SKIPPED', durationMs: null }] });
    assert.deepEqual(buildTimeline(blocked, undefined, []).map((p) => phaseTime(p)), ['not run', 'not run (blocked at PLAN)', 'not run (blocked at PLAN)', 'nothing applied (BLOCKED)']);
  });

  it('a Gate run (no Worker, no AC) served from the cache: CHECK alone, the others "not part of a Gate run"', () => {
    const t = buildTimeline(undefined, { run_id: 'g2', ac_ids: [], worker: null, gates: { fast: 'PASS' }, gate_cache: { hit: true, source_run_id: 'g2' }, duration_seconds: 0.2 }, []);
    assert.deepEqual(shown(t), ['PLAN SKIPPED not part of a Gate run', 'DO SKIPPED not part of a Gate run', 'CHECK PASS 200 ms · Gate from cache', 'ADJUST SKIPPED not part of a Gate run']);
  });

  it('a cycle\'s evidence read before its history line: PLAN done, DO as the Worker claimed, ADJUST by the verdict — never "not recorded"', () => {
    const t = buildTimeline(undefined, { ac_ids: ['D201::AC-2'], status: 'PASS', timestamp: '2026-12-01T00:00:00Z', worker: { claimed_status: 'PASS' }, gates: { fast: 'PASS' } }, [{ name: 'fast', status: 'PASS', durationMs: 500, startedAt: '2026-12-01 00:00:01' }]);
    assert.deepEqual(shown(t), ['PLAN PASS done', 'DO PASS the Worker claimed PASS', 'CHECK PASS 500 ms', 'ADJUST PASS applied (its history line not written yet)']);
    assert.ok(!shown(t).some((s) => s.includes('not recorded')));
    // Nothing known at all still says so.
    assert.equal(phaseTime({ status: 'UNKNOWN', durationMs: null }), 'not recorded');
  });

  it('live: a phase the cycle never reached ends "nothing applied" / "not run", not a bare dash', () => {
    const feed = new CycleFeed({ snapshot: () => undefined, resetLog: () => undefined, appendLog: () => undefined, status: () => undefined }, 1);
    for (const [phase, at] of [['PLAN', 0], ['DO', 100], ['CHECK', 200]] as const) feed.handle({ type: 'phase', runId: 'r1', phase, at: new Date(at).toISOString() });
    const outcome = { runId: 'r1', ticketId: 'D301', acIds: [], status: 'FAIL', reasons: ['gate: fast FAIL'], costUsd: 0, evidencePath: null, commit: null, blocked: false, escalated: false, audit: null, changes: [], violations: [], stagingKept: null, timings: { totalMs: 300, agentMs: 0, agentOwnMs: 0, gateMs: 0, gateCommandMs: 0, auditMs: 0, phases: {} } } satisfies CycleOutcome;
    feed.handle({ type: 'end', outcome });
    assert.equal(phaseTime(feed.current.timeline[3]), 'nothing applied (FAIL)');
    const blocked = new CycleFeed({ snapshot: () => undefined, resetLog: () => undefined, appendLog: () => undefined, status: () => undefined }, 1);
    blocked.handle({ type: 'phase', runId: 'r2', phase: 'PLAN', at: new Date(0).toISOString() });
    blocked.handle({ type: 'end', outcome: { ...outcome, runId: 'r2', status: 'BLOCKED', blocked: true } });
    assert.deepEqual(blocked.current.timeline.map((p) => phaseTime(p)).slice(1), ['not run (blocked)', 'not run (blocked)', 'nothing applied (BLOCKED)']);
  });
});
