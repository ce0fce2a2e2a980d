/** Text of the Factory status bar item. Pure (no `vscode`), so plain mocha tests it. */
import type { CyclePhase } from '../../core/contracts/status';

/** What the status bar shows: a running cycle, or the last run when idle. */
export interface CycleStatusView {
  /** `PLAN` … `ADJUST` while a cycle runs; `IDLE` otherwise. */
  phase: CyclePhase | 'IDLE';
  ticketId?: string | null;
  /** Epoch ms the cycle started (for the elapsed time). */
  startedAt?: number;
  costUsd?: number | null;
  budgetUsd: number;
  /** The last run's status when idle (PASS, FAIL, …). */
  lastStatus?: string | null;
}

/** A cycle phase (not IDLE). */
export function isPhase(p: string): p is CyclePhase {
  return p === 'PLAN' || p === 'DO' || p === 'CHECK' || p === 'ADJUST';
}

/** `m:ss` (or `h:mm:ss`) for an elapsed time. */
export function elapsed(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

function money(n: number): string {
  return `$${n.toFixed(2)}`;
}

/** The item's text (with codicons), tooltip and whether it should warn (budget spent). */
export function statusBarText(v: CycleStatusView, now: number): { text: string; tooltip: string; warning: boolean } {
  const cost = v.costUsd ?? null;
  const budget = `${cost === null ? '$—' : money(cost)}/${money(v.budgetUsd)}`;
  const warning = cost !== null && cost >= v.budgetUsd;
  if (v.phase === 'IDLE') {
    const last = v.ticketId ? ` · last ${v.ticketId} ${v.lastStatus ?? ''}`.trimEnd() : '';
    return {
      text: `$(pulse) Factory${last}`,
      tooltip: `Agentic Factory: no cycle running${v.ticketId ? `; last run ${v.ticketId} ${v.lastStatus ?? ''} (${budget})` : ''}. Click to open the Run panel.`,
      warning: false,
    };
  }
  const time = v.startedAt !== undefined ? elapsed(now - v.startedAt) : '';
  return {
    text: `$(sync~spin) ${v.ticketId ? `${v.ticketId} ` : ''}${v.phase} ${time} · ${budget}`.replace(/\s+/g, ' ').trim(),
    tooltip: `Agentic Factory: ${v.ticketId ?? 'cycle'} in ${v.phase}${time ? `, ${time} elapsed` : ''}; model spend ${budget} of the cycle budget. Click to open the Run panel.`,
    warning,
  };
}

/** One cycle of a parallel run, as the status bar's tooltip lists it. */
export interface RunningCycleView {
  ticketId: string | null;
  phase: string | null;
  spentUsd: number | null;
}

/**
 * A parallel run (issue 18): `$(sync~spin) 3 running · $0.42` — the cycles in flight and the
 * whole run's spend so far; the tooltip lists each cycle (ticket, phase, spend) and the waiting ones.
 */
export function factoryRunStatusText(running: readonly RunningCycleView[], spentUsd: number, waiting = 0): { text: string; tooltip: string; warning: boolean } {
  const lines = running.map((c) => `• ${c.ticketId ?? '(planning)'} — ${c.phase ?? 'starting'} · ${c.spentUsd === null ? '$—' : money(c.spentUsd)}`);
  if (waiting) lines.push(`${waiting} ticket${waiting === 1 ? '' : 's'} waiting for a disjoint scope`);
  return {
    text: `$(sync~spin) ${running.length} running · ${money(spentUsd)}`,
    tooltip: [`Agentic Factory: ${running.length} cycle${running.length === 1 ? '' : 's'} in flight; the run spent ${money(spentUsd)} so far.`, ...lines, 'Click to open the Run panel.'].join('\n'),
    warning: false,
  };
}
