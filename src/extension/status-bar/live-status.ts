/**
 * What the status bar shows for a factory run's cycles (issue 18). Pure (no `vscode`).
 * Two or more in flight: `3 running · $0.42` (the run's spend so far) with every cycle in the
 * tooltip; one: today's text for that cycle (phase, elapsed, spend/budget); none: the last ended
 * cycle as the idle text.
 */
import type { LiveCycle } from '../panels/run/live-runs';
import { isPhase, type CycleStatusView, type RunningCycleView } from './status-text';

export type LiveStatus = { kind: 'run'; running: RunningCycleView[]; spentUsd: number; waiting: number } | { kind: 'cycle'; view: CycleStatusView } | { kind: 'none' };

export function liveStatus(cycles: readonly LiveCycle[], spentUsd: number, waiting: number, budgetUsd: number): LiveStatus {
  const running = cycles.filter((c) => c.status === 'RUNNING');
  if (running.length >= 2) {
    return { kind: 'run', running: running.map((c) => ({ ticketId: c.ticketId, phase: c.merge && c.merge !== 'committed' ? `merge ${c.merge}` : c.phase, spentUsd: c.spentUsd })), spentUsd, waiting };
  }
  const one = running[0];
  if (one) {
    if (!one.phase || !isPhase(one.phase)) return { kind: 'none' };
    return { kind: 'cycle', view: { phase: one.phase, ticketId: one.ticketId, ...(one.startedAt !== null ? { startedAt: one.startedAt } : {}), costUsd: one.spentUsd, budgetUsd } };
  }
  const last = cycles.at(-1);
  if (!last) return { kind: 'none' };
  return { kind: 'cycle', view: { phase: 'IDLE', ticketId: last.ticketId, lastStatus: last.status, costUsd: last.spentUsd, budgetUsd } };
}
