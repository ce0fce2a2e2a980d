/**
 * One PDCA cycle as a sequence of phases (phases/plan.ts → do.ts → check.ts → verdict.ts →
 * act.ts). This module only sequences them, persists the cycle state between them, and owns the
 * repo lock, cancellation and crash recovery; what each phase does lives in its module.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadConfigStrict } from '../config/load';
import type { FactoryConfig } from '../config/schema';
import type { CyclePhase } from '../contracts/status';
import { openBackend } from '../backend/select';
import type { ExecutionBackend } from '../backend/backend';
import { connectDocker } from '../docker/connect';
import { ownerTag } from '../sandbox/container-spec';
import { FactoryError, errorMessage } from '../util/errors';
import { nullLogger, type Logger } from '../util/log';
import { stopwatch } from '../util/stopwatch';
import { startBaseline } from './baseline';
import { faultPoint, type CycleContext, type CycleEnv } from './cycle-context';
import { takeCycleLock } from './cycle-lock';
import { cyclePaths, type CyclePaths } from './cycle-paths';
import { clearCycleState, readCycleState, stateFile, writeCycleState, type CycleState } from './cycle-state';
import { emptyOutcome, type BaselineReport, type CycleDeps, type CycleEvent, type CycleOptions, type CycleOutcome } from './cycle-types';
import { markCycleInProgress, restoreStatuses } from './in-progress';
import { gateCommandMs } from '../gate/gate-model';
import { integrate, type Integration } from './parallel/integrate';
import { actPhase, recordVerdict, type ActInput } from './phases/act';
import { checkPhase } from './phases/check';
import { doPhase, type CycleResources } from './phases/do';
import { planPhase, publishPlan, type PlanHooks, type PlanOutput } from './phases/plan';
import { pruneKeptStaging } from './phases/record';
import { retryPendingPush, type PushResult } from './push';
import { abortOnce, adjustCommitted, recoverInterrupted, rollbackAdjust } from './recover';
import { cycleBudget, spentSoFar } from './spend';
import { decideVerdict, reserveVerdict } from './verdict';

export { cyclePaths, cycleRecords } from './cycle-paths';
export { preparePlan } from './phases/plan';
export type { BaselineReport, ChangesetReview, CycleDeps, CycleEvent, CycleOptions, CycleOutcome, ReviewDecision } from './cycle-types';

/**
 * One PDCA cycle (spec §4; DESIGN §1), as a persisted state machine under the repo lock:
 * recover an interrupted cycle → PLAN (queue or ticket, kill switches, plan.json) → DO (the Worker
 * in the hardened sandbox over a staging copy of HEAD, through the model gateway) → CHECK (scope,
 * result.json, the Gate in fresh containers, the Auditor when the risk or two FAILs call for it) →
 * ADJUST (PASS: conflict-checked apply, ledger DONE, roadmap counts, evidence, history, cost
 * summary, one commit; FAIL: nothing applied, the staging copy kept; caps → ticket BLOCKED).
 * Spec §8-3 start: the work tree must be clean (PLAN), then the baseline — Gate and DocOps on
 * HEAD (baseline.ts) — before anything is paid, unless `opts.baseline` is `skip`.
 * @throws FactoryError `locked` (exit 3) when another Controller runs a cycle on this repo;
 *   `plan.queue-empty` (exit 0) when there is nothing to do; `worktree-dirty` (exit 2) on a dirty
 *   tree; `baseline-red` (exit 1) when HEAD fails the Gate or DocOps and that was not accepted.
 */
export async function runCycle(opts: CycleOptions, deps: CycleDeps = {}): Promise<CycleOutcome> {
  const t0 = Date.now();
  const session = await openRun(opts, deps);
  try {
    return await runCycleBody(cycleEnv(session, opts, deps), { t0, retried: session.retried });
  } finally {
    await session.close();
  }
}

/** A run's hold on the repository (one Controller per repo, SECURITY 27): one or many cycles run inside it. */
export interface RunSession {
  root: string;
  config: FactoryConfig;
  paths: CyclePaths;
  docker: CycleEnv['docker'];
  log: Logger;
  lap: CycleEnv['lap'];
  /** Where the run's Worker and Gate containers run (`config.engine.backend`); disposed by `close`. */
  backend: ExecutionBackend;
  /** The push retry before the run's first cycle (`git.push`), or null. */
  retried: PushResult | null;
  /** Stop the backend's services, release the repo lock. */
  close: () => Promise<void>;
}

/**
 * Start a run: the repo lock, the engine, recovery of every cycle an earlier Controller left in
 * flight, and the retry of an earlier failed push — once per run, however many cycles follow.
 * @throws FactoryError `locked` (exit 3) when another Controller holds the repository.
 */
export async function openRun(opts: Pick<CycleOptions, 'root' | 'config' | 'lockStaleMs'>, deps: CycleDeps = {}): Promise<RunSession> {
  const log = deps.logger ?? nullLogger;
  const root = path.resolve(opts.root);
  const config = opts.config ?? (await loadConfigStrict(root)).config;
  const paths = cyclePaths(root, config);
  const lap = stopwatch(log, 'cycle');
  const lock = await takeCycleLock(root, config, opts, log);
  try {
    const docker = deps.docker ?? (await connectDocker({ ...(deps.signal ? { signal: deps.signal } : {}) })).docker;
    const backend = await openBackend(config, { docker, logger: log, root, runId: `run-${process.pid}-${Date.now().toString(36)}`, ...(deps.signal ? { signal: deps.signal } : {}) });
    const close = async () => {
      await backend.dispose().catch((err: unknown) => log.warn(`backend: ${errorMessage(err)}`));
      await lock.release();
    };
    const session: RunSession = { root, config, paths, docker, backend, log, lap, retried: null, close };
    const env = cycleEnv(session, { root }, deps);
    const recovery = await recoverInterrupted({ root, config, docker, logger: log });
    if (recovery.actions.length) env.emit({ type: 'recovered', recovery });
    lap('lock, engine and recovery');
    session.retried = config.git.push ? await retryPush(env) : null;
    return session;
  } catch (err) {
    await abandonCycle(root, config, stateFile(root, config.paths.autopilot, 0), log, err, {});
    await lock.release();
    throw err;
  }
}

/** The environment of one cycle of the run `session`. */
export function cycleEnv(session: RunSession, opts: CycleOptions, deps: CycleDeps): CycleEnv {
  const { root, config, paths, docker, backend, log, lap } = session;
  const emit = (e: CycleEvent) => {
    try {
      deps.onEvent?.(e);
    } catch (err) {
      log.warn(`cycle event listener failed: ${errorMessage(err)}`);
    }
  };
  return { root, config, paths, opts: { ...opts, root }, deps, docker, backend, log, now: deps.now ?? (() => new Date()), emit, lap, signal: deps.signal };
}

/** What a parallel run's scheduler changes in a cycle (cycle/parallel/run-factory.ts); a serial cycle uses none. */
export interface CycleHooks {
  /** When the cycle began (its `totalMs`); default: now. */
  t0?: number;
  /** The run's push retry, reported in this cycle's outcome. */
  retried?: PushResult | null;
  /** PLAN already done by the caller (who checked the plan's scope against the cycles in flight). */
  planned?: PlannedCycle;
  /** Runs `job` alone among the run's cycles (marking the ACs, abandoning); default: at once. */
  exclusive?: <T>(job: () => Promise<T>) => Promise<T>;
  /** Runs `job` (ADJUST and integration, or a verdict's record) through the merge queue; default: at once. */
  settle?: <T>(ctx: CycleContext, job: () => Promise<T>) => Promise<T>;
}

/** PLAN's result with the baseline it ran (the run's first cycle). */
export interface PlannedCycle {
  planned: PlanOutput;
  baseline?: BaselineReport;
  /** The baseline of the run's first cycle, for a later one's CHECK (pre-existing failures); not its own outcome's. */
  runBaseline?: BaselineReport;
  /** When PLAN began (Date.now()). */
  startedMs: number;
}

/** PLAN: the clean start, the baseline once the tree is known clean (before anything is paid), the plan. */
export async function planCycle(env: CycleEnv, hooks: Pick<PlanHooks, 'exclude' | 'ownChanges'> = {}): Promise<PlannedCycle> {
  const startedMs = Date.now();
  let baseline: BaselineReport | undefined;
  const planned = await planPhase(env, { ...hooks, beforeSpend: async (head) => void (baseline = await startBaseline(env, head)) });
  return { planned, startedMs, ...(baseline ? { baseline } : {}) };
}

/** One cycle after the run's start: PLAN (unless given) → DO → CHECK → verdict → ADJUST; its resources released whatever the end. */
export async function runCycleBody(env: CycleEnv, hooks: CycleHooks = {}): Promise<CycleOutcome> {
  const res: CycleResources = {};
  try {
    return await sequencePhases(env, res, hooks);
  } catch (err) {
    const abandon = () => abandonCycle(env.root, env.config, stateFile(env.root, env.config.paths.autopilot, env.opts.slot ?? 0), env.log, err, res);
    await (hooks.exclusive ? hooks.exclusive(abandon) : abandon());
    throw err;
  } finally {
    await releaseCycle(res, env.paths, env.opts, env.log);
  }
}

/** PLAN → DO → CHECK → verdict → ADJUST, each phase's time in the outcome, the state persisted between them. */
async function sequencePhases(env: CycleEnv, res: CycleResources, hooks: CycleHooks): Promise<CycleOutcome> {
  // A plan made by the caller (a parallel run) counts from when its PLAN began, as a serial cycle does.
  const t0 = hooks.t0 ?? hooks.planned?.startedMs ?? Date.now();
  const settle = <T>(ctx: CycleContext, job: () => Promise<T>): Promise<T> => (hooks.settle ? hooks.settle(ctx, job) : job());
  // Once the tree is known clean and before PLAN pays anything: the baseline on HEAD.
  const { planned, baseline, runBaseline, startedMs: tPlan } = hooks.planned ?? (await planCycle(env));
  const { plan } = planned;
  const outcome = emptyOutcome(plan);
  if (baseline) outcome.baseline = baseline;
  const retried = hooks.retried;
  if (retried) {
    outcome.pushRetry = { pushed: retried.pushed, commits: retried.commits, ...(retried.error ? { error: retried.error } : {}) };
    if (!retried.pushed) outcome.reasons.push(`${retried.commits} earlier commit(s) still not pushed to ${retried.upstream ?? 'the upstream'}: ${retried.error ?? 'git push failed'}`);
  }
  outcome.escalated = planned.verdict.escalate;
  // The Controller model's review (PLAN) is the cycle's first spend.
  const controllerCostUsd = planned.controller?.costUsd ?? 0;
  outcome.costUsd = controllerCostUsd;
  outcome.spend = [...(planned.controller?.spend ?? [])];
  if (outcome.spend.length) env.emit({ type: 'spend', runId: plan.run_id, role: 'controller', spend: [...outcome.spend] });
  const ctx = cycleContext(env, planned);
  await ctx.setPhase('PLAN');
  const finish = async () => {
    // The cycle is over (whatever its status): no state left for a restart to recover.
    await clearCycleState(ctx.statePath);
    outcome.timings.totalMs = Date.now() - t0;
    env.emit({ type: 'end', outcome });
    return outcome;
  };
  if (planned.verdict.blocked) {
    // The cap was reached earlier but the roadmap does not say BLOCKED yet (e.g. edited by hand).
    outcome.reasons.push(...planned.verdict.blocked.reasons);
    const blocked = planned.verdict.blocked;
    await settle(ctx, () => recordVerdict(ctx, plan, outcome, blocked));
    return finish();
  }
  const mark = async () => {
    await publishPlan(ctx, planned);
    await markCycleInProgress(ctx);
  };
  await (hooks.exclusive ? hooks.exclusive(mark) : mark());
  outcome.timings.phases.PLAN = Date.now() - tPlan;
  // One budget: the Auditor's reserve is held back before the Worker starts, or the cycle ends here.
  const budget = cycleBudget({ budgetUsd: env.config.killSwitch.budgetUsd, controllerUsd: controllerCostUsd, reserveUsd: plan.routing?.reserve_usd, auditor: plan.routing?.auditor });
  if (!budget.fits) {
    outcome.reasons.push(budget.reason);
    await settle(ctx, () => recordVerdict(ctx, plan, outcome, reserveVerdict(budget.reason)));
    return finish();
  }
  await workPhases(ctx, res, { planned, outcome, workerUsd: budget.workerUsd, controllerCostUsd, baseline: baseline ?? runBaseline, settle });
  return finish();
}

/** DO → CHECK → verdict → ADJUST (through the merge queue), once the plan is published and the budget fits. */
async function workPhases(
  ctx: CycleContext,
  res: CycleResources,
  w: { planned: PlanOutput; outcome: CycleOutcome; workerUsd: number; controllerCostUsd: number; baseline: BaselineReport | undefined; settle: <T>(ctx: CycleContext, job: () => Promise<T>) => Promise<T> },
): Promise<void> {
  const { planned, outcome, baseline } = w;
  const { plan, built } = planned;
  const tDo = Date.now();
  const done = await doPhase(ctx, { plan, built, baseCommit: planned.baseCommit, workerBudgetUsd: w.workerUsd, reserveUsd: plan.routing?.reserve_usd }, res);
  Object.assign(outcome.timings, { agentMs: done.agentMs, agentOwnMs: done.agentOwnMs });
  outcome.costUsd += done.costUsd;
  outcome.spend = [...(outcome.spend ?? []), ...done.spend];
  // Persisted with CHECK's state: an abort from here on records the Worker's spend too.
  ctx.state.spend = [...outcome.spend];
  outcome.changes = done.changes.map((c) => ({ path: c.path, kind: c.kind }));
  outcome.violations = done.violations;
  outcome.timings.phases.DO = Date.now() - tDo;

  const tCheck = Date.now();
  const checked = await checkPhase(ctx, { plan, built, baseCommit: planned.baseCommit, escalate: planned.verdict.escalate, done, controllerCostUsd: w.controllerCostUsd, res, ...(baseline ? { baseline } : {}) });
  Object.assign(outcome.timings, { gateMs: checked.gateMs, gateCommandMs: checked.gateCommandMs, auditMs: checked.auditMs });
  outcome.costUsd += checked.auditCostUsd;
  outcome.spend.push(...checked.auditSpend);
  ctx.state.spend = [...outcome.spend];
  outcome.audit = checked.audit;
  outcome.timings.phases.CHECK = Date.now() - tCheck;

  ctx.lap('CHECK done');
  // A stop during CHECK cuts the Gate or the Auditor short: that is the user's stop (ABORTED), never the Worker's FAIL.
  if (ctx.signal?.aborted) throw new FactoryError('interrupted during CHECK', 'interrupted');
  const verdict = decideVerdict({ config: ctx.config, ticketId: plan.ticket_id, runId: plan.run_id, timeoutMinutes: plan.timeout_minutes, history: planned.history, worker: checked.worker, check: checked.facts });
  outcome.reasons.push(...verdict.reasons, ...(verdict.preExisting ?? []));
  // Set before ADJUST acts, so a failure while recording a FAIL still keeps the copy.
  res.keepStaging = verdict.status !== 'PASS';
  const act = { plan, built, index: planned.index, startedAt: planned.startedAt, done, checked, verdict, outcome, controllerRecords: planned.controller?.records ?? [] };
  ctx.emit({ type: 'merge', runId: plan.run_id, step: 'queued', head: planned.baseCommit });
  const early = await integrateEarly(ctx, act);
  // The time ADJUST waits in the merge queue behind other cycles is not ADJUST's.
  let tAdjust = Date.now();
  await w.settle(ctx, () => {
    tAdjust = Date.now();
    // A PASS is integrated onto the current HEAD first (parallel/integrate.ts), or requeued; actPhase
    // takes the integration made while waiting when HEAD has not moved since.
    return actPhase(ctx, early ? { ...act, integration: early } : act);
  });
  // ADJUST can still fail a PASS verdict (a conflict, DocOps on the adjusted documents, a requeue): that copy is kept too.
  res.keepStaging = outcome.status !== 'PASS';
  outcome.timings.phases.ADJUST = Date.now() - tAdjust;
}

/**
 * A PASS is integrated onto the HEAD of the moment before it waits for the merge queue, so its
 * integrated Gate runs beside the other cycles' work instead of inside the queue, one at a time.
 * The queue takes it when HEAD has not moved since (`stillCurrent`), else integrates again.
 */
async function integrateEarly(ctx: CycleContext, act: ActInput): Promise<Integration | undefined> {
  if (act.verdict.status !== 'PASS' || !act.checked.gate) return undefined;
  const early = await integrate(ctx, { plan: act.plan, baseCommit: ctx.state.baseCommit, done: act.done, checked: act.checked });
  if (early.kind !== 'same-base' && early.gate) act.outcome.timings.gateCommandMs += gateCommandMs(early.gate);
  return early;
}

/**
 * `git.push`: commits an earlier failed push left (counted from git, so a crash loses nothing) are
 * pushed once before the cycle; a failure is reported again and the cycle still runs.
 */
async function retryPush(env: CycleEnv): Promise<PushResult | null> {
  const retried = await retryPendingPush(env.root, env.signal);
  if (!retried) return null;
  if (retried.pushed) env.log.info(`pushed ${retried.commits} commit(s) an earlier push had left on ${retried.upstream ?? 'the upstream'}`);
  else env.log.warn(`${retried.commits} commit(s) still not pushed to ${retried.upstream ?? 'the upstream'}: ${retried.error ?? 'git push failed'}`);
  env.emit({ type: 'push', when: 'retry', ...retried });
  env.lap('push retry');
  return retried;
}

/** The run's persisted state, and the one way to move it to the next phase. */
export function cycleContext(env: CycleEnv, planned: PlanOutput): CycleContext {
  const { plan } = planned;
  const state: CycleState = { version: 1, runId: plan.run_id, ticketId: plan.ticket_id, acIds: plan.ac_ids, phase: 'PLAN', baseCommit: planned.baseCommit, startedAt: planned.startedAt.toISOString(), owner: ownerTag() };
  // Money already spent (the Controller model, in PLAN) is recorded even if the cycle is aborted.
  if (planned.controller?.spend.length) state.spend = [...planned.controller.spend];
  const statePath = stateFile(env.root, env.config.paths.autopilot, env.opts.slot ?? 0);
  const setPhase = async (phase: CyclePhase, extra: Partial<CycleState> = {}) => {
    Object.assign(state, extra, { phase });
    await writeCycleState(statePath, state);
    env.emit({ type: 'phase', runId: plan.run_id, phase, at: env.now().toISOString() });
    faultPoint(phase);
  };
  return { ...env, state, statePath, setPhase };
}

/**
 * An interruption or an internal failure mid-cycle: nothing was applied unless ADJUST had begun,
 * and then the state file lets the next start finish it or roll it back. A failure inside ADJUST
 * is rolled back at once, so the host never keeps half a cycle.
 */
export async function abandonCycle(root: string, config: FactoryConfig, statePath: string, log: Logger, err: unknown, res: CycleResources): Promise<void> {
  const st = readCycleState(statePath);
  const paths = cyclePaths(root, config);
  if (!st) return;
  st.spend = spentSoFar(st.spend, res);
  try {
    const committed = st.phase === 'ADJUST' ? await adjustCommitted(root, st) : null;
    if (st.phase === 'ADJUST' && !committed) await rollbackAdjust(root, config, st);
    if (!committed) await restoreStatuses(root, config, st.acStatusBefore);
    if (!committed) await abortOnce(paths, st, errorMessage(err));
    if (st.backupDir) await fs.promises.rm(st.backupDir, { recursive: true, force: true });
    await clearCycleState(statePath);
  } catch (cleanup) {
    // Leave the state file: the next start retries the rollback.
    log.error(`could not roll back run ${st.runId}: ${errorMessage(cleanup)}`);
  }
}

/** Whatever the cycle's end: the agent output kept with a FAILed copy, the launch and copy disposed (the run's lock is the session's). */
export async function releaseCycle(res: CycleResources, paths: CyclePaths, opts: CycleOptions, log: Logger): Promise<void> {
  const { staging, launch, keepStaging } = res;
  // A FAILed cycle keeps its staging copy for inspection, and with it what the agent said.
  if (keepStaging && staging && launch) {
    try {
      launch.keepOutput(path.join(staging.dir, 'agent'));
    } catch (err) {
      log.warn(`could not keep the agent's output next to the staging copy: ${errorMessage(err)}`);
    }
  }
  await launch?.dispose();
  // The outcome is settled; the copy is deleted while the caller goes on.
  if (staging && !keepStaging) void staging.disposeInBackground();
  pruneKeptStaging(paths.history, opts.keepFailedStaging ?? 3);
}
