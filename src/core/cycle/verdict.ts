/**
 * The verdict of one cycle, as a pure function of what its phases found (no I/O, no clock): the
 * one place that decides PASS / FAIL / BLOCKED / TIMEOUT, the reasons, which kill switch fired
 * and whether the Auditor is called (spec §3-3, §5-3, §5-4). ABORTED is never decided here: it is
 * what an interrupted cycle is recorded as (recover.ts).
 */
import type { FactoryConfig } from '../config/schema';
import type { WorkerResult } from '../contracts/result';
import type { CycleStatus } from '../contracts/status';
import type { Violation } from '../changeset/scope';
import type { GateReport } from '../gate/gate-model';
import type { ContainerResult } from '../sandbox/container-spec';
import type { BaselineReport } from './cycle-types';
import { evaluateKillSwitches, type CycleRecord, type KillSwitchDecision } from './kill-switches';

/** What became of the Worker's result.json. */
export type ResultRead = { kind: 'missing' } | { kind: 'rejected'; error: string } | { kind: 'read'; result: WorkerResult & { forced: boolean } };

/** What DO left behind, as CHECK sees it. */
export interface WorkerFacts {
  result: ResultRead;
  run: Pick<ContainerResult, 'status' | 'exitCode' | 'oomKilled' | 'error'>;
  /** The workspace growth watch stopped the Worker. */
  overCap: boolean;
  /** The gateway refused further model calls: the cycle's budget is spent. */
  budgetHit: boolean;
  /** What the gateway metered (the budget reason quotes it). */
  spentUsd: number;
  /** USD of the cycle budget held back for the Auditor before the Worker started (plan.routing.reserve_usd). */
  reserveUsd?: number;
  /** The agent's own outcome line, when its runtime wrote a report. */
  agentOutcome?: string;
  /** How many paths the Worker changed. */
  changes: number;
  violations: Violation[];
}

/** The Controller's own checks after DO; absent = not run (yet). */
export interface CheckFacts {
  gate?: { status: 'PASS' | 'FAIL'; failedAt?: string | undefined; failed?: number | undefined };
  /** The red baseline the user accepted (spec §8-3): a Gate failure HEAD already had is not the Worker's. */
  baseline?: Pick<BaselineReport, 'failing' | 'accepted'>;
  audit?: { verdict: 'PASS' | 'FAIL'; summary?: string | undefined; violations: { file: string; line?: number | undefined; rule: string }[] };
  /** A profit ticket whose Worker produced no valid pnl_breakdown.json. */
  pnlMissing?: boolean;
  review?: { approved: true } | { approved: false; reason: string };
  /**
   * The Auditor's gateway refused a call for budget (or no budget was left to start it): the
   * cycle's whole spend so far. A budget cap (BLOCKED), not an Auditor FAIL: `audit` stays unset.
   */
  auditBudgetHit?: { spentUsd: number };
}

/** The caps the reasons quote. */
export interface VerdictLimits {
  timeoutMinutes: number;
  workspaceMb: number;
  budgetUsd: number;
}

export function verdictLimits(config: FactoryConfig, timeoutMinutes: number): VerdictLimits {
  return { timeoutMinutes, workspaceMb: config.worker.workspaceMb, budgetUsd: config.killSwitch.budgetUsd };
}

/** Why the cycle cannot pass so far, in the order the checks ran. */
export interface Findings {
  reasons: string[];
  /** The time cap killed the Worker (status TIMEOUT; the Auditor is not called). */
  timedOut: boolean;
  /** The Worker container failed for a reason no cap explains: the cycle ends with an error, not a verdict. */
  workerError?: string;
  /** Gate failures HEAD already had on the accepted baseline: reported, never held against the Worker. */
  preExisting: string[];
}

/** The Gate's facts for the verdict: its status, the step it failed at and that step's failed-test count. */
export function gateFacts(gate: GateReport): NonNullable<CheckFacts['gate']> {
  const step = gate.failedAt === undefined ? undefined : [...gate.guards, ...gate.stages].find((s) => s.name === gate.failedAt);
  return { status: gate.status, failedAt: gate.failedAt, ...(step?.counts ? { failed: step.counts.failed + step.counts.errors } : {}) };
}

/**
 * "A Worker is never blamed for a failure HEAD already had": the Gate step the cycle failed at
 * was red on the accepted baseline too, with no more failed tests than there (when the baseline
 * counted them, the cycle must have counted them too). The line says so, else null.
 */
export function preExistingFailure(gate: NonNullable<CheckFacts['gate']>, baseline: CheckFacts['baseline']): string | null {
  if (!baseline?.accepted || gate.status === 'PASS' || gate.failedAt === undefined) return null;
  const before = baseline.failing.find((f) => f.kind === 'gate' && f.name === gate.failedAt);
  if (!before) return null;
  if (before.failed !== undefined && (gate.failed === undefined || gate.failed > before.failed)) return null;
  const counts = before.failed !== undefined ? ` (${gate.failed} failed; ${before.failed} on HEAD)` : '';
  return `pre-existing: Gate ${gate.failedAt} fails on HEAD too${counts}, accepted with the red baseline; the Gate steps after it did not run`;
}

function resultReasons(r: ResultRead): string[] {
  if (r.kind === 'missing') return ['the Worker wrote no result.json'];
  if (r.kind === 'rejected') return [`result.json rejected: ${r.error}`];
  return [];
}

/** The cap or exit that stopped the Worker (the first that applies). */
function runReason(w: WorkerFacts, limits: VerdictLimits): { reason?: string; workerError?: string } {
  const { run } = w;
  if (run.status === 'timeout') return { reason: `time cap: the Worker ran past ${limits.timeoutMinutes} min and was killed` };
  if (w.overCap) return { reason: `workspace size cap: the Worker wrote more than ${limits.workspaceMb} MiB into the staging copy and was stopped` };
  if (w.budgetHit) {
    const held = w.reserveUsd ? ` ($${w.reserveUsd.toFixed(4)} of it held back for the Auditor)` : '';
    return { reason: `budget cap: the cycle spent $${w.spentUsd.toFixed(4)} of $${limits.budgetUsd.toFixed(2)}${held}; the gateway refused further calls` };
  }
  if (run.status === 'error') return { workerError: `the Worker container failed: ${run.error ?? 'unknown error'}` };
  if (run.status === 'exited' && run.exitCode !== 0) return { reason: `the Worker exited with code ${run.exitCode}${w.agentOutcome !== undefined ? ` (agent: ${w.agentOutcome})` : ''}` };
  return {};
}

function auditReason(a: NonNullable<CheckFacts['audit']>): string {
  return `Auditor verdict FAIL: ${a.violations.map((v) => `${v.file}${v.line ? `:${v.line}` : ''} ${v.rule}`).join('; ') || a.summary || 'no detail'}`;
}

/** The reasons against the cycle from the facts so far; CHECK asks it before each further step. */
export function findings(w: WorkerFacts, c: CheckFacts, limits: VerdictLimits): Findings {
  const reasons = resultReasons(w.result);
  const stop = runReason(w, limits);
  if (stop.workerError) return { reasons, timedOut: false, workerError: stop.workerError, preExisting: [] };
  const preExisting: string[] = [];
  if (stop.reason) reasons.push(stop.reason);
  if (w.run.oomKilled) reasons.push('the Worker ran out of memory (OOM-killed)');
  if (w.violations.length) reasons.push(`${w.violations.length} change(s) outside the plan's scope: ${w.violations.map((v) => `${v.path} (${v.rule})`).join(', ')}`);
  const r = w.result.kind === 'read' ? w.result.result : null;
  if (r && r.status !== 'PASS') reasons.push(r.forced ? 'result.json claims PASS while one of its gate results is FAIL' : `the Worker reported ${r.status}`);
  if (w.changes === 0 && reasons.length === 0) reasons.push('the Worker changed nothing');
  const pre = c.gate ? preExistingFailure(c.gate, c.baseline) : null;
  if (pre) preExisting.push(pre);
  else if (c.gate && c.gate.status !== 'PASS') reasons.push(`Gate FAIL at ${c.gate.failedAt ?? 'unknown step'}`);
  if (c.auditBudgetHit) reasons.push(`budget cap: the Auditor ran out of the cycle budget ($${c.auditBudgetHit.spentUsd.toFixed(4)} of $${limits.budgetUsd.toFixed(2)} spent) and gave no verdict`);
  else if (c.audit && c.audit.verdict !== 'PASS') reasons.push(auditReason(c.audit));
  if (c.pnlMissing) reasons.push('profit ticket: the Worker produced no valid pnl_breakdown.json in /factory/out');
  if (c.review && !c.review.approved) reasons.push(`rejected in review: ${c.review.reason || 'no reason given'}`);
  return { reasons, timedOut: w.run.status === 'timeout', preExisting };
}

/**
 * Whether the Auditor runs: escalation (consecutive FAILs before this cycle) always, except after
 * a time cap; the risk level only when everything else passed (only then is it worth paying for).
 */
export function auditNeeded(f: Findings, escalate: boolean, auditorRequired: boolean): boolean {
  return (escalate || (auditorRequired && f.reasons.length === 0)) && !f.timedOut;
}

/** PLAN's reading of the ticket's history: escalate to the Auditor, or block before anything runs. */
export interface PlanVerdict {
  killSwitch: KillSwitchDecision;
  /** Two consecutive FAILs (default) before this cycle: the Auditor is called. */
  escalate: boolean;
  /** The retry cap was already reached: the cycle ends BLOCKED at PLAN. */
  blocked: Verdict | null;
}

export function planVerdict(history: readonly CycleRecord[], ticketId: string, config: FactoryConfig): PlanVerdict {
  const ks = evaluateKillSwitches(history, ticketId, config);
  const reason = ks.reason ?? 'retry cap';
  const blocked: Verdict | null = ks.block ? { status: 'BLOCKED', cause: 'FAIL', reasons: [reason], blockReason: reason } : null;
  return { killSwitch: ks, escalate: ks.escalate, blocked };
}

/** The cycle's verdict. */
export interface Verdict {
  status: CycleStatus;
  /** Why the status is not PASS, one line each. */
  reasons: string[];
  /** What the attempt counts as for the retry cap (history's `cause` when it differs from status). */
  cause: CycleStatus;
  /** A kill switch fired: the ticket is set BLOCKED in the roadmap with this reason. */
  blockReason?: string;
  /** Gate failures the accepted baseline already had (`preExistingFailure`): reported, not held against the Worker. */
  preExisting?: string[];
}

export interface VerdictInput {
  config: FactoryConfig;
  ticketId: string;
  runId: string;
  timeoutMinutes: number;
  /** History before this cycle, oldest first. */
  history: readonly CycleRecord[];
  worker: WorkerFacts;
  check: CheckFacts;
}

/**
 * The verdict after CHECK. PASS needs no reason and a Gate that ran. Otherwise the attempt is a
 * FAIL (TIMEOUT after the time cap); a time cap blocks the ticket and stays TIMEOUT; a budget cap,
 * or this attempt reaching the retry cap, blocks it as BLOCKED.
 */
export function decideVerdict(v: VerdictInput): Verdict {
  const f = findings(v.worker, v.check, verdictLimits(v.config, v.timeoutMinutes));
  if (f.workerError) throw new Error(`decideVerdict: ${f.workerError} is an error, not a verdict`);
  const pre = f.preExisting.length ? { preExisting: f.preExisting } : {};
  if (f.reasons.length === 0 && v.check.gate) return { status: 'PASS', cause: 'PASS', reasons: [], ...pre };
  const cause: CycleStatus = f.timedOut ? 'TIMEOUT' : 'FAIL';
  // The kill switches count status per ticket only; this attempt joins the history it is judged by.
  const attempt: CycleRecord = { runId: v.runId, ticketId: v.ticketId, status: cause, endedAt: '', costUsd: 0 };
  const projected = evaluateKillSwitches([...v.history, attempt], v.ticketId, v.config);
  const blockReason = f.timedOut
    ? `time cap (${v.timeoutMinutes} min)`
    : v.worker.budgetHit || v.check.auditBudgetHit
      ? `budget cap ($${v.config.killSwitch.budgetUsd.toFixed(2)})`
      : projected.block
        ? projected.reason
        : undefined;
  if (!blockReason) return { status: cause, cause, reasons: f.reasons, ...pre };
  return { status: f.timedOut ? 'TIMEOUT' : 'BLOCKED', cause, reasons: f.reasons, blockReason, ...pre };
}

/**
 * The verdict of a cycle whose Auditor reserve does not fit the budget (spend.ts `cycleBudget`):
 * BLOCKED before the Worker starts, never an unaudited PASS. Not an attempt of the ticket (nothing
 * ran), so its cause is BLOCKED too.
 */
export function reserveVerdict(reason: string): Verdict {
  return { status: 'BLOCKED', cause: 'BLOCKED', reasons: [reason], blockReason: reason };
}
