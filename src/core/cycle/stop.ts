import type Docker from 'dockerode';
import type { FactoryConfig } from '../config/schema';
import { connectDocker } from '../docker/connect';
import { LABELS, localOwnerPid, pidAlive } from '../sandbox/container-spec';
import { listCycleStates } from './cycle-state';
import { requestStop, stopRequested, withdrawStop } from './stop-requests';

/** One cycle `stopCycle` stopped. */
export interface StoppedCycle {
  runId: string;
  ticketId: string;
  phase: string;
  slot: number;
  /** A stop request was written for it (one cycle of several, or of this very process). */
  requested: boolean;
  /** Its Controller finished it (recorded ABORTED) within the wait. */
  finished: boolean;
  /** Containers of the run removed because its Controller is gone or did not finish in time. */
  containersRemoved: number;
}

/** What `stopCycle` found and did (`factory stop --json`, "Factory: Stop Worker"). */
export interface StopResult {
  /** The first stopped cycle (lowest slot), or null when none matched. */
  runId: string | null;
  ticketId: string | null;
  phase: string | null;
  /** A Controller process was sent SIGTERM (stop all of its cycles). */
  signalled: boolean;
  /** Every stopped cycle was finished by its Controller within the wait. */
  finished: boolean;
  /** Containers removed, over all stopped cycles. */
  containersRemoved: number;
  /** Every cycle stopped, in slot order. */
  cycles: StoppedCycle[];
}

export interface StopOptions {
  waitMs?: number;
  docker?: Docker;
  signal?: AbortSignal;
  /** Stop only this run (a stop request; the Controller's other cycles go on). */
  runId?: string;
  /** Stop only the cycle(s) working on this ticket. */
  ticketId?: string;
  /** How long a Controller has to take a stop request before one that runs nothing else is signalled instead (default 3 s). */
  pickupMs?: number;
}

function terminate(pid: number): boolean {
  try {
    process.kill(pid, 'SIGTERM');
    return true;
  } catch {
    return false; // it is already gone
  }
}


/**
 * Stop the cycles in flight on `root`, whoever runs them: all (the default) or the ones
 * `opts.runId` / `opts.ticketId` select. Stopping all sends their Controller SIGTERM, so it stops
 * its Workers, records the cycles ABORTED and releases the lock. Stopping selected ones (the run
 * goes on with the others, and with its next cycles) writes a stop request per cycle
 * (stop-requests.ts), which the Controller turns into that cycle's abort; one that does not take
 * it within `pickupMs` and runs nothing else is sent SIGTERM instead. A Controller inside
 * this very process is never signalled: a selected cycle of it gets a request, and without a
 * selector its owner aborts it directly. A cycle not finished within `waitMs` (or whose Controller
 * is gone) has its labelled containers removed, and the next start records it ABORTED.
 */
export async function stopCycle(root: string, config: FactoryConfig, opts: StopOptions = {}): Promise<StopResult> {
  const ap = config.paths.autopilot;
  const all = listCycleStates(root, ap);
  const selected = all.filter((s) => (opts.runId === undefined || s.state.runId === opts.runId) && (opts.ticketId === undefined || s.state.ticketId === opts.ticketId));
  const first = selected[0]?.state;
  const out: StopResult = { runId: first?.runId ?? null, ticketId: first?.ticketId ?? null, phase: first?.phase ?? null, signalled: false, finished: false, containersRemoved: 0, cycles: [] };
  const one = opts.runId !== undefined || opts.ticketId !== undefined;
  for (const s of selected) out.cycles.push({ runId: s.state.runId, ticketId: s.state.ticketId, phase: s.state.phase, slot: s.slot, requested: false, finished: false, containersRemoved: 0 });
  const ownerOf = new Map(selected.map((s) => [s.state.runId, s.state.owner] as const));
  // The cycles whose Controller was asked (a signal or a request) and may still finish them.
  const asked = new Set<string>();
  for (const owner of new Set(ownerOf.values())) {
    const pid = localOwnerPid(owner);
    const mine = out.cycles.filter((c) => ownerOf.get(c.runId) === owner);
    const live = pid !== null && pidAlive(pid);
    if (one && (live || pid === null)) {
      for (const c of mine) {
        await requestStop(root, ap, c.runId);
        c.requested = true;
        asked.add(c.runId);
      }
      // A Controller that does not watch stop requests (a lone cycle, an older version): when
      // every cycle it runs is selected, stopping them is stopping it.
      const everyOne = all.filter((s) => s.state.owner === owner).length === mine.length;
      if (live && pid !== process.pid && everyOne && !(await requestsTaken(root, ap, mine, opts))) {
        for (const c of mine) {
          withdrawStop(root, ap, c.runId);
          c.requested = false;
        }
        out.signalled = terminate(pid) || out.signalled;
      }
    } else if (!one && live && pid !== process.pid) {
      out.signalled = terminate(pid) || out.signalled;
      for (const c of mine) asked.add(c.runId);
    }
  }
  await waitForEnd(root, ap, out.cycles.filter((c) => asked.has(c.runId)), opts);
  const still = new Set(listCycleStates(root, ap).map((s) => s.state.runId));
  for (const c of out.cycles) {
    c.finished = !still.has(c.runId);
    const pid = localOwnerPid(ownerOf.get(c.runId) ?? '');
    // This very process handles its own requests; removing its containers would pre-empt that.
    if (c.finished || (c.requested && pid === process.pid)) continue;
    if (c.requested && pid !== null && !pidAlive(pid)) withdrawStop(root, ap, c.runId);
    c.containersRemoved = await removeContainers(c.runId, opts);
    out.containersRemoved += c.containersRemoved;
  }
  out.finished = out.cycles.length > 0 && out.cycles.every((c) => c.finished);
  return out;
}

/** Whether the Controller took the requests of `cycles` (removed them) within `pickupMs` (default 3 s, at most `waitMs`). */
async function requestsTaken(root: string, ap: string, cycles: StoppedCycle[], opts: StopOptions): Promise<boolean> {
  const deadline = Date.now() + Math.min(Math.max(0, opts.waitMs ?? 30_000), opts.pickupMs ?? 3_000);
  for (;;) {
    if (cycles.every((c) => !stopRequested(root, ap, c.runId))) return true;
    if (Date.now() >= deadline || opts.signal?.aborted) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Wait (up to `waitMs`) until each of `cycles` has no state file any more: its Controller finished it. */
async function waitForEnd(root: string, ap: string, cycles: StoppedCycle[], opts: StopOptions): Promise<void> {
  const deadline = Date.now() + Math.max(0, opts.waitMs ?? 30_000);
  const inFlight = () => new Set(listCycleStates(root, ap).map((s) => s.state.runId));
  while (cycles.length) {
    const now = inFlight();
    if (cycles.every((c) => !now.has(c.runId)) || Date.now() >= deadline || opts.signal?.aborted) return;
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function removeContainers(runId: string, opts: StopOptions): Promise<number> {
  const docker = opts.docker ?? (await connectDocker()).docker;
  const list = await docker.listContainers({ all: true, filters: { label: [`${LABELS.runId}=${runId}`] } });
  let n = 0;
  for (const c of list) {
    await docker.getContainer(c.Id).remove({ force: true, v: true }).catch(() => undefined);
    n++;
  }
  return n;
}
