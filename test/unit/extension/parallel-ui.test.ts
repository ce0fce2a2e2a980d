import * as assert from 'node:assert/strict';
import type { Plan } from '../../../src/core/contracts/plan';
import type { CycleState } from '../../../src/core/cycle/cycle-state';
import type { CycleEvent, CycleOutcome } from '../../../src/core/cycle/cycle-types';
import { createLogSink, type LogSink } from '../../../src/extension/panels/run/log-sink';
import { cycleChoices, LiveRuns, type LiveCycle, type LiveRunsTarget } from '../../../src/extension/panels/run/live-runs';
import { liveStatus } from '../../../src/extension/status-bar/live-status';
import { factoryRunStatusText, statusBarText } from '../../../src/extension/status-bar/status-text';
import { buildLiveRows } from '../../../src/extension/views/runs/live-rows';
import { stopArgRunId, stopPickItems, stopTargets } from '../../../src/extension/cycle/stop-targets';
import { factoryRunOptions, progressMessage, runLabel, runSummary } from '../../../src/extension/cycle/run-operation';
import { parallelValue, runSettings, validateParallel } from '../../../src/extension/cycle/run-settings';
import { parseHostMessage, parseWebviewMessage, type LogStream, type RunSnapshot } from '../../../src/shared/protocol';

const A = '20261206_040000_d201_aaaaaaa';
const B = '20261206_040001_d202_bbbbbbb';
const plan = (runId: string, ticket: string): CycleEvent => ({ type: 'plan', plan: { run_id: runId, ticket_id: ticket, ac_ids: [`${ticket}::AC-1`], scope: { modify: [], readonly: [], forbidden: [] } } as unknown as Plan, escalate: false, auditorRequired: false });
const phase = (runId: string, p: 'PLAN' | 'DO' | 'CHECK' | 'ADJUST', at: string): CycleEvent => ({ type: 'phase', runId, phase: p, at });
const spend = (runId: string, usd: number): CycleEvent => ({ type: 'spend', runId, role: 'worker', spend: [{ role: 'worker', model: 'gpt-5-mini', costUsd: usd }] });
const out = (runId: string, text: string): CycleEvent => ({ type: 'output', runId, source: 'worker', text });

function outcome(runId: string, ticketId: string, status: CycleOutcome['status'], costUsd: number): CycleOutcome {
  return {
    runId, ticketId, acIds: [`${ticketId}::AC-1`], status, reasons: status === 'PASS' ? [] : ['gate failed'], costUsd, evidencePath: null, commit: null, blocked: false, escalated: false,
    audit: null, changes: [], violations: [], stagingKept: null, timings: { totalMs: 5000, agentMs: 0, agentOwnMs: 0, gateMs: 0, gateCommandMs: 0, auditMs: 0, phases: {} },
  };
}

/** A panel stand-in: what the followed cycle sends, in order. */
function recorder() {
  const r = { followed: [] as string[], snapshots: [] as RunSnapshot[], logs: [] as Array<[LogStream, string]>, resets: [] as Array<[LogStream, string]>, changed: 0 };
  const target: LiveRunsTarget = {
    followed: (id) => void r.followed.push(id),
    snapshot: (s) => void r.snapshots.push(structuredClone(s)),
    resetLog: (st, t) => void r.resets.push([st, t]),
    appendLog: (st, t) => void r.logs.push([st, t]),
    changed: () => void r.changed++,
  };
  return { r, target };
}

/** A sink that passes text through at once (the real one is async and redacts). */
const passSink = (post: (t: string) => Promise<boolean>): LogSink => ({ write: async (c) => void (await post(String(c))), end: async () => undefined });
const tick = () => new Promise((r) => setImmediate(r));

function twoCycles(sink = passSink) {
  const { r, target } = recorder();
  const live = new LiveRuns(() => 1, sink);
  live.attach(target);
  live.begin();
  for (const e of [phase(A, 'PLAN', '2026-12-06T04:00:00.000Z'), plan(A, 'D201'), phase(B, 'PLAN', '2026-12-06T04:00:01.000Z'), plan(B, 'D202'), phase(A, 'DO', '2026-12-06T04:00:02.000Z'), phase(B, 'DO', '2026-12-06T04:00:03.000Z')]) live.handle(e);
  return { r, live };
}

describe('parallel factory UI: every cycle by its run id (LiveRuns)', () => {
  it('two cycles in flight keep separate timelines and spend; the panel follows the first, the other buffers its output', async () => {
    const { r, live } = twoCycles();
    live.handle(out(A, 'a-line\n'));
    live.handle(out(B, 'b-line\n'));
    live.handle(spend(A, 0.1));
    live.handle(spend(B, 0.32));
    await tick();
    assert.deepEqual(live.inFlight.map((c) => [c.ticketId, c.phase, c.spentUsd]), [['D201', 'DO', 0.1], ['D202', 'DO', 0.32]]);
    assert.equal(live.spentUsd, 0.42);
    assert.equal(live.followed, A, 'the first cycle is followed; a second one in flight does not take the panel');
    assert.deepEqual(r.logs, [['worker', 'a-line\n']], 'only the followed cycle reaches the panel');
    assert.ok(r.snapshots.every((s) => s.runId === A));
    assert.equal(live.snapshotOf(B)?.ticketId, 'D202');
    assert.deepEqual(live.snapshotOf(B)?.timeline.map((p) => p.status), ['PASS', 'RUNNING', 'PENDING', 'PENDING']);
  });

  it('following another cycle sends its snapshot and everything it printed so far, then its live output only', async () => {
    const { r, live } = twoCycles();
    live.handle(out(B, 'b1\n'));
    live.handle(out(B, 'b2\n'));
    live.handle(out(A, 'a1\n'));
    await tick();
    r.logs.length = 0;
    r.snapshots.length = 0;
    assert.equal(live.follow(B), true);
    assert.deepEqual(r.followed.at(-1), B);
    assert.equal(r.snapshots.at(-1)?.runId, B);
    assert.deepEqual(r.logs, [['worker', 'b1\n'], ['worker', 'b2\n']], 'B\'s history, none of A\'s');
    live.handle(out(A, 'a2\n'));
    live.handle(out(B, 'b3\n'));
    await tick();
    assert.deepEqual(r.logs.slice(2), [['worker', 'b3\n']]);
    assert.equal(live.follow('20261206_999999_nope_0000000'), false, 'an unknown run id changes nothing');
    assert.equal(live.followed, B);
  });

  it('buffered output is redacted (the real sink), also a key split across two chunks', async () => {
    const key = 'sk-test-SECRETSECRETSECRET1234';
    const { r, live } = twoCycles((post) => createLogSink([key], post));
    live.handle(out(B, `token ${key.slice(0, 10)}`));
    live.handle(out(B, `${key.slice(10)} end\n`));
    live.handle({ type: 'end', outcome: outcome(B, 'D202', 'FAIL', 0.2) });
    await new Promise((res) => setTimeout(res, 50));
    live.follow(B);
    const text = r.logs.filter(([s]) => s === 'worker').map(([, t]) => t).join('');
    assert.ok(!text.includes(key) && !text.includes('SECRETSECRET'), text);
    assert.match(text, /token .*end/);
  });

  it('waiting tickets come from `waiting` events and leave when their plan comes; an ended cycle leaves the in-flight list', () => {
    const { live } = twoCycles();
    live.handle({ type: 'waiting', ticketId: 'D301', behind: [A], reason: 'waits for D201 (…): both modify engine/**' });
    assert.deepEqual(live.waiting.map((w) => [w.ticketId, w.behind]), [['D301', [A]]]);
    live.handle({ type: 'end', outcome: outcome(A, 'D201', 'PASS', 0.11) });
    assert.deepEqual(live.inFlight.map((c) => c.runId), [B]);
    assert.equal(live.cycles.find((c) => c.runId === A)?.status, 'PASS');
    const C = '20261206_040010_d301_ccccccc';
    live.handle(phase(C, 'PLAN', '2026-12-06T04:00:10.000Z'));
    live.handle(plan(C, 'D301'));
    assert.deepEqual(live.waiting, []);
    // The followed cycle (A) ended: the new one is followed (a serial run follows each cycle).
    assert.equal(live.followed, C);
    live.handle({ type: 'merge', runId: B, step: 'integrating', head: 'abc' });
    assert.equal(live.inFlight.find((c) => c.runId === B)?.merge, 'integrating');
    live.finish();
    assert.equal(live.running, false);
    assert.deepEqual(live.waiting, []);
  });

  it('a cycle that ends without an `end` (stopped alone, or with the run) leaves the cycles in flight as ABORTED', () => {
    const { r, live } = twoCycles();
    live.markEnded(A, 'ABORTED', 'stopped alone');
    assert.deepEqual(live.inFlight.map((c) => c.runId), [B]);
    assert.equal(r.snapshots.at(-1)?.status, 'ABORTED', 'the followed cycle\'s panel says so');
    assert.deepEqual(r.snapshots.at(-1)?.timeline.map((p) => p.status), ['PASS', 'FAIL', 'SKIPPED', 'SKIPPED']);
    live.markEnded(A, 'PASS', 'x');
    assert.equal(live.cycles[0].status, 'ABORTED', 'an ended cycle is not changed again');
    live.finish();
    assert.deepEqual(live.inFlight, []);
    assert.equal(live.cycles[1].status, 'ABORTED');
  });

  it('the selector lists the cycles in flight first, then the ended ones newest first; the protocol accepts it', () => {
    const { live } = twoCycles();
    live.handle({ type: 'end', outcome: outcome(A, 'D201', 'FAIL', 0.05) });
    const choices = cycleChoices(live);
    assert.deepEqual(choices.map((c) => [c.ticketId, c.status, c.phase]), [['D202', 'RUNNING', 'DO'], ['D201', 'FAIL', null]]);
    const msg = parseHostMessage({ type: 'run.cycles', cycles: choices, followed: A });
    assert.ok(msg.ok, msg.ok ? '' : msg.error);
  });
});

describe('parallel factory UI: protocol (SEC-22)', () => {
  it('followRun carries only a run id; anything else is dropped', () => {
    assert.ok(parseWebviewMessage({ type: 'followRun', runId: A }).ok);
    for (const runId of ['../etc', '', 'a/b', 42, 'x'.repeat(200), '..']) assert.equal(parseWebviewMessage({ type: 'followRun', runId }).ok, false, String(runId));
    assert.equal(parseHostMessage({ type: 'run.cycles', cycles: [{ runId: '../x', ticketId: null, phase: null, status: 'RUNNING', spentUsd: null }], followed: null }).ok, false);
    assert.equal(parseHostMessage({ type: 'run.cycles', cycles: [{ runId: A, ticketId: null, phase: null, status: 'RUNNING', spentUsd: -1 }], followed: null }).ok, false);
  });
});

describe('parallel factory UI: status bar', () => {
  const c = (runId: string, ticketId: string, phase: LiveCycle['phase'], spentUsd: number | null, status = 'RUNNING'): LiveCycle => ({ runId, ticketId, phase, merge: null, startedAt: Date.parse('2026-12-06T04:00:00Z'), spentUsd, status, requeued: null });

  it('3 running · $0.42 with every cycle in the tooltip while several run', () => {
    const cycles = [c(A, 'D201', 'DO', 0.1), c(B, 'D202', 'CHECK', 0.3), c('20261206_040002_d301_ccccccc', 'D301', 'PLAN', null)];
    const s = liveStatus(cycles, 0.42, 1, 1);
    assert.equal(s.kind, 'run');
    if (s.kind !== 'run') return;
    const t = factoryRunStatusText(s.running, s.spentUsd, s.waiting);
    assert.equal(t.text, '$(sync~spin) 3 running · $0.42');
    assert.match(t.tooltip, /D201 — DO · \$0\.10/);
    assert.match(t.tooltip, /D202 — CHECK · \$0\.30/);
    assert.match(t.tooltip, /D301 — PLAN · \$—/);
    assert.match(t.tooltip, /1 ticket waiting/);
  });

  it('one in flight: today\'s text for it; none: the last cycle as the idle text', () => {
    const one = liveStatus([c(A, 'D201', 'PASS' as never, 0.1, 'PASS'), c(B, 'D202', 'DO', 0.2)], 0.3, 0, 1);
    assert.equal(one.kind, 'cycle');
    if (one.kind === 'cycle') assert.match(statusBarText(one.view, Date.parse('2026-12-06T04:01:05Z')).text, /^\$\(sync~spin\) D202 DO 1:05 · \$0\.20\/\$1\.00$/);
    const idle = liveStatus([c(A, 'D201', null, 0.1, 'PASS')], 0.1, 0, 1);
    assert.equal(idle.kind, 'cycle');
    if (idle.kind === 'cycle') assert.equal(statusBarText(idle.view, 0).text, '$(pulse) Factory · last D201 PASS');
    assert.equal(liveStatus([], 0, 0, 1).kind, 'none');
  });
});

describe('parallel factory UI: Runs view rows in flight', () => {
  const now = Date.parse('2026-12-06T04:02:00Z');
  const state = (runId: string, ticketId: string, over: Partial<CycleState> = {}): { state: CycleState } => ({
    state: { version: 1, runId, ticketId, acIds: [], phase: 'CHECK', baseCommit: 'abc', startedAt: '2026-12-06T04:00:00Z', owner: 'host:123', ...over },
  });

  it('a row per cycle in flight (ticket, phase, spend), the state files\' cycles of another process, then the waiting tickets', () => {
    const inFlight: LiveCycle[] = [
      { runId: A, ticketId: 'D201', phase: 'DO', merge: null, startedAt: now - 65_000, spentUsd: 0.0042, status: 'RUNNING', requeued: null },
      { runId: B, ticketId: 'D202', phase: 'CHECK', merge: 'integrating', startedAt: now - 5_000, spentUsd: null, status: 'RUNNING', requeued: null },
    ];
    const rows = buildLiveRows(inFlight, [{ ticketId: 'D301', behind: [A], reason: 'scope engine/** overlaps' }], [state(A, 'D201'), state('20261206_035900_d401_ddddddd', 'D401', { spend: [{ role: 'controller', costUsd: 0.02 }] })], now);
    assert.deepEqual(rows.map((r) => [r.label, r.state, r.contextValue]), [
      ['D201', 'running', 'live;running'],
      ['D202', 'running', 'live;running'],
      ['D401', 'running', 'live;running;external'],
      ['D301', 'waiting', 'live;waiting'],
    ]);
    assert.equal(rows[0].description, 'DO · $0.0042 · 1m 05s');
    assert.equal(rows[1].description, 'merge: integrating · $— · 5s');
    assert.equal(rows[2].description, 'CHECK · $0.02 · 2m 00s · another process');
    assert.equal(rows[3].description, 'waiting behind D201: scope engine/** overlaps');
    assert.equal(rows[0].icon.id, 'sync~spin');
    assert.equal(new Set(rows.map((r) => r.key)).size, rows.length, 'keys are unique');
  });

  it('texts from the state files are single-line and cut (another process wrote them)', () => {
    const rows = buildLiveRows([], [], [state(A, `D201\u001b[31m\n${'x'.repeat(500)}`)], now);
    // eslint-disable-next-line no-control-regex -- control characters are what must be gone
    assert.ok(!/[\u0000-\u001f]/.test(rows[0].label) && rows[0].label.length <= 100, rows[0].label);
  });
});

describe('parallel factory UI: Run and Stop Worker', () => {
  it('factory.parallel: an integer 1–16 from the workspace (else 1); the custom entry is validated', () => {
    const get = (v: Record<string, unknown>) => <T>(key: string) => (key === 'parallel' ? (v as { defaultValue?: T }) : undefined);
    assert.equal(runSettings('/r', get({ defaultValue: 1, workspaceValue: 4 })).parallel, 4);
    assert.equal(runSettings('/r', get({ defaultValue: 1, globalValue: 2 })).parallel, 2);
    for (const bad of [0, 17, 2.5, '3', null]) assert.equal(parallelValue(bad), 1, String(bad));
    assert.equal(validateParallel('8'), undefined);
    for (const bad of ['0', '17', '1.5', 'two', '']) assert.ok(validateParallel(bad), bad);
  });

  it('Run: parallel N starts up to N cycles (one per slot); one ticket runs alone', () => {
    const s = { requireApproval: false, parallel: 4, agent: 'replay' };
    const o = factoryRunOptions('/r', s, {}, {}, '/w.js');
    assert.deepEqual([o.parallel, o.maxCycles, o.baseline, o.agent], [4, 4, 'run', 'replay']);
    const t = factoryRunOptions('/r', s, { ticket: 'D201', acceptRedBaseline: true }, {}, '/w.js');
    assert.deepEqual([t.parallel, t.maxCycles, t.ticket, t.acceptRedBaseline], [1, 1, 'D201', true]);
    assert.equal(runLabel({}, 4), 'Run 4 cycles in parallel');
    assert.equal(runLabel({}, 1), 'Run the next ticket');
    assert.equal(runSummary({ outcomes: [outcome(A, 'D201', 'PASS', 0.1), outcome(B, 'D202', 'FAIL', 0.05)], spentUsd: 0.15, message: '' }), 'Factory: 2 cycles — 1 PASS, 1 FAIL (D201 PASS, D202 FAIL), $0.1500.');
    assert.equal(progressMessage({ type: 'waiting', ticketId: 'D301', behind: [A], reason: 'x' }, 2), '2 in flight · D301 waits (scope overlaps)');
    assert.equal(progressMessage(phase(A, 'DO', 'x'), 1), 'the Worker is running in the sandbox');
  });

  it('Stop Worker: All first, then each cycle; this window\'s cycles over the state files; a row names its run', () => {
    const inFlight: LiveCycle[] = [{ runId: A, ticketId: 'D201', phase: 'DO', merge: null, startedAt: null, spentUsd: null, status: 'RUNNING', requeued: null }];
    const ext = [{ state: { version: 1 as const, runId: B, ticketId: 'D202', acIds: [], phase: 'DO' as const, baseCommit: 'a', startedAt: 'x', owner: 'h:1' } }];
    assert.deepEqual(stopTargets(inFlight, ext).map((t) => [t.runId, t.inProcess]), [[A, true]]);
    const targets = stopTargets([], ext);
    assert.deepEqual(targets.map((t) => [t.runId, t.inProcess]), [[B, false]]);
    const items = stopPickItems([...stopTargets(inFlight, []), ...targets]);
    assert.deepEqual(items.map((i) => i.value), ['all', A, B]);
    assert.match(items[0].label, /All 2 cycles/);
    assert.match(items[2].description, /another process/);
    assert.equal(stopArgRunId({ runId: A, kind: 'live' }), A);
    assert.equal(stopArgRunId(A), A);
    for (const bad of [undefined, {}, '../x', { runId: 7 }]) assert.equal(stopArgRunId(bad), undefined);
  });
});
