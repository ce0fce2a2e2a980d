/**
 * The running cycle's events (`CycleEvent` from the core orchestrator) → what the Run panel and
 * the status bar show: the PDCA timeline with live durations, the Worker/Gate output, and on
 * `end` the outcome (status, cost against the budget, scope violations, audit verdict). Pure: the
 * panel and the status bar are handed in as callbacks, so plain mocha drives it with events.
 */
import type { Plan } from '../../../core/contracts/plan';
import { SCOPE_VIEW_MAX, type PlanScopeView } from '../../../core/contracts/run-snapshot';
import type { SpendEntry } from '../../../core/contracts/history-entry';
import type { CycleEvent, CycleOutcome } from '../../../core/cycle/orchestrator';
import { CYCLE_PHASES, type CyclePhase } from '../../../core/contracts/status';
import type { LogStream, RunSnapshot, TimelinePhase } from '../../../shared/protocol';
import type { CycleStatusView } from '../../status-bar/status-text';
import { planRouting, withAllSpend, withSpend } from './role-rows';

export interface CycleFeedTarget {
  snapshot(run: RunSnapshot): void;
  resetLog(stream: LogStream, title: string): void;
  appendLog(stream: LogStream, text: string): void;
  status(view: CycleStatusView): void;
}

const cut = (s: string, n = 500): string => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

/**
 * The plan's scope for the panel: modify then readonly entries with their reasons (plan.json
 * `scope_reasons`), and the fallback notice when the config default stands in for a derived scope.
 * Capped to the snapshot schema's limits, so a huge scope cannot make the message invalid.
 */
export function planScopeView(plan: Pick<Plan, 'scope' | 'scope_reasons' | 'scope_fallback'>): PlanScopeView {
  const reasons = plan.scope_reasons ?? {};
  const all = [...plan.scope.modify.map((p) => ({ p, kind: 'modify' as const })), ...plan.scope.readonly.map((p) => ({ p, kind: 'readonly' as const }))];
  const f = plan.scope_fallback;
  return {
    fallback: f ? { why: cut(f.why, 2000), setting: cut(f.setting, 2000) } : null,
    entries: all.slice(0, SCOPE_VIEW_MAX).map(({ p, kind }) => ({ path: cut(p), kind, why: (reasons[p] ?? []).slice(0, 10).map((w) => cut(w)) })),
    more: Math.max(0, all.length - SCOPE_VIEW_MAX),
  };
}

export class CycleFeed {
  private run: RunSnapshot;
  private phaseStart = new Map<CyclePhase, number>();
  private startedAt: number | undefined;
  /** The phase running now (the status bar's, when a spend event moves the cost). */
  private phase: CyclePhase | undefined;
  /** The run's spend so far by role: the Controller's model spends in PLAN, before the plan event resets the snapshot. */
  private spends = { runId: '', byRole: new Map<SpendEntry['role'], SpendEntry[]>() };

  constructor(
    private readonly target: CycleFeedTarget,
    private readonly budgetUsd: number,
  ) {
    this.run = this.blank();
  }

  private blank(): RunSnapshot {
    return {
      runId: null, ticketId: null, taskName: null, status: 'RUNNING', timestamp: null, durationSeconds: null,
      timeline: CYCLE_PHASES.map((name): TimelinePhase => ({ name, status: 'PENDING', startedAt: null, durationMs: null, steps: [] })),
      manifest: [], kpi: [], gates: [], scopeViolations: [], audit: null, cost: { spentUsd: null, budgetUsd: this.budgetUsd }, note: null,
    };
  }

  /** The snapshot as it stands (for tests and a panel opened mid-cycle). */
  get current(): RunSnapshot {
    return this.run;
  }

  handle(e: CycleEvent): void {
    switch (e.type) {
      case 'plan': {
        // The orchestrator announces the plan from inside PLAN, after that phase's event: keep
        // the running PLAN entry of this run (its start), reset everything else.
        const plan = this.run.runId === e.plan.run_id ? this.run.timeline.find((p) => p.name === 'PLAN' && p.status === 'RUNNING') : undefined;
        const planStart = plan ? this.phaseStart.get('PLAN') : undefined;
        const started = plan ? this.startedAt : undefined;
        this.run = { ...this.blank(), runId: e.plan.run_id, ticketId: e.plan.ticket_id, note: e.escalate ? 'Two consecutive FAILs before this cycle: the Auditor will review it.' : null };
        this.run.risk = e.plan.risk_level ? { level: e.plan.risk_level, why: (e.plan.risk_reasons ?? []).slice(0, 100).map((w) => cut(w)) } : null;
        this.run.scope = e.plan.scope ? planScopeView(e.plan) : null;
        this.run.routing = planRouting(e.plan);
        if (this.spends.runId === e.plan.run_id) this.applySpends();
        this.phaseStart.clear();
        this.startedAt = started;
        if (plan && planStart !== undefined) {
          this.phaseStart.set('PLAN', planStart);
          this.run.timeline = this.run.timeline.map((p) => (p.name === 'PLAN' ? plan : p));
        }
        this.target.resetLog('worker', `Worker log: ${e.plan.run_id} (live)`);
        this.target.resetLog('gate', `Gate log: ${e.plan.run_id} (live)`);
        this.publish();
        return;
      }
      case 'phase': {
        const at = Date.parse(e.at);
        this.startedAt ??= at;
        this.phase = e.phase;
        this.run = { ...this.run, runId: this.run.runId ?? e.runId, timestamp: this.run.timestamp ?? e.at };
        this.run.timeline = this.run.timeline.map((p) => {
          if (p.status === 'RUNNING' && p.name !== e.phase) {
            const start = this.phaseStart.get(p.name);
            return { ...p, status: 'PASS', durationMs: start === undefined ? null : Math.max(0, at - start) };
          }
          if (p.name === e.phase && p.status !== 'RUNNING') {
            this.phaseStart.set(p.name, at);
            return { ...p, status: 'RUNNING', startedAt: e.at, durationMs: 0 };
          }
          return p;
        });
        this.publish(e.phase);
        return;
      }
      case 'output': {
        const stream: LogStream = e.source === 'gate' ? 'gate' : 'worker';
        // The Auditor's output shares the Worker pane, each line marked so it is not mistaken for the Worker.
        const text = e.source === 'auditor' ? e.text.replace(/^(?=.)/gm, '[auditor] ') : e.text;
        this.target.appendLog(stream, text);
        return;
      }
      case 'spend':
        // Another run's spend (a stale event) never mixes into this one.
        if (this.run.runId !== null && this.run.runId !== e.runId) return;
        if (this.spends.runId !== e.runId) this.spends = { runId: e.runId, byRole: new Map() };
        this.spends.byRole.set(e.role, e.spend);
        this.applySpends();
        this.publish(this.phase);
        return;
      case 'end':
        this.ended(e.outcome);
        return;
      case 'recovered':
        this.run = { ...this.run, note: 'An interrupted cycle was recovered before this one started.' };
        this.target.snapshot(this.run);
        return;
    }
  }

  /** Each role's running totals per model on its row, and the cycle's spend so far on the meter. */
  private applySpends(): void {
    let routing = this.run.routing;
    for (const [role, spend] of this.spends.byRole) routing = withSpend(routing, role, spend);
    if (!routing) return;
    const spent = routing.roles.reduce((a, r) => a + (r.spentUsd ?? 0), 0);
    this.run = { ...this.run, routing, cost: { spentUsd: Math.round(spent * 1e6) / 1e6, budgetUsd: this.budgetUsd } };
  }

  /** The outcome: status, durations, violations, audit, cost and every role's spend. */
  private ended(o: CycleOutcome): void {
    this.phase = undefined;
    const ended = this.startedAt !== undefined ? this.startedAt + o.timings.totalMs : undefined;
    this.run = {
      ...this.run,
      runId: o.runId,
      ticketId: o.ticketId,
      status: o.status,
      durationSeconds: o.timings.totalMs / 1000,
      timeline: this.run.timeline.map((p) => {
        const ms = o.timings.phases[p.name];
        if (p.status === 'RUNNING') return { ...p, status: o.status === 'PASS' ? 'PASS' : 'FAIL', durationMs: ms ?? (ended !== undefined ? Math.max(0, ended - (this.phaseStart.get(p.name) ?? ended)) : null) };
        // A phase the cycle never reached says so (never a bare "—"): nothing applied, or not run.
        if (p.status === 'PENDING') return { ...p, status: 'SKIPPED', detail: p.name === 'ADJUST' ? `nothing applied (${o.status})` : o.status === 'BLOCKED' ? 'not run (blocked)' : 'not run' };
        return ms !== undefined ? { ...p, durationMs: ms } : p;
      }),
      scopeViolations: o.violations.slice(0, 1000).map((v) => cut(`${v.path} (${v.rule})`)),
      audit: o.audit ? { verdict: o.audit.verdict, summary: cut(`${o.audit.violations} violation${o.audit.violations === 1 ? '' : 's'}`) } : null,
      cost: { spentUsd: Math.max(0, o.costUsd), budgetUsd: this.budgetUsd },
      note: o.reasons.length ? cut(o.reasons.join('; ')) : null,
      routing: o.spend?.length ? withAllSpend(this.run.routing, o.spend) : this.run.routing,
    };
    this.target.snapshot(this.run);
    this.target.status({ phase: 'IDLE', ticketId: o.ticketId, lastStatus: o.status, costUsd: o.costUsd, budgetUsd: this.budgetUsd });
  }

  private publish(phase?: CyclePhase): void {
    this.target.snapshot(this.run);
    if (phase) this.target.status({ phase, ticketId: this.run.ticketId, startedAt: this.startedAt, costUsd: this.run.cost.spentUsd, budgetUsd: this.budgetUsd });
  }
}
