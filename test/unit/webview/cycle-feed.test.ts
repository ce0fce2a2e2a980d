import * as assert from 'node:assert/strict';
import type { CycleEvent, CycleOutcome } from '../../../src/core/cycle/orchestrator';
import type { Plan } from '../../../src/core/contracts/plan';
import { SCOPE_VIEW_MAX } from '../../../src/core/contracts/run-snapshot';
import { CycleFeed, planScopeView } from '../../../src/extension/panels/run/cycle-feed';
import { parseHostMessage, runPanelSnapshot as runSnapshot, type LogStream, type RunSnapshot } from '../../../src/shared/protocol';
import type { CycleStatusView } from '../../../src/extension/status-bar/status-text';

function recorder() {
  const r = { snapshots: [] as RunSnapshot[], logs: [] as Array<[LogStream, string]>, resets: [] as Array<[LogStream, string]>, status: [] as CycleStatusView[] };
  return {
    r,
    target: {
      snapshot: (s: RunSnapshot) => void r.snapshots.push(structuredClone(s)),
      resetLog: (st: LogStream, t: string) => void r.resets.push([st, t]),
      appendLog: (st: LogStream, t: string) => void r.logs.push([st, t]),
      status: (v: CycleStatusView) => void r.status.push(v),
    },
  };
}

const plan = { run_id: '20261125_120000_d201_abcdef0', ticket_id: 'D201' } as Plan;
const phase = (p: 'PLAN' | 'DO' | 'CHECK' | 'ADJUST', at: string): CycleEvent => ({ type: 'phase', runId: plan.run_id, phase: p, at });

function outcome(o: Partial<CycleOutcome>): CycleOutcome {
  return {
    runId: plan.run_id, ticketId: 'D201', acIds: ['D201::AC-1'], status: 'PASS', reasons: [], costUsd: 0.12, evidencePath: null, commit: null, blocked: false, escalated: false,
    audit: null, changes: [], violations: [], stagingKept: null,
    timings: { totalMs: 9000, agentMs: 4000, agentOwnMs: 3500, gateMs: 3000, gateCommandMs: 2500, auditMs: 0, phases: {} },
    ...o,
  };
}

describe('Run panel cycle feed (core CycleEvents → timeline, logs, status bar)', () => {
  it('phases become RUNNING then PASS with their durations; output goes to its pane; the status bar follows', () => {
    const { r, target } = recorder();
    const feed = new CycleFeed(target, 1);
    feed.handle({ type: 'plan', plan, escalate: false, auditorRequired: false });
    assert.deepEqual(r.resets.map((x) => x[0]), ['worker', 'gate']);
    feed.handle(phase('PLAN', '2026-11-25T12:00:00.000Z'));
    feed.handle(phase('DO', '2026-11-25T12:00:00.250Z'));
    feed.handle({ type: 'output', runId: plan.run_id, source: 'worker', text: 'editing engine/spread.py\n' });
    feed.handle({ type: 'output', runId: plan.run_id, source: 'auditor', text: 'looks fine\nno PnL re-derived\n' });
    feed.handle(phase('CHECK', '2026-11-25T12:00:04.250Z'));
    feed.handle({ type: 'output', runId: plan.run_id, source: 'gate', text: '[..] Gate: fast\n' });
    const mid = feed.current.timeline;
    assert.deepEqual(mid.map((p) => [p.name, p.status, p.durationMs]), [['PLAN', 'PASS', 250], ['DO', 'PASS', 4000], ['CHECK', 'RUNNING', 0], ['ADJUST', 'PENDING', null]]);
    assert.deepEqual(r.logs, [['worker', 'editing engine/spread.py\n'], ['worker', '[auditor] looks fine\n[auditor] no PnL re-derived\n'], ['gate', '[..] Gate: fast\n']]);
    assert.deepEqual(r.status.at(-1), { phase: 'CHECK', ticketId: 'D201', startedAt: Date.parse('2026-11-25T12:00:00.000Z'), costUsd: null, budgetUsd: 1 });
    for (const s of r.snapshots) assert.ok(runSnapshot.safeParse(s).success);
  });

  it('in the orchestrator\'s order (PLAN phase, then the plan, then DO …) PLAN keeps its start and ends PASS with its duration', () => {
    const { target } = recorder();
    const feed = new CycleFeed(target, 1);
    feed.handle(phase('PLAN', '2026-11-25T12:00:00.000Z'));
    feed.handle({ type: 'plan', plan, escalate: false, auditorRequired: false });
    assert.deepEqual(feed.current.timeline.map((p) => [p.name, p.status]), [['PLAN', 'RUNNING'], ['DO', 'PENDING'], ['CHECK', 'PENDING'], ['ADJUST', 'PENDING']]);
    feed.handle(phase('DO', '2026-11-25T12:00:00.400Z'));
    feed.handle(phase('CHECK', '2026-11-25T12:00:02.400Z'));
    feed.handle({ type: 'end', outcome: outcome({ status: 'FAIL', timings: { totalMs: 3000, agentMs: 2000, agentOwnMs: 1900, gateMs: 0, gateCommandMs: 0, auditMs: 0, phases: { PLAN: 380, DO: 2000, CHECK: 20 } } }) });
    assert.deepEqual(feed.current.timeline.map((p) => [p.name, p.status, p.durationMs]), [['PLAN', 'PASS', 380], ['DO', 'PASS', 2000], ['CHECK', 'FAIL', 20], ['ADJUST', 'SKIPPED', null]]);
  });

  it('a scope FAIL ends with the violations, the audit verdict, the cost against the budget and ADJUST skipped', () => {
    const { r, target } = recorder();
    const feed = new CycleFeed(target, 1);
    feed.handle({ type: 'plan', plan, escalate: true, auditorRequired: true });
    feed.handle(phase('PLAN', '2026-11-25T12:00:00.000Z'));
    feed.handle(phase('DO', '2026-11-25T12:00:01.000Z'));
    feed.handle(phase('CHECK', '2026-11-25T12:00:05.000Z'));
    feed.handle({
      type: 'end',
      outcome: outcome({ status: 'FAIL', costUsd: 0.37, reasons: ['scope: 1 path outside scope.modify'], violations: [{ path: 'engine/pnl.py', rule: 'outside-scope' } as never], audit: { verdict: 'FAIL', violations: 2, report: 'x' }, timings: { totalMs: 9000, agentMs: 4000, agentOwnMs: 3500, gateMs: 3000, gateCommandMs: 2500, auditMs: 900, phases: { CHECK: 3900 } } }),
    });
    const end = r.snapshots.at(-1)!;
    assert.ok(runSnapshot.safeParse(end).success);
    assert.equal(end.status, 'FAIL');
    assert.deepEqual(end.timeline.map((p) => [p.name, p.status]), [['PLAN', 'PASS'], ['DO', 'PASS'], ['CHECK', 'FAIL'], ['ADJUST', 'SKIPPED']]);
    assert.equal(end.timeline.find((p) => p.name === 'CHECK')!.durationMs, 3900);
    assert.deepEqual(end.scopeViolations, ['engine/pnl.py (outside-scope)']);
    assert.deepEqual(end.audit, { verdict: 'FAIL', summary: '2 violations' });
    assert.deepEqual(end.cost, { spentUsd: 0.37, budgetUsd: 1 });
    assert.equal(end.note, 'scope: 1 path outside scope.modify');
    assert.deepEqual(r.status.at(-1), { phase: 'IDLE', ticketId: 'D201', lastStatus: 'FAIL', costUsd: 0.37, budgetUsd: 1 });
  });

  it("the plan's scope reaches the panel: each entry with its reasons, and the fallback with the exact setting to add", () => {
    const { r, target } = recorder();
    const feed = new CycleFeed(target, 1);
    const scoped = {
      ...plan,
      risk_level: 'MED',
      risk_reasons: ['the ticket text names "fee" (risk.words.MED)'],
      scope: { modify: ['src/**'], readonly: ['docs/spec.md'], forbidden: ['.env*'] },
      scope_reasons: { 'src/**': ['config scope.modify (nothing derived)'], 'docs/spec.md': ['config scope.readonly'] },
      scope_fallback: { why: 'nothing names a file of this repository for D201', setting: '"scope": { "overrides": { "D201": { "modify": ["engine/**"] } } }' },
    } as Plan;
    feed.handle({ type: 'plan', plan: scoped, escalate: false, auditorRequired: false });
    const s = r.snapshots.at(-1)!;
    assert.ok(runSnapshot.safeParse(s).success);
    assert.deepEqual(s.scope, {
      fallback: scoped.scope_fallback,
      entries: [
        { path: 'src/**', kind: 'modify', why: ['config scope.modify (nothing derived)'] },
        { path: 'docs/spec.md', kind: 'readonly', why: ['config scope.readonly'] },
      ],
      more: 0,
    });
    assert.deepEqual(s.risk, { level: 'MED', why: ['the ticket text names "fee" (risk.words.MED)'] });
    // The end of the cycle keeps what the plan said.
    feed.handle({ type: 'end', outcome: outcome({}) });
    assert.deepEqual(r.snapshots.at(-1)!.scope, s.scope);
  });

  it('a huge scope is capped to what the message schema allows, saying how many entries were left off', () => {
    const modify = Array.from({ length: SCOPE_VIEW_MAX + 50 }, (_, i) => `pkg/m${i}.py`);
    const reasons = Object.fromEntries(modify.map((p) => [p, Array.from({ length: 30 }, () => 'x'.repeat(900))]));
    const scope = planScopeView({ scope: { modify, readonly: [], forbidden: [] }, scope_reasons: reasons, scope_fallback: { why: 'w'.repeat(5000), setting: 's'.repeat(5000) } });
    assert.equal(scope.entries.length, SCOPE_VIEW_MAX);
    assert.equal(scope.more, 50);
    assert.ok(scope.entries.every((e) => e.why.length === 10 && e.why.every((w) => w.length <= 500)));
    assert.ok(runSnapshot.shape.scope.safeParse(scope).success);
    assert.equal(planScopeView({ scope: { modify: ['a.py'], readonly: [], forbidden: [] } }).fallback, null);
  });

  it('each role\'s agent, model, tier and why come from the plan\'s routing; spend events fill the rows and the meter live; the end keeps every role', () => {
    const { r, target } = recorder();
    const feed = new CycleFeed(target, 1);
    const routed = {
      ...plan, agent: 'codex', model: 'gpt-5-mini', model_budget: 'economy',
      routing: {
        worker: { agent: 'codex', model: 'gpt-5-mini', tier: 'economy', why: ['risk LOW → routing.levels.LOW.worker (economy)'] },
        auditor: { agent: 'claude-code', model: 'claude-opus-4-5', tier: 'premium', why: ['risk HIGH → routing.levels.HIGH.auditor'] },
        reserve_usd: 0.4,
        override: '--model gpt-5-mini',
      },
    } as Plan;
    feed.handle(phase('PLAN', '2026-11-25T12:00:00.000Z'));
    feed.handle({ type: 'plan', plan: routed, escalate: false, auditorRequired: true });
    const planned = r.snapshots.at(-1)!;
    assert.equal(planned.cost.spentUsd, null, 'nothing metered yet');
    assert.ok(runSnapshot.safeParse(planned).success);
    assert.deepEqual(planned.routing, {
      roles: [
        { role: 'worker', agent: 'codex', model: 'gpt-5-mini', tier: 'economy', why: ['risk LOW → routing.levels.LOW.worker (economy)'], spentUsd: null, unpriced: false, spend: [] },
        { role: 'auditor', agent: 'claude-code', model: 'claude-opus-4-5', tier: 'premium', why: ['risk HIGH → routing.levels.HIGH.auditor'], spentUsd: null, unpriced: false, spend: [] },
      ],
      reserveUsd: 0.4,
      override: '--model gpt-5-mini',
    });
    feed.handle(phase('DO', '2026-11-25T12:00:01.000Z'));
    feed.handle({ type: 'spend', runId: plan.run_id, role: 'worker', spend: [{ role: 'worker', agent: 'codex', model: 'gpt-5-mini', tier: 'economy', costUsd: 0.02, requests: 1 }] });
    // Running totals: the next event replaces the row's figures (two models now), it does not add to them.
    feed.handle({ type: 'spend', runId: plan.run_id, role: 'worker', spend: [{ role: 'worker', agent: 'codex', model: 'gpt-5-mini', tier: 'economy', costUsd: 0.05, requests: 3 }, { role: 'worker', agent: 'codex', model: 'local-llm', costUsd: 0.1, priced: false, requests: 1 }] });
    const live = r.snapshots.at(-1)!;
    assert.ok(runSnapshot.safeParse(live).success);
    assert.deepEqual(live.routing!.roles.map((x) => [x.role, x.agent, x.model, x.spentUsd, x.unpriced]), [
      ['worker', 'codex', 'gpt-5-mini', 0.15, true],
      ['auditor', 'claude-code', 'claude-opus-4-5', null, false],
    ]);
    assert.deepEqual(live.routing!.roles[0].spend, [{ model: 'gpt-5-mini', usd: 0.05, unpriced: false, requests: 3 }, { model: 'local-llm', usd: 0.1, unpriced: true, requests: 1 }]);
    assert.deepEqual(live.cost, { spentUsd: 0.15, budgetUsd: 1 });
    assert.equal(r.status.at(-1)!.costUsd, 0.15, 'the status bar follows the spend');
    assert.equal(r.status.at(-1)!.phase, 'DO');
    feed.handle(phase('CHECK', '2026-11-25T12:00:05.000Z'));
    feed.handle({
      type: 'end',
      outcome: outcome({ costUsd: 0.46, spend: [
        { role: 'controller', model: 'claude-sonnet-4-5', costUsd: 0.01 },
        { role: 'worker', agent: 'codex', model: 'gpt-5-mini', tier: 'economy', costUsd: 0.05 },
        { role: 'worker', agent: 'codex', model: 'local-llm', costUsd: 0.1, priced: false },
        { role: 'auditor', agent: 'claude-code', model: 'claude-opus-4-5', tier: 'premium', costUsd: 0.3 },
      ] }),
    });
    const end = r.snapshots.at(-1)!;
    assert.ok(runSnapshot.safeParse(end).success);
    assert.deepEqual(end.routing!.roles.map((x) => [x.role, x.spentUsd, x.tier]), [['controller', 0.01, null], ['worker', 0.15, 'economy'], ['auditor', 0.3, 'premium']]);
    assert.equal(end.routing!.reserveUsd, 0.4);
    // The message the webview validates keeps the roles (they are not stripped as unknown keys).
    const parsed = parseHostMessage({ type: 'run.snapshot', run: end });
    assert.ok(parsed.ok && parsed.message.type === 'run.snapshot');
    assert.deepEqual(parsed.message.run.routing, end.routing);
  });

  it('the Controller model\'s spend in PLAN, reported before the plan event, survives it as the first row', () => {
    const { r, target } = recorder();
    const feed = new CycleFeed(target, 1);
    feed.handle(phase('PLAN', '2026-11-25T12:00:00.000Z'));
    feed.handle({ type: 'spend', runId: plan.run_id, role: 'controller', spend: [{ role: 'controller', model: 'claude-sonnet-4-5', costUsd: 0.01, requests: 1 }] });
    assert.deepEqual(r.snapshots.at(-1)!.routing!.roles.map((x) => [x.role, x.spentUsd]), [['controller', 0.01]]);
    feed.handle({ type: 'plan', plan: { ...plan, agent: 'codex', model_budget: 'economy' }, escalate: false, auditorRequired: false });
    const s = r.snapshots.at(-1)!;
    assert.deepEqual(s.routing!.roles.map((x) => [x.role, x.agent, x.model, x.spentUsd]), [['controller', null, 'claude-sonnet-4-5', 0.01], ['worker', 'codex', null, null]]);
    assert.deepEqual(s.cost, { spentUsd: 0.01, budgetUsd: 1 });
    // A spend of another run does not mix in.
    feed.handle({ type: 'spend', runId: 'other_run', role: 'worker', spend: [{ role: 'worker', costUsd: 0.5 }] });
    assert.deepEqual(feed.current.routing!.roles.map((x) => [x.role, x.spentUsd]), [['controller', 0.01], ['worker', null]]);
  });

  it('a plan without routing (older) still shows the Worker with the plan\'s agent, model and tier', () => {
    const { r, target } = recorder();
    const feed = new CycleFeed(target, 1);
    feed.handle({ type: 'plan', plan: { ...plan, agent: 'replay', model_budget: 'standard' }, escalate: false, auditorRequired: false });
    assert.deepEqual(r.snapshots.at(-1)!.routing, { roles: [{ role: 'worker', agent: 'replay', model: null, tier: 'standard', why: [], spentUsd: null, unpriced: false, spend: [] }], reserveUsd: null, override: null });
  });
});

