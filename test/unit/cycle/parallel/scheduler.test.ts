import { strict as assert } from 'node:assert';
import type { CycleEvent, CycleOutcome } from '../../../../src/core/cycle/cycle-types';
import { MergeQueue } from '../../../../src/core/cycle/parallel/merge-queue';
import { schedule, type Candidate, type SchedulerSeam } from '../../../../src/core/cycle/parallel/scheduler';
import { FactoryError } from '../../../../src/core/util/errors';

interface Ticket {
  id: string;
  modify: string[];
  readonly?: string[];
  /** How long its cycle runs (ms), and its status. */
  ms: number;
  status?: CycleOutcome['status'];
  cost?: number;
}

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

function outcome(c: Candidate, status: CycleOutcome['status'], costUsd: number): CycleOutcome {
  return { runId: c.runId, ticketId: c.ticketId, acIds: [], status, reasons: [], costUsd, evidencePath: null, commit: null, blocked: false, escalated: false, audit: null, changes: [], violations: [], stagingKept: null, timings: { totalMs: 0, agentMs: 0, agentOwnMs: 0, gateMs: 0, gateCommandMs: 0, auditMs: 0, phases: {} } };
}

/**
 * A fake factory: the queue is `tickets` in order (a ticket leaves it when its cycle PASSes),
 * each cycle sleeps its `ms`. Records which cycles ran at the same time.
 */
function fakeFactory(tickets: Ticket[]) {
  const passed = new Set<string>();
  const running = new Set<string>();
  const together: [string, string][] = [];
  const starts: string[] = [];
  /** At each start: what finished cycles cost + how many were in flight (each holding $1). */
  const held: number[] = [];
  let finishedUsd = 0;
  let n = 0;
  const seam: SchedulerSeam<Candidate & { t: Ticket }> = {
    plan: async ({ exclude }) => {
      await tick(1);
      const t = tickets.find((x) => !passed.has(x.id) && !exclude.has(x.id));
      if (!t) throw new FactoryError('the queue is empty', 'plan.queue-empty');
      return { runId: `run${++n}_${t.id}`, ticketId: t.id, scope: { modify: t.modify, readonly: t.readonly ?? [] }, t };
    },
    run: async (c, _slot, signal, tap) => {
      for (const r of running) together.push([r, c.ticketId]);
      held.push(finishedUsd + running.size);
      running.add(c.ticketId);
      starts.push(c.ticketId);
      tap({ type: 'spend', runId: c.runId, role: 'worker', spend: [{ role: 'worker', costUsd: c.t.cost ?? 0 }] });
      try {
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(resolve, c.t.ms);
          signal.addEventListener('abort', () => {
            clearTimeout(timer);
            reject(new FactoryError(`interrupted: ${c.runId}`, 'interrupted'));
          });
        });
      } finally {
        running.delete(c.ticketId);
      }
      finishedUsd += c.t.cost ?? 0;
      const status = c.t.status ?? 'PASS';
      if (status === 'PASS') passed.add(c.ticketId);
      return outcome(c, status, c.t.cost ?? 0);
    },
  };
  return { seam, together, starts, passed, held };
}

function opts(extra: Partial<Parameters<typeof schedule>[0]> = {}) {
  const events: CycleEvent[] = [];
  return { events, o: { parallel: 4, maxCycles: 100, cycleBudgetUsd: 1, queue: new MergeQueue(), emit: (e: CycleEvent) => void events.push(e), ...extra } };
}

describe('parallel scheduler (issue 18: N cycles in flight on disjoint scopes)', () => {
  it('runs disjoint tickets together and never two whose scopes overlap; the overlapping one waits and runs after', async () => {
    const f = fakeFactory([
      { id: 'A', modify: ['engine/pricing.py'], readonly: ['engine/fees.py'], ms: 40 },
      { id: 'B', modify: ['engine/fees.py'], ms: 10 }, // writes what A reads
      { id: 'C', modify: ['engine/**'], ms: 10 }, // meets A's modify
      { id: 'D', modify: ['docs/**'], ms: 10 },
    ]);
    const { o, events } = opts();
    const r = await schedule(o, f.seam);
    assert.equal(r.stoppedBy, 'queue-empty');
    assert.deepEqual(new Set(r.outcomes.map((x) => x.ticketId)), new Set(['A', 'B', 'C', 'D']));
    const overlapping = new Set(['A+B', 'B+A', 'A+C', 'C+A', 'B+C', 'C+B']);
    for (const [x, y] of f.together) assert.ok(!overlapping.has(`${x}+${y}`), `${x} and ${y} ran together`);
    assert.ok(f.together.some(([x, y]) => `${x}${y}` === 'AD' || `${x}${y}` === 'DA'), 'disjoint A and D ran together');
    const waits = events.filter((e): e is Extract<CycleEvent, { type: 'waiting' }> => e.type === 'waiting');
    const b = waits.find((e) => e.ticketId === 'B');
    assert.ok(b, 'B waited');
    assert.match(b.behind[0] ?? '', /_A$/);
    assert.match(b.reason, /its modify scope "engine\/fees.py" meets the readonly scope "engine\/fees.py"/);
    assert.ok(f.starts.indexOf('B') > f.starts.indexOf('D'), 'the next ticket in queue order (D) was tried while B waited');
  });

  it('a waiting ticket is tried first when a slot frees, before tickets behind it in the queue', async () => {
    const f = fakeFactory([
      { id: 'A', modify: ['x/**'], ms: 30 },
      { id: 'W', modify: ['x/y.py'], ms: 5 },
      { id: 'E', modify: ['e/**'], ms: 60 },
      { id: 'F', modify: ['f/**'], ms: 5 },
    ]);
    const { o } = opts({ parallel: 2 });
    await schedule(o, f.seam);
    // A and E fill both slots; A ends first and its slot goes to W (waiting), not to F.
    assert.deepEqual(f.starts, ['A', 'E', 'W', 'F']);
  });

  it('parallel 1 is the serial loop: one cycle at a time in queue order, a FAILed ticket tried again, maxCycles stops it', async () => {
    const f = fakeFactory([
      { id: 'A', modify: ['a'], ms: 2, status: 'FAIL' },
      { id: 'B', modify: ['b'], ms: 2 },
    ]);
    const { o } = opts({ parallel: 1, maxCycles: 3 });
    const r = await schedule(o, f.seam);
    assert.equal(f.together.length, 0);
    assert.deepEqual(f.starts, ['A', 'A', 'A']);
    assert.equal(r.stoppedBy, 'max-cycles');
    assert.equal(r.outcomes.length, 3);
  });

  it('--ticket: one ticket, serially, until it PASSes (parallel does not apply)', async () => {
    const f = fakeFactory([{ id: 'A', modify: ['a'], ms: 2 }]);
    const { o } = opts({ parallel: 4, ticket: 'A' });
    const r = await schedule(o, f.seam);
    assert.equal(r.stoppedBy, 'ticket-done');
    assert.deepEqual(f.starts, ['A']);
  });

  it('the batch budget: no cycle starts when finished spend + the budgets held by cycles in flight + one more would exceed it', async () => {
    const f = fakeFactory(['A', 'B', 'C', 'D', 'E'].map((id) => ({ id, modify: [id], ms: 10, cost: 0.25 })));
    const { o } = opts({ parallel: 4, cycleBudgetUsd: 1, batchBudgetUsd: 2.6 });
    const r = await schedule(o, f.seam);
    // A and B hold $1 each: C ($3 > $2.60) waits although a slot is free; when one ends, what it did not spend is free again.
    assert.equal(r.stoppedBy, 'queue-empty');
    assert.equal(r.outcomes.length, 5);
    assert.ok(f.held[2] === 1.25 || f.held[2] === 0.5, `C started only after A or B ended (held ${f.held[2]})`);
    for (const h of f.held) assert.ok(h + 1 <= 2.6 + 1e-9, `a cycle started with $${h} held or spent`);
    const tight = fakeFactory(['A', 'B', 'C'].map((id) => ({ id, modify: [id], ms: 5, cost: 0.9 })));
    const t = opts({ parallel: 4, cycleBudgetUsd: 1, batchBudgetUsd: 2.5 });
    const r2 = await schedule(t.o, tight.seam);
    assert.equal(r2.stoppedBy, 'batch-budget');
    assert.deepEqual(tight.starts, ['A', 'B'], 'a third $1 cycle would take $2 held + $1 past $2.50');
    assert.match(r2.message, /would exceed --batch-budget \$2\.5000/);
    assert.ok(Math.abs(r2.spentUsd - 1.8) < 1e-9);
  });

  it('the run stopped: every cycle in flight is stopped, none starts, the interruption is thrown after they ended', async () => {
    const f = fakeFactory(['A', 'B', 'C'].map((id) => ({ id, modify: [id], ms: 5_000 })));
    const ctrl = new AbortController();
    const { o } = opts({ parallel: 2, signal: ctrl.signal });
    setTimeout(() => ctrl.abort(), 30);
    const t0 = Date.now();
    await assert.rejects(schedule(o, f.seam), (e: unknown) => e instanceof FactoryError && e.code === 'interrupted');
    assert.ok(Date.now() - t0 < 2_000);
    assert.deepEqual(f.starts, ['A', 'B']);
  });

  it('a cycle that throws ends the run once the others in flight have ended; nothing new starts', async () => {
    const f = fakeFactory([
      { id: 'A', modify: ['a'], ms: 50 },
      { id: 'B', modify: ['b'], ms: 1 },
      { id: 'C', modify: ['c'], ms: 1 },
    ]);
    const seam = { ...f.seam, run: async (c: Candidate & { t: Ticket }, slot: number, s: AbortSignal, tap: (e: CycleEvent) => void) => (c.ticketId === 'B' ? Promise.reject(new FactoryError('worker failed', 'worker-error')) : f.seam.run(c, slot, s, tap)) };
    const { o } = opts({ parallel: 2 });
    await assert.rejects(schedule(o, seam), /worker failed/);
    assert.ok(f.passed.has('A'), 'A in flight finished');
    assert.ok(!f.starts.includes('C'));
  });

  it('factory stop --run: one cycle stopped alone, the others go on, its ticket is not started again in this run', async () => {
    const f = fakeFactory(['A', 'B', 'C'].map((id) => ({ id, modify: [id], ms: id === 'A' ? 5_000 : 20 })));
    let stop: ((runId: string) => boolean) | undefined;
    let until: AbortSignal | undefined;
    const { o } = opts({ parallel: 2, watchStops: (s, u) => ((stop = s), (until = u)) });
    const running = schedule(o, f.seam);
    await tick(10);
    assert.equal(stop?.('no-such-run'), false);
    assert.equal(stop?.('run1_A'), true);
    const r = await running;
    assert.deepEqual(r.outcomes.map((x) => x.ticketId).sort(), ['B', 'C']);
    assert.equal(f.starts.filter((t) => t === 'A').length, 1);
    assert.equal(until?.aborted, true, 'the watch ends with the run');
  });
});
