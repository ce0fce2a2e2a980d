/**
 * "Factory: Stop Worker" with several cycles in flight (issue 18): which ones there are — this
 * window's run (from its events) or another Controller's (from the slot state files) — and the
 * Quick Pick's entries: "All cycles" first, then each cycle. No `vscode` here: plain mocha tests it.
 */
import { listCycleStates, type CycleState } from '../../core/cycle/cycle-state';
import { stopRequested } from '../../core/cycle/stop-requests';
import type { LiveCycle } from '../panels/run/live-runs';

export interface StopTarget {
  runId: string;
  ticketId: string | null;
  phase: string | null;
  /** Run by this window (stopped through its run's per-cycle abort), else by another Controller. */
  inProcess: boolean;
}

/** The cycles a stop can name: this window's in flight, else those of the slot state files (another Controller's). */
export function stopTargets(inFlight: readonly LiveCycle[], states: readonly { state: CycleState }[]): StopTarget[] {
  if (inFlight.length) return inFlight.map((c) => ({ runId: c.runId, ticketId: c.ticketId, phase: c.phase, inProcess: true }));
  return states.map(({ state }) => ({ runId: state.runId, ticketId: state.ticketId, phase: state.phase, inProcess: false }));
}

export interface StopPickItem {
  label: string;
  description: string;
  /** `all`, or the run id to stop. */
  value: string;
}

/** "All N cycles" first, then one entry per cycle (ticket, phase, run id). */
export function stopPickItems(targets: readonly StopTarget[]): StopPickItem[] {
  return [
    { label: `$(debug-stop) All ${targets.length} cycles`, description: 'each records ABORTED; nothing of theirs is applied', value: 'all' },
    ...targets.map((t) => ({ label: `$(debug-stop) ${t.ticketId ?? '(planning)'}`, description: `${t.phase ?? 'starting'} · run ${t.runId}${t.inProcess ? '' : ' · another process'}`, value: t.runId })),
  ];
}

/** A run id from a command argument: a Runs view row (`{ runId }`) or the id itself. */
export function stopArgRunId(arg: unknown): string | undefined {
  const raw = arg && typeof arg === 'object' && 'runId' in arg ? (arg).runId : arg;
  return typeof raw === 'string' && /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/.test(raw) && !raw.includes('..') ? raw : undefined;
}

/** Resolves true once no slot state file names `runId` any more (the cycle ended), false after `timeoutMs`. */
export async function waitForCycleEnd(root: string, autopilotDir: string, runId: string, timeoutMs = 120_000, pollMs = 250): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!listCycleStates(root, autopilotDir).some((s) => s.state.runId === runId)) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/** Resolves once the run's watcher took the stop request for `runId` (it removes it), or after `timeoutMs`. */
export async function waitForRequestTaken(root: string, autopilotDir: string, runId: string, timeoutMs = 5_000, pollMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (stopRequested(root, autopilotDir, runId) && Date.now() < deadline) await new Promise((r) => setTimeout(r, pollMs));
}
