/**
 * A factory run (`factory run [--parallel N]`, the extension's Run): ONE repo lock, recovery and
 * push retry for the whole run (openRun), the baseline once before the first cycle, then up to N
 * cycles in flight (scheduler.ts), each in its own slot — state file, staging copy, Worker
 * container, gateway budget, evidence. Everything that writes the ledger or the host's tree
 * (marking, ADJUST with its integration onto the current HEAD, a verdict's record) goes through
 * one FIFO merge queue, so commits land one at a time and never carry another cycle's marks.
 */
import { setMaxListeners } from 'node:events';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FactoryConfig } from '../../config/schema';
import type { Plan } from '../../contracts/plan';
import { atomicWrite } from '../../util/atomic-write';
import { FactoryError } from '../../util/errors';
import { nullLogger } from '../../util/log';
import { withoutOwnMarks } from '../clean-start';
import { cyclePaths } from '../cycle-paths';
import { listCycleStates, type CycleState } from '../cycle-state';
import type { BaselineReport, CycleDeps, CycleOptions } from '../cycle-types';
import { markInProgress, restoreStatuses } from '../in-progress';
import { watchStopRequests } from '../stop-requests';
import { runCompare } from '../compare/run-compare';
import { cycleEnv, openRun, planCycle, runCycleBody, type PlannedCycle, type RunSession } from '../orchestrator';
import type { FactoryRunOptions, FactoryRunResult } from './factory-types';
import { MergeQueue } from './merge-queue';
import { schedule, type Candidate, type SchedulerSeam } from './scheduler';

/** The most cycles one run keeps in flight. */
export const MAX_PARALLEL = 16;

/** A planned cycle waiting to be admitted: its options (slot, baseline) and PLAN's result. */
interface FactoryCandidate extends Candidate {
  opts: CycleOptions;
  planned: PlannedCycle;
}

/**
 * Run the factory: cycles from the queue until it is empty, `maxCycles` started, the batch budget
 * would be exceeded, the ticket is done (`ticket`: one ticket, serially — `parallel` does not
 * apply), or `deps.signal` stops it (every cycle in flight records ABORTED). Every event of every
 * cycle goes to `deps.onEvent` (each carries its run id).
 * With `opts.compare` it is one compare cycle instead (`runCompare`).
 * @throws FactoryError `usage` on bad options, `compare.invalid` on a bad compare, `locked` when another Controller holds the
 *   repository, and what a cycle throws (`baseline-red`, `worktree-dirty`, `interrupted` …) once
 *   every other cycle in flight has ended.
 */
export async function runFactory(opts: FactoryRunOptions, deps: CycleDeps = {}): Promise<FactoryRunResult> {
  // `--compare a,b`: one cycle, the plan on two agents side by side, one of them applied (compare/run-compare.ts).
  if (opts.compare) return runCompare(opts, deps);
  checkOptions(opts);
  const log = deps.logger ?? nullLogger;
  // Every cycle in flight (and its concurrent git and engine calls) listens to the run's signal.
  if (deps.signal) setMaxListeners(100, deps.signal);
  if (opts.ticket && (opts.parallel ?? 1) > 1) log.warn(`--ticket ${opts.ticket} works on one ticket, one cycle at a time: --parallel ${opts.parallel} does not apply`);
  const session = await openRun(opts, deps);
  try {
    // No N given: as many as the backend holds at once (the swarm's nodes, issue 19 item 4); 1 on the local engine.
    const parallel = opts.parallel ?? Math.min(MAX_PARALLEL, Math.max(1, (await session.backend.capacity(deps.signal).catch(() => null)) ?? 1));
    if (opts.parallel === undefined && parallel > 1) log.info(`${parallel} cycles in flight at once: the ${session.backend.kind} backend's capacity`);
    const queue = new MergeQueue();
    const seam = factorySeam(session, opts, deps, queue);
    return await schedule(
      {
        parallel,
        maxCycles: opts.maxCycles,
        ...(opts.batchBudgetUsd !== undefined ? { batchBudgetUsd: opts.batchBudgetUsd } : {}),
        cycleBudgetUsd: session.config.killSwitch.budgetUsd,
        ...(opts.ticket ? { ticket: opts.ticket } : {}),
        queue,
        ...(deps.signal ? { signal: deps.signal } : {}),
        emit: cycleEnv(session, { root: session.root }, deps).emit,
        // `factory stop --run R` / `--ticket T`: that cycle alone (stop-requests.ts); stopping all stays the run's signal.
        watchStops: (stop, until) => watchStopRequests(session.root, session.config.paths.autopilot, stop, until),
      },
      seam,
    );
  } finally {
    await session.close();
  }
}

/** Bad numbers are refused before the lock is taken. */
function checkOptions(opts: FactoryRunOptions): void {
  if (opts.parallel !== undefined && (!Number.isInteger(opts.parallel) || opts.parallel < 1 || opts.parallel > MAX_PARALLEL)) throw new FactoryError(`parallel must be an integer from 1 to ${MAX_PARALLEL}, got ${opts.parallel}`, 'usage');
  if (!Number.isInteger(opts.maxCycles) || opts.maxCycles < 1) throw new FactoryError(`maxCycles must be a positive integer, got ${opts.maxCycles}`, 'usage');
  if (opts.batchBudgetUsd !== undefined && !(Number.isFinite(opts.batchBudgetUsd) && opts.batchBudgetUsd > 0)) throw new FactoryError(`the batch budget must be a positive number of USD, got ${opts.batchBudgetUsd}`, 'usage');
}

/** One cycle's options in this run: the run's, its slot, and the baseline for the first cycle only. */
function slotOptions(session: RunSession, opts: FactoryRunOptions, slot: number, first: boolean): CycleOptions {
  const { parallel: _p, maxCycles: _m, batchBudgetUsd: _b, baseline, ...rest } = opts;
  return { ...rest, root: session.root, config: session.config, slot, baseline: first ? baseline ?? 'run' : 'skip' };
}

/** The real cycles behind the scheduler: PLAN (with the clean start and the baseline), then the rest of the cycle. */
function factorySeam(session: RunSession, opts: FactoryRunOptions, deps: CycleDeps, queue: MergeQueue): SchedulerSeam<FactoryCandidate> {
  const { root, config } = session;
  let runBaseline: BaselineReport | undefined;
  let retried = session.retried;
  const plans = new Map<string, Plan>();
  // Runs whose ADJUST or record has settled: their marks are gone (DONE committed or restored), but
  // their state file lingers until the cycle ends, after the merge queue has moved on.
  const settled = new Set<string>();
  return {
    plan: async ({ slot, exclude, first }) => {
      const cycleOpts = slotOptions(session, opts, slot, first);
      const env = cycleEnv(session, cycleOpts, deps);
      // Later cycles: the ledger's IN_PROGRESS marks of the cycles in flight are the Controller's own.
      const marked = listCycleStates(root, config.paths.autopilot).filter((s) => !settled.has(s.state.runId)).flatMap((s) => Object.keys(s.state.acStatusBefore ?? {}));
      const planned = await planCycle(env, { exclude, ownChanges: (paths, head) => withoutOwnMarks(root, config.ssot.ledger, paths, head, marked, deps.signal) });
      runBaseline ??= planned.baseline;
      const { plan } = planned.planned;
      return { runId: plan.run_id, ticketId: plan.ticket_id, scope: plan.scope, opts: cycleOpts, planned };
    },
    run: (c, _slot, signal, tap) => {
      plans.set(c.runId, c.planned.planned.plan);
      const onEvent = (e: Parameters<NonNullable<CycleDeps['onEvent']>>[0]) => {
        tap(e);
        deps.onEvent?.(e);
      };
      const env = cycleEnv(session, c.opts, { ...deps, signal, onEvent });
      const push = retried;
      retried = null;
      return runCycleBody(env, {
        planned: { ...c.planned, ...(runBaseline && !c.planned.baseline ? { runBaseline } : {}) },
        retried: push,
        // Marking, and the roll-back of a cycle that failed (its ADJUST backups were taken with the others unmarked).
        exclusive: (job) => queue.run(() => withOthersUnmarked({ root, config, runId: c.runId }, undefined, job, settled)),
        settle: (ctx, job) => queue.run(async () => {
          const r = await withOthersUnmarked({ root, config, runId: ctx.state.runId }, plans.get(ctx.state.runId), job, settled);
          settled.add(ctx.state.runId);
          return r;
        }),
      }).finally(() => plans.delete(c.runId));
    },
  };
}

/**
 * ADJUST (or a verdict's record) of one cycle while others are in flight: their IN_PROGRESS marks
 * are put back first, so this cycle's commit carries only its own ledger cells, then set again.
 * A crash in between is safe: recovery restores every slot's cells anyway. plan.json is this
 * cycle's again (a later cycle's PLAN rewrote it), so the commit records the plan it ran.
 */
export async function withOthersUnmarked<T>(at: { root: string; config: FactoryConfig; runId: string }, plan: Plan | undefined, job: () => Promise<T>, settled: ReadonlySet<string> = new Set()): Promise<T> {
  const others = listCycleStates(at.root, at.config.paths.autopilot)
    .map((s) => s.state)
    .filter((s) => s.runId !== at.runId && !settled.has(s.runId) && Object.keys(s.acStatusBefore ?? {}).length > 0);
  for (const s of others) await restoreStatuses(at.root, at.config, s.acStatusBefore);
  try {
    if (plan) await writePlanJson(cyclePaths(at.root, at.config).plan, plan);
    return await job();
  } finally {
    await markAgain(at.root, at.config, others);
  }
}

async function markAgain(root: string, config: FactoryConfig, others: readonly CycleState[]): Promise<void> {
  for (const s of others) await markInProgress(root, config, Object.keys(s.acStatusBefore ?? {}));
}

async function writePlanJson(file: string, plan: Plan): Promise<void> {
  await fs.promises.mkdir(path.dirname(file), { recursive: true });
  await atomicWrite(file, JSON.stringify(plan, null, 2) + '\n');
}
