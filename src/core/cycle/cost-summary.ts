import type { CycleRecord } from '../contracts/history-entry';
import type { CostGroup, CostSummary } from '../contracts/records';

export type { CostSummary };

/** `YYYYMM` of an ISO timestamp (UTC). */
export function monthOf(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) throw new Error(`not a timestamp: ${iso}`);
  return `${d.getUTCFullYear()}${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
}

/** Round to micro-dollars so sums of many small costs do not drift in the JSON. */
function usd(n: number): number {
  return Math.round(n * 1e6) / 1e6;
}

function bump(map: Record<string, CostGroup>, key: string, cost: number): void {
  const e = (map[key] ??= { cycles: 0, costUsd: 0 });
  e.cycles++;
  e.costUsd = usd(e.costUsd + cost);
}

/** Aggregate the history records of one month into logs/autopilot/cost_summary_YYYYMM.json (spec §7-3). */
export function summarizeMonth(history: readonly CycleRecord[], month: string): CostSummary {
  const s: CostSummary = { month, totalUsd: 0, cycles: 0, byStatus: {}, byTicket: {}, byAgent: {}, byModel: {} };
  for (const r of history) {
    if (monthOf(r.endedAt) !== month) continue;
    const cost = Number.isFinite(r.costUsd) && r.costUsd > 0 ? r.costUsd : 0;
    s.cycles++;
    s.totalUsd = usd(s.totalUsd + cost);
    s.byStatus[r.status] = (s.byStatus[r.status] ?? 0) + 1;
    bump(s.byTicket, r.ticketId, cost);
    bump(s.byAgent, r.agent ?? 'unknown', cost);
    bump(s.byModel, r.model ?? 'unknown', cost);
  }
  return s;
}
