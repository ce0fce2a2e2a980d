/**
 * The month's cost summary (spec §7-3, issue 16): logs/autopilot/cost_summary_YYYYMM.json,
 * recomputed from history.jsonl after every cycle and read by `factory status` and the Cost
 * dashboard. Spend is broken down by the history lines' `spend` entries (role × model, each with
 * its agent and tier); what a line's `spend` does not cover is `unattributed`.
 */
import * as fs from 'node:fs';
import { toCycleRecord, type CycleRecord, type HistoryEntry, type SpendEntry } from '../contracts/history-entry';
import { costSummarySchema, type CostGroup, type CostSummary } from '../contracts/records';
import { readHistory } from '../history/history';

export type { CostSummary };

/** `YYYYMM` of an ISO timestamp (UTC). */
export function monthOf(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) throw new Error(`not a timestamp: ${iso}`);
  return `${d.getUTCFullYear()}${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
}

/** `YYYY-MM-DD` (UTC) of an ISO timestamp. */
export function dayOf(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) throw new Error(`not a timestamp: ${iso}`);
  return d.toISOString().slice(0, 10);
}

/** Round to micro-dollars so sums of many small costs do not drift in the JSON. */
export function roundUsd(n: number): number {
  return Math.round(n * 1e6) / 1e6;
}

/** The part of a cycle's cost its `spend` list does not break down (older lines: all of it). */
export const UNATTRIBUTED_ROLE = 'unattributed';
/** The group of a line whose agent or model is not recorded. */
export const UNKNOWN = 'unknown';

/** A history record as the summary reads it: the kill switches' record plus the ACs a PASS accepted. */
export type SummaryRecord = CycleRecord & { acIds?: readonly string[] | undefined };

const nonNegative = (n: number | undefined): number => (n !== undefined && Number.isFinite(n) && n > 0 ? n : 0);

/** One slice of a cycle's cost, in every dimension the summary groups by. */
export interface CostSlice {
  role: string;
  agent: string;
  model: string;
  tier: string;
  usd: number;
  unpriced: boolean;
}

/** The agent a spend entry is counted under: its own, else the line's for the Worker; the Controller's model has none. */
function agentOf(s: SpendEntry, r: SummaryRecord): string {
  if (s.agent) return s.agent;
  if (s.role === 'controller') return 'controller';
  return (s.role === 'worker' ? r.agent : undefined) ?? UNKNOWN;
}

/** A cycle's cost as slices: one per spend entry, plus the unattributed rest (a line without `spend`: all of it). */
export function costSlices(r: SummaryRecord, cost: number = nonNegative(r.costUsd)): CostSlice[] {
  const entries = r.spend ?? [];
  const slices: CostSlice[] = entries.map((s) => ({
    role: s.role,
    agent: agentOf(s, r),
    model: s.model ?? (s.role === 'worker' ? r.model : undefined) ?? UNKNOWN,
    tier: s.tier ?? UNATTRIBUTED_ROLE,
    usd: nonNegative(s.costUsd),
    unpriced: s.priced === false,
  }));
  const rest = roundUsd(cost - slices.reduce((a, s) => a + s.usd, 0));
  if (rest > 0 || entries.length === 0) {
    slices.push({ role: UNATTRIBUTED_ROLE, agent: r.agent ?? UNKNOWN, model: r.model ?? UNKNOWN, tier: UNATTRIBUTED_ROLE, usd: Math.max(0, rest), unpriced: false });
  }
  return slices;
}

/** Adds one cycle's slices to `map` grouped by `key`: the cycle counts once per group it spent in. */
function addCycle(map: Record<string, CostGroup>, slices: readonly CostSlice[], key: (s: CostSlice) => string, skipRest = false): void {
  const perKey = new Map<string, { usd: number; unpriced: boolean }>();
  for (const s of slices) {
    // byRole leaves a line without spend out when it cost nothing: there is nothing to attribute.
    if (skipRest && s.role === UNATTRIBUTED_ROLE && s.usd === 0) continue;
    const k = key(s);
    const e = perKey.get(k) ?? { usd: 0, unpriced: false };
    perKey.set(k, { usd: e.usd + s.usd, unpriced: e.unpriced || s.unpriced });
  }
  for (const [k, v] of perKey) {
    const g = (map[k] ??= { cycles: 0, costUsd: 0 });
    g.cycles++;
    g.costUsd = roundUsd(g.costUsd + v.usd);
    if (v.unpriced) g.unpriced = true;
  }
}

/** Aggregate the history records of one month into logs/autopilot/cost_summary_YYYYMM.json (spec §7-3). */
export function summarizeMonth(history: readonly SummaryRecord[], month: string): CostSummary {
  const byRole: Record<string, CostGroup> = {};
  const byTier: Record<string, CostGroup> = {};
  const byDay: Record<string, Record<string, number>> = {};
  const accepted = new Set<string>();
  const s: CostSummary = { month, totalUsd: 0, cycles: 0, byStatus: {}, byTicket: {}, byAgent: {}, byModel: {}, byRole, byTier, byDay };
  for (const r of history) {
    // A person's unblock is no cycle; a line whose end time is no timestamp belongs to no month (history is read tolerantly).
    if (r.unblocked) continue;
    if (Number.isNaN(Date.parse(r.endedAt)) || monthOf(r.endedAt) !== month) continue;
    const cost = nonNegative(r.costUsd);
    const slices = costSlices(r, cost);
    s.cycles++;
    s.totalUsd = roundUsd(s.totalUsd + cost);
    s.byStatus[r.status] = (s.byStatus[r.status] ?? 0) + 1;
    addCycle(s.byTicket, [{ role: 'cycle', agent: '', model: '', tier: '', usd: cost, unpriced: slices.some((x) => x.unpriced) }], () => r.ticketId);
    addCycle(s.byAgent, slices, (x) => x.agent);
    addCycle(s.byModel, slices, (x) => x.model);
    addCycle(byRole, slices, (x) => x.role, true);
    addCycle(byTier, slices, (x) => x.tier, true);
    const day = (byDay[dayOf(r.endedAt)] ??= {});
    for (const x of slices) if (x.usd > 0) day[x.model] = roundUsd((day[x.model] ?? 0) + x.usd);
    if (r.status === 'PASS') for (const ac of r.acIds ?? []) accepted.add(ac);
  }
  s.acceptedAcs = accepted.size;
  s.usdPerAcceptedAc = accepted.size > 0 ? roundUsd(s.totalUsd / accepted.size) : null;
  return s;
}

/** History lines as summary records (with the ACs each one names). */
export function summaryRecords(entries: readonly HistoryEntry[]): SummaryRecord[] {
  return entries.map((e) => ({ ...toCycleRecord(e), ...(e.acIds ? { acIds: e.acIds } : {}) }));
}

/** The month's summary computed from a history.jsonl file (a missing file: an empty month). */
export function summarizeHistoryFile(historyFile: string, month: string): CostSummary {
  return summarizeMonth(summaryRecords(readHistory(historyFile).records), month);
}

/**
 * The month's summary as `factory status` and the dashboard show it: the cost_summary file when it
 * is there and has this version's fields (by tier, by day, accepted ACs), otherwise computed from
 * history.jsonl (a summary written before issue 16, one whose PASS cycles accepted no AC because
 * its writer dropped the lines' acIds, a damaged file, or none yet).
 */
export function readMonthSummary(summaryFile: string, historyFile: string, month: string): { summary: CostSummary; source: 'summary' | 'history' } {
  try {
    const parsed = costSummarySchema.safeParse(JSON.parse(fs.readFileSync(summaryFile, 'utf8')));
    const d = parsed.success ? parsed.data : undefined;
    const complete = d && d.month === month && d.byTier && d.byDay && d.acceptedAcs !== undefined && d.usdPerAcceptedAc !== undefined;
    // PASS cycles but no accepted AC: the file was written from records without their acIds.
    const acsLost = d && (d.byStatus.PASS ?? 0) > 0 && d.acceptedAcs === 0;
    if (d && complete && !acsLost) return { summary: d, source: 'summary' };
  } catch {
    // Missing or unreadable: computed from history below.
  }
  return { summary: summarizeHistoryFile(historyFile, month), source: 'history' };
}
