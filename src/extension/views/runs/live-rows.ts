/**
 * The Runs view's rows for cycles in flight (issue 18): one row per cycle — ticket, phase (or the
 * merge queue's step) and spend so far — live from this window's run, or from the slot state files
 * when another Controller (the CLI, another window) runs them; then the tickets that wait behind
 * a cycle whose scope overlaps theirs. Above the finished runs. No `vscode` here: plain mocha tests it.
 */
import type { CycleState } from '../../../core/cycle/cycle-state';
import type { LiveCycle, WaitingTicket } from '../../panels/run/live-runs';
import type { IconSpec } from '../status-icon';
import { formatCost, formatDuration } from './runs-rows';

export interface LiveRow {
  kind: 'live';
  key: string;
  /** The cycle's run id; null for a waiting ticket (no run yet). */
  runId: string | null;
  ticketId: string | null;
  state: 'running' | 'waiting';
  label: string;
  description: string;
  tooltip: string;
  icon: IconSpec;
  /** `live;running` (this window's: Follow, Stop), `live;running;external` (another Controller's: Stop), `live;waiting`. */
  contextValue: string;
}

const cut = (s: string, n = 300): string => {
  // eslint-disable-next-line no-control-regex -- control characters are what is removed
  const one = s.replace(/[\u0000-\u001f\u007f]+/g, ' ');
  return one.length > n ? `${one.slice(0, n - 1)}…` : one;
};

function phaseText(c: Pick<LiveCycle, 'phase' | 'merge'>): string {
  if (c.merge && c.merge !== 'committed') return `merge: ${c.merge}`;
  return c.phase ?? 'starting';
}

function runningRow(c: LiveCycle, now: number): LiveRow {
  const elapsed = c.startedAt !== null ? formatDuration((now - c.startedAt) / 1000) : null;
  const spend = c.spentUsd !== null ? formatCost(c.spentUsd) : '$—';
  const description = [phaseText(c), spend, ...(elapsed ? [elapsed] : [])].join(' · ');
  const lines = [`${c.ticketId ?? '(planning)'} — in flight, ${phaseText(c)}`, `Run ${c.runId}`, `Spend so far: ${spend}`];
  if (elapsed) lines.push(`Running for ${elapsed}`);
  if (c.requeued) lines.push(`Requeued: ${cut(c.requeued)}`);
  lines.push('Click to follow it in the Run panel.');
  return {
    kind: 'live',
    key: `live:${c.runId}`,
    runId: c.runId,
    ticketId: c.ticketId,
    state: 'running',
    label: c.ticketId ?? c.runId,
    description,
    tooltip: lines.join('\n'),
    icon: { id: 'sync~spin', color: 'charts.blue' },
    contextValue: 'live;running',
  };
}

function externalRow(st: CycleState, now: number): LiveRow {
  const started = Date.parse(st.startedAt);
  const elapsed = Number.isFinite(started) ? formatDuration((now - started) / 1000) : null;
  const spent = (st.spend ?? []).reduce((a, s) => a + s.costUsd, 0);
  const spend = st.spend?.length ? formatCost(spent) : '$—';
  const ticket = cut(st.ticketId, 100);
  return {
    kind: 'live',
    key: `live:${st.runId}`,
    runId: cut(st.runId, 128),
    ticketId: ticket,
    state: 'running',
    label: ticket,
    description: [st.phase, spend, ...(elapsed ? [elapsed] : []), 'another process'].join(' · '),
    tooltip: [`${ticket} — in flight, ${st.phase}`, `Run ${cut(st.runId, 128)}`, `Controller: ${cut(st.owner, 200)} (not this window: its output is not shown here)`, `Spend recorded so far: ${spend}`, ...(elapsed ? [`Running for ${elapsed}`] : [])].join('\n'),
    icon: { id: 'sync~spin', color: 'descriptionForeground' },
    contextValue: 'live;running;external',
  };
}

function waitingRow(w: WaitingTicket, ticketOf: (runId: string) => string | undefined): LiveRow {
  const behind = w.behind.map((r) => ticketOf(r) ?? r);
  const ticket = cut(w.ticketId, 100);
  const reason = cut(w.reason);
  return {
    kind: 'live',
    key: `waiting:${ticket}`,
    runId: null,
    ticketId: ticket,
    state: 'waiting',
    label: ticket,
    description: `waiting behind ${behind.join(', ') || 'a cycle'}: ${reason}`,
    tooltip: [`${ticket} — waiting`, `Its scope overlaps ${behind.join(', ') || 'a cycle in flight'}: ${reason}`, 'It starts when a slot frees and no cycle in flight touches its scope.'].join('\n'),
    icon: { id: 'watch', color: 'descriptionForeground' },
    contextValue: 'live;waiting',
  };
}

/**
 * The live rows: this window's cycles in flight (start order), the state files' cycles this
 * window does not run (slot order), then the waiting tickets. A run id is listed once.
 */
export function buildLiveRows(inFlight: readonly LiveCycle[], waiting: readonly WaitingTicket[], states: readonly { state: CycleState }[], now: number): LiveRow[] {
  const rows = inFlight.map((c) => runningRow(c, now));
  const seen = new Set(inFlight.map((c) => c.runId));
  for (const { state } of states) {
    if (seen.has(state.runId)) continue;
    seen.add(state.runId);
    rows.push(externalRow(state, now));
  }
  const tickets = new Map(inFlight.map((c) => [c.runId, c.ticketId ?? undefined]));
  for (const { state } of states) if (!tickets.has(state.runId)) tickets.set(state.runId, state.ticketId);
  for (const w of waiting) rows.push(waitingRow(w, (r) => tickets.get(r)));
  return rows;
}
