/**
 * The parallel run's scheduler (issue 18, items 1–2), on a seam so it can be tested without a
 * cycle: up to N cycles in flight, a new one started only when its plan's scope is disjoint from
 * every cycle in flight (plan/scope-overlap.ts); an overlapping ticket waits and the next ticket
 * in queue order is tried; the batch budget, `maxCycles`, the run's signal and one-cycle stops.
 */
import { setMaxListeners } from 'node:events';
import type { SpendEntry } from '../../contracts/history-entry';
import { overlapReason, scopeOverlap, type ScopeSides } from '../../plan/scope-overlap';
import { FactoryError } from '../../util/errors';
import type { CycleEvent, CycleOutcome } from '../cycle-types';
import type { FactoryRunResult, FactoryStopReason } from './factory-types';
import type { MergeQueue } from './merge-queue';

/** A planned cycle the scheduler may start. */
export interface Candidate {
  runId: string;
  ticketId: string;
  scope: ScopeSides;
  /** Tracked files, only to name a concrete file in a `waiting` reason. */
  files?: readonly string[];
}

/** What the scheduler asks of the cycles (the real one: run-factory.ts; tests: a fake). */
export interface SchedulerSeam<C extends Candidate> {
  /**
   * Plan the next ticket in queue order, passing over `exclude` (runs inside the merge queue).
   * @throws FactoryError `plan.queue-empty` when nothing is left outside `exclude`.
   */
  plan(req: { slot: number; exclude: ReadonlySet<string>; first: boolean; signal: AbortSignal }): Promise<C>;
  /**
   * Run the planned cycle to its end (its own signal: the run's, or a stop of this cycle alone);
   * every event of the cycle also goes to `tap` (the batch budget follows its `spend` events).
   */
  run(c: C, slot: number, signal: AbortSignal, tap: (e: CycleEvent) => void): Promise<CycleOutcome>;
}

export interface SchedulerOptions {
  parallel: number;
  maxCycles: number;
  /** `--batch-budget`: the run's spend cap (USD). */
  batchBudgetUsd?: number;
  /** One cycle's budget (`killSwitch.budgetUsd`): what a cycle in flight may spend. */
  cycleBudgetUsd: number;
  /** `--ticket`: one ticket, retried until it PASSes or is BLOCKED. */
  ticket?: string;
  queue: MergeQueue;
  signal?: AbortSignal;
  emit: (e: CycleEvent) => void;
  /**
   * Called once: `stop(runId)` stops that cycle alone (true when it is in flight here) — the run
   * goes on without its ticket (`factory stop --run`); `until` aborts when the run ends.
   */
  watchStops?: (stop: (runId: string) => boolean, until: AbortSignal) => void;
}

interface InFlight {
  c: Candidate;
  slot: number;
  ctrl: AbortController;
  done: Promise<void>;
  spent: Map<SpendEntry['role'], number>;
}

/** The cycles one run has in flight, and what it decided so far. */
class RunState {
  readonly inFlight = new Map<string, InFlight>();
  /** ticket → run ids it waits behind. */
  readonly waiting = new Map<string, string[]>();
  /** Tickets stopped alone (`factory stop --run`): not started again in this run. */
  readonly stopped = new Set<string>();
  readonly outcomes: CycleOutcome[] = [];
  started = 0;
  finishedUsd = 0;
  stop: FactoryStopReason | null = null;
  message = '';
  error: unknown = undefined;

  freeSlot(): number {
    const used = new Set([...this.inFlight.values()].map((f) => f.slot));
    let s = 0;
    while (used.has(s)) s++;
    return s;
  }

  /** Tickets the queue passes over now: in flight, stopped, or waiting behind a cycle still in flight. */
  exclude(): Set<string> {
    const out = new Set([...this.inFlight.values()].map((f) => f.c.ticketId));
    for (const t of this.stopped) out.add(t);
    for (const [t, behind] of this.waiting) if (behind.some((r) => this.inFlight.has(r))) out.add(t);
    return out;
  }

  /** What the cycles in flight may still cost: each its whole budget, or what it spent when that is more. */
  inFlightUsd(budget: number): number {
    let sum = 0;
    for (const f of this.inFlight.values()) sum += Math.max(budget, [...f.spent.values()].reduce((a, b) => a + b, 0));
    return sum;
  }
}

const isCode = (err: unknown, ...codes: string[]): boolean => err instanceof FactoryError && codes.includes(err.code);

/**
 * Run cycles until the queue is empty, `maxCycles` started, the batch budget would be exceeded,
 * the ticket is done (`ticket`), or the run is stopped; the cycles in flight always finish.
 * @throws the first cycle error that was not a one-cycle stop (after every cycle in flight ended).
 */
export async function schedule<C extends Candidate>(o: SchedulerOptions, seam: SchedulerSeam<C>): Promise<FactoryRunResult> {
  const st = new RunState();
  const parallel = o.ticket ? 1 : o.parallel;
  const watching = new AbortController();
  o.watchStops?.((runId) => {
    const f = st.inFlight.get(runId);
    f?.ctrl.abort(new FactoryError(`interrupted: run ${runId} was stopped (factory stop --run)`, 'interrupted'));
    return f !== undefined;
  }, watching.signal);
  try {
    return await scheduleLoop(o, st, seam, parallel);
  } finally {
    watching.abort();
  }
}

async function scheduleLoop<C extends Candidate>(o: SchedulerOptions, st: RunState, seam: SchedulerSeam<C>, parallel: number): Promise<FactoryRunResult> {
  while (!st.stop && st.error === undefined) {
    while (st.inFlight.size < parallel && !st.stop && st.error === undefined) {
      if (!mayStart(o, st)) break;
      const started = await o.queue.run(() => tryStart(o, st, seam)).catch((err: unknown) => {
        st.error = err;
        return false;
      });
      if (!started) break;
    }
    // Nothing in flight: either stopped, or the last attempt passed over tickets whose cycles have ended since — try again.
    if (st.inFlight.size === 0) continue;
    await Promise.race([...st.inFlight.values()].map((f) => f.done));
  }
  await Promise.all([...st.inFlight.values()].map((f) => f.done));
  // eslint-disable-next-line @typescript-eslint/only-throw-error -- whatever a cycle threw, as runCycle would have
  if (st.error !== undefined) throw st.error;
  const spentUsd = st.outcomes.reduce((a, x) => a + x.costUsd, 0);
  return { outcomes: st.outcomes, stoppedBy: st.stop ?? 'queue-empty', message: st.message, spentUsd };
}

/**
 * The stop conditions checked before each start: the run's signal, `maxCycles`, the batch budget
 * (while cycles are in flight a start that does not fit waits for one to end; with none in flight
 * the run stops).
 */
function mayStart(o: SchedulerOptions, st: RunState): boolean {
  if (o.signal?.aborted) {
    st.stop = 'aborted';
    st.error ??= new FactoryError('interrupted: the run was stopped; the cycles in flight were stopped and recorded ABORTED', 'interrupted');
    return false;
  }
  if (st.started >= o.maxCycles) {
    st.stop = 'max-cycles';
    return false;
  }
  if (o.batchBudgetUsd !== undefined) {
    const committed = st.finishedUsd + st.inFlightUsd(o.cycleBudgetUsd);
    if (committed + o.cycleBudgetUsd > o.batchBudgetUsd + 1e-9) {
      // The cycles in flight hold their whole budgets; when one ends, what it did not spend is free again.
      if (st.inFlight.size > 0) return false;
      st.stop = 'batch-budget';
      st.message = `batch budget: $${committed.toFixed(4)} spent or held by the cycles in flight + one more cycle's $${o.cycleBudgetUsd.toFixed(4)} (killSwitch.budgetUsd) would exceed --batch-budget $${o.batchBudgetUsd.toFixed(4)}; no further cycle started`;
      return false;
    }
  }
  return true;
}

/**
 * Inside the merge queue: plan tickets in queue order until one's scope is disjoint from every
 * cycle in flight (started: true), or nothing is left to try now (false).
 */
async function tryStart<C extends Candidate>(o: SchedulerOptions, st: RunState, seam: SchedulerSeam<C>): Promise<boolean> {
  const exclude = st.exclude();
  const slot = st.freeSlot();
  const ctrl = new AbortController();
  for (;;) {
    let c: C;
    try {
      c = await seam.plan({ slot, exclude, first: st.started === 0, signal: ctrl.signal });
    } catch (err) {
      if (isCode(err, 'plan.queue-empty')) {
        // Empty only when nothing was passed over but stopped tickets; else a cycle in flight may
        // end (or just ended) and free a waiting ticket: the loop tries again.
        if ([...exclude].every((t) => st.stopped.has(t))) [st.stop, st.message] = ['queue-empty', (err as Error).message];
        return false;
      }
      if (o.ticket && st.started > 0 && isCode(err, 'plan.nothing-open', 'plan.blocked')) {
        [st.stop, st.message] = ['ticket-done', (err as Error).message];
        return false;
      }
      throw err;
    }
    const behind = [...st.inFlight.values()].flatMap((f) => {
      const ov = scopeOverlap(c.scope, f.c.scope, c.files ?? []);
      return ov ? [{ runId: f.c.runId, reason: `${f.c.ticketId} (${f.c.runId}): ${overlapReason(ov)}` }] : [];
    });
    if (behind.length === 0) {
      launch(o, st, seam, c, slot, ctrl);
      return true;
    }
    const runIds = behind.map((b) => b.runId);
    st.waiting.set(c.ticketId, runIds);
    o.emit({ type: 'waiting', ticketId: c.ticketId, behind: runIds, reason: `waits for ${behind.map((b) => b.reason).join('; ')}` });
    exclude.add(c.ticketId);
  }
}

/** Start the admitted cycle; when it ends its outcome is kept and its slot freed. */
function launch<C extends Candidate>(o: SchedulerOptions, st: RunState, seam: SchedulerSeam<C>, c: C, slot: number, ctrl: AbortController): void {
  st.started++;
  st.waiting.delete(c.ticketId);
  // One cycle's signal reaches many concurrent steps (git, containers, gateway): not a leak.
  setMaxListeners(100, ctrl.signal);
  const onRunAbort = () => ctrl.abort(o.signal?.reason);
  o.signal?.addEventListener('abort', onRunAbort, { once: true });
  const f: InFlight = { c, slot, ctrl, spent: new Map(), done: Promise.resolve() };
  st.inFlight.set(c.runId, f);
  const tap = (e: CycleEvent) => {
    if (e.type === 'spend') f.spent.set(e.role, e.spend.reduce((a, x) => a + x.costUsd, 0));
  };
  f.done = seam
    .run(c, slot, ctrl.signal, tap)
    .then(
      (outcome) => {
        st.outcomes.push(outcome);
        st.finishedUsd += outcome.costUsd;
        if (o.ticket && (outcome.status === 'PASS' || outcome.blocked)) st.stop ??= 'ticket-done';
      },
      (err: unknown) => {
        // One cycle stopped alone (`factory stop --run`): recorded ABORTED by its cycle; the run goes on without its ticket.
        if (ctrl.signal.aborted && !o.signal?.aborted) st.stopped.add(c.ticketId);
        else st.error ??= err;
      },
    )
    .finally(() => {
      o.signal?.removeEventListener('abort', onRunAbort);
      st.inFlight.delete(c.runId);
    });
}
