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

/** The part of a cycle's cost its `spend` list does not break down (older lines: all of it). */
export const UNATTRIBUTED_ROLE = 'unattributed';

/** One cycle's cost by role: its `spend` entries summed per role, the rest of `cost` unattributed. */
function spendByRole(r: CycleRecord, cost: number): Map<string, number> {
  const roles = new Map<string, number>();
  for (const s of r.spend ?? []) {
    const c = Number.isFinite(s.costUsd) && s.costUsd > 0 ? s.costUsd : 0;
    roles.set(s.role, (roles.get(s.role) ?? 0) + c);
  }
  const rest = usd(cost - [...roles.values()].reduce((a, b) => a + b, 0));
  if (rest > 0) roles.set(UNATTRIBUTED_ROLE, rest);
  return roles;
}

/** Aggregate the history records of one month into logs/autopilot/cost_summary_YYYYMM.json (spec §7-3). */
export function summarizeMonth(history: readonly CycleRecord[], month: string): CostSummary {
  const byRole: Record<string, CostGroup> = {};
  const s: CostSummary = { month, totalUsd: 0, cycles: 0, byStatus: {}, byTicket: {}, byAgent: {}, byModel: {}, byRole };
  for (const r of history) {
    if (monthOf(r.endedAt) !== month) continue;
    const cost = Number.isFinite(r.costUsd) && r.costUsd > 0 ? r.costUsd : 0;
    s.cycles++;
    s.totalUsd = usd(s.totalUsd + cost);
    s.byStatus[r.status] = (s.byStatus[r.status] ?? 0) + 1;
    bump(s.byTicket, r.ticketId, cost);
    bump(s.byAgent, r.agent ?? 'unknown', cost);
    bump(s.byModel, r.model ?? 'unknown', cost);
    for (const [role, c] of spendByRole(r, cost)) bump(byRole, role, c);
  }
  return s;
}
