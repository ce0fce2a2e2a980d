/**
 * One side of a compare run: the shared plan routed to the side's agent and model under its own
 * run id, and its DO → CHECK → verdict, exactly as a normal cycle runs them (the same Gate and
 * Auditor), but without ADJUST: the compare decides which side is applied (run-compare.ts).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FactoryConfig } from '../../config/schema';
import type { Plan } from '../../contracts/plan';
import { prefetchVerifiedTree, type VerifiedTree } from '../../evidence/verified-tree';
import { resolveRouting } from '../../plan/routing';
import { FactoryError } from '../../util/errors';
import type { CycleContext, CycleEnv } from '../cycle-context';
import type { BaselineReport, CycleOutcome } from '../cycle-types';
import { evaluateKillSwitches } from '../kill-switches';
import type { ActInput } from '../phases/act-input';
import { checkPhase } from '../phases/check';
import { doPhase, type CycleResources } from '../phases/do';
import type { PlanOutput } from '../phases/plan';
import { decideVerdict } from '../verdict';
import type { CompareSide } from './pick';

/** One side while the compare runs: its plan, context, resources and outcome; `act` once CHECK decided. */
export interface SideRun {
  side: CompareSide;
  planned: PlanOutput;
  ctx: CycleContext;
  res: CycleResources;
  outcome: CycleOutcome;
  act?: ActInput;
  /** DO or CHECK failed for a reason that is not a verdict (the side is recorded ABORTED). */
  error?: unknown;
  /** Lines added + removed by its changeset (0 when the changeset cannot pass: outside scope, over the cap). */
  diffLines: number;
}

/**
 * The shared plan for one side: its run id, and the Worker the routing table gives for the side's
 * agent (and model) as an override — the same escalation, Auditor and reserve as the plan's.
 */
export function sidePlan(config: FactoryConfig, planned: PlanOutput, side: CompareSide, runId: string, source: string): PlanOutput {
  const plan = planned.plan;
  const fails = evaluateKillSwitches(planned.history, plan.ticket_id, config).consecutiveFails;
  const routed = resolveRouting({ config, ticketId: plan.ticket_id, level: plan.risk_level, consecutiveFails: fails, auditNeeded: false, override: { agent: side.agent, ...(side.model ? { model: side.model } : {}), source } });
  const w = routed.worker;
  const own: Plan = { ...plan, run_id: runId, agent: w.agent, model: w.model, model_budget: w.tier, routing: { ...(plan.routing ?? {}), worker: w, ...(routed.override ? { override: routed.override } : {}) } };
  return { ...planned, plan: own, built: { ...planned.built, plan: own } };
}

/**
 * The side's environment: its own slot (state file), no review hook (the compare's pick is the
 * review), and for the replay agent its own recordings — `<replay dir>/<side>/` when that folder
 * exists, else the shared one.
 */
export function sideEnv(env: CycleEnv, side: CompareSide, index: number): CycleEnv {
  const { review: _review, ...deps } = env.deps;
  const dir = env.opts.replayDir;
  const own = dir ? path.join(dir, side.side) : undefined;
  const replayDir = own && fs.statSync(own, { throwIfNoEntry: false })?.isDirectory() ? own : dir;
  return { ...env, deps, opts: { ...env.opts, slot: (env.opts.slot ?? 0) + index, ...(replayDir ? { replayDir } : {}) } };
}

/** What every side shares: the Worker's budget, the Controller model's spend (part of each side's budget), the baseline. */
export interface SideShared {
  workerUsd: number;
  controllerCostUsd: number;
  baseline: BaselineReport | undefined;
}

/** DO → CHECK → verdict of one side; fills `run.act`, its outcome and diff size. Throws what DO or CHECK throws. */
export async function runSide(run: SideRun, shared: SideShared): Promise<void> {
  const { ctx, res, outcome, planned } = run;
  const { plan, built } = planned;
  const tDo = Date.now();
  const done = await doPhase(ctx, { plan, built, baseCommit: planned.baseCommit, workerBudgetUsd: shared.workerUsd, reserveUsd: plan.routing?.reserve_usd }, res);
  Object.assign(outcome.timings, { agentMs: done.agentMs, agentOwnMs: done.agentOwnMs });
  outcome.costUsd += done.costUsd;
  outcome.spend = [...(outcome.spend ?? []), ...done.spend];
  ctx.state.spend = [...(ctx.state.spend ?? []), ...done.spend];
  outcome.changes = done.changes.map((c) => ({ path: c.path, kind: c.kind }));
  outcome.violations = done.violations;
  outcome.timings.phases.DO = Date.now() - tDo;

  const tCheck = Date.now();
  const checked = await checkPhase(ctx, { plan, built, baseCommit: planned.baseCommit, escalate: planned.verdict.escalate, done, controllerCostUsd: shared.controllerCostUsd, res, ...(shared.baseline ? { baseline: shared.baseline } : {}) });
  Object.assign(outcome.timings, { gateMs: checked.gateMs, gateCommandMs: checked.gateCommandMs, auditMs: checked.auditMs });
  outcome.costUsd += checked.auditCostUsd;
  outcome.spend.push(...checked.auditSpend);
  ctx.state.spend = [...ctx.state.spend, ...checked.auditSpend];
  outcome.audit = checked.audit;
  outcome.timings.phases.CHECK = Date.now() - tCheck;
  if (ctx.signal?.aborted) throw new FactoryError('interrupted during CHECK', 'interrupted');
  const verdict = decideVerdict({ config: ctx.config, ticketId: plan.ticket_id, runId: plan.run_id, timeoutMinutes: plan.timeout_minutes, history: planned.history, worker: checked.worker, check: checked.facts });
  outcome.reasons.push(...verdict.reasons, ...(verdict.preExisting ?? []));
  res.keepStaging = verdict.status !== 'PASS';
  run.act = { plan, built, index: planned.index, startedAt: planned.startedAt, done, checked, verdict, outcome, controllerRecords: [] };
  // The changeset's size in lines, from its verified tree (built ahead in DO; ADJUST's evidence takes it over).
  if (done.changes.length && !done.violations.length && !done.overCap) {
    const tree = (await prefetchVerifiedTree(ctx.root, done.staging.baseCommit, done.staging.workspace, done.changes, ctx.signal)) as VerifiedTree | null;
    run.diffLines = tree ? tree.linesAdded + tree.linesRemoved : 0;
  }
}
