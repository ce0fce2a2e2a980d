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
import { connectDocker } from '../docker/connect';
import type { RepoLock } from '../lock/repo-lock';
import { ownerTag } from '../sandbox/container-spec';
import { errorMessage } from '../util/errors';
import { nullLogger, type Logger } from '../util/log';
import { stopwatch } from '../util/stopwatch';
import { startBaseline } from './baseline';
import { faultPoint, type CycleContext, type CycleEnv } from './cycle-context';
import { takeCycleLock } from './cycle-lock';
import { cyclePaths, type CyclePaths } from './cycle-paths';
import { clearCycleState, readCycleState, stateFile, writeCycleState, type CycleState } from './cycle-state';
import { emptyOutcome, type BaselineReport, type CycleDeps, type CycleEvent, type CycleOptions, type CycleOutcome } from './cycle-types';
import { markCycleInProgress, restoreStatuses } from './in-progress';
import { actPhase, recordVerdict } from './phases/act';
import { checkPhase } from './phases/check';
import { doPhase, type CycleResources } from './phases/do';
import { planPhase, publishPlan, type PlanOutput } from './phases/plan';
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
  const log = deps.logger ?? nullLogger;
  const root = path.resolve(opts.root);
  const config = opts.config ?? (await loadConfigStrict(root)).config;
  const paths = cyclePaths(root, config);
  const t0 = Date.now();
  const lap = stopwatch(log, 'cycle');
  const lock = await takeCycleLock(root, config, opts, log);
  const res: CycleResources = {};
  try {
    const docker = deps.docker ?? (await connectDocker({ ...(deps.signal ? { signal: deps.signal } : {}) })).docker;
    const env = cycleEnv(root, config, paths, opts, deps, docker, log, lap);
    const recovery = await recoverInterrupted({ root, config, docker, logger: log });
    if (recovery.actions.length) env.emit({ type: 'recovered', recovery });
    env.lap('lock, engine and recovery');
    const retried = config.git.push ? await retryPush(env) : null;
    const outcome = await sequencePhases(env, res, t0, retried);
    return outcome;
  } catch (err) {
    await abandonCycle(root, config, stateFile(root, config.paths.autopilot, opts.slot ?? 0), log, err, res);
    throw err;
  } finally {
    await releaseCycle(res, paths, opts, lock, log);
  }
}

function cycleEnv(root: string, config: FactoryConfig, paths: CyclePaths, opts: CycleOptions, deps: CycleDeps, docker: CycleEnv['docker'], log: Logger, lap: CycleEnv['lap']): CycleEnv {
  const emit = (e: CycleEvent) => {
    try {
      deps.onEvent?.(e);
    } catch (err) {
      log.warn(`cycle event listener failed: ${errorMessage(err)}`);
    }
  };
  return { root, config, paths, opts, deps, docker, log, now: deps.now ?? (() => new Date()), emit, lap, signal: deps.signal };
}

/** PLAN → DO → CHECK → verdict → ADJUST, each phase's time in the outcome, the state persisted between them. */
async function sequencePhases(env: CycleEnv, res: CycleResources, t0: number, retried: PushResult | null): Promise<CycleOutcome> {
  const tPlan = Date.now();
  // Once the tree is known clean and before PLAN pays anything: the baseline on HEAD.
  let baseline: BaselineReport | undefined;
  const planned = await planPhase(env, { beforeSpend: async (head) => void (baseline = await startBaseline(env, head)) });
  const { plan, built } = planned;
  const outcome = emptyOutcome(plan);
  if (baseline) outcome.baseline = baseline;
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
    await recordVerdict(ctx, plan, outcome, planned.verdict.blocked);
    return finish();
  }
  await publishPlan(ctx, planned);
  await markCycleInProgress(ctx);
  outcome.timings.phases.PLAN = Date.now() - tPlan;
  // One budget: the Auditor's reserve is held back before the Worker starts, or the cycle ends here.
  const budget = cycleBudget({ budgetUsd: env.config.killSwitch.budgetUsd, controllerUsd: controllerCostUsd, reserveUsd: plan.routing?.reserve_usd, auditor: plan.routing?.auditor });
  if (!budget.fits) {
    outcome.reasons.push(budget.reason);
    await recordVerdict(ctx, plan, outcome, reserveVerdict(budget.reason));
    return finish();
  }

  const tDo = Date.now();
  const done = await doPhase(ctx, { plan, built, baseCommit: planned.baseCommit, workerBudgetUsd: budget.workerUsd, reserveUsd: plan.routing?.reserve_usd }, res);
  Object.assign(outcome.timings, { agentMs: done.agentMs, agentOwnMs: done.agentOwnMs });
  outcome.costUsd += done.costUsd;
  outcome.spend.push(...done.spend);
  // Persisted with CHECK's state: an abort from here on records the Worker's spend too.
  ctx.state.spend = [...outcome.spend];
  outcome.changes = done.changes.map((c) => ({ path: c.path, kind: c.kind }));
  outcome.violations = done.violations;
  outcome.timings.phases.DO = Date.now() - tDo;

  const tCheck = Date.now();
  const checked = await checkPhase(ctx, { plan, built, baseCommit: planned.baseCommit, escalate: planned.verdict.escalate, done, controllerCostUsd, res, ...(baseline ? { baseline } : {}) });
  Object.assign(outcome.timings, { gateMs: checked.gateMs, gateCommandMs: checked.gateCommandMs, auditMs: checked.auditMs });
  outcome.costUsd += checked.auditCostUsd;
  outcome.spend.push(...checked.auditSpend);
  ctx.state.spend = [...outcome.spend];
  outcome.audit = checked.audit;
  outcome.timings.phases.CHECK = Date.now() - tCheck;

  const tAdjust = Date.now();
  env.lap('CHECK done');
  const verdict = decideVerdict({ config: env.config, ticketId: plan.ticket_id, runId: plan.run_id, timeoutMinutes: plan.timeout_minutes, history: planned.history, worker: checked.worker, check: checked.facts });
  outcome.reasons.push(...verdict.reasons, ...(verdict.preExisting ?? []));
  // Set before ADJUST acts, so a failure while recording a FAIL still keeps the copy.
  res.keepStaging = verdict.status !== 'PASS';
  await actPhase(ctx, { plan, built, index: planned.index, startedAt: planned.startedAt, done, checked, verdict, outcome, controllerRecords: planned.controller?.records ?? [] });
  // ADJUST can still fail a PASS verdict (a conflict, DocOps on the adjusted documents): that copy is kept too.
  res.keepStaging = outcome.status !== 'PASS';
  outcome.timings.phases.ADJUST = Date.now() - tAdjust;
  return finish();
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
function cycleContext(env: CycleEnv, planned: PlanOutput): CycleContext {
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
async function abandonCycle(root: string, config: FactoryConfig, statePath: string, log: Logger, err: unknown, res: CycleResources): Promise<void> {
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

/** Whatever the cycle's end: the agent output kept with a FAILed copy, the launch and copy disposed, the lock released. */
async function releaseCycle(res: CycleResources, paths: CyclePaths, opts: CycleOptions, lock: RepoLock, log: Logger): Promise<void> {
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
  await lock.release();
}
