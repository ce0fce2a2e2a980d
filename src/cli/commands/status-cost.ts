/**
 * The month's cost in `factory status` (issue 16): total, by model, by role, by tier and per
 * accepted AC, read from `<autopilot>/cost_summary_YYYYMM.json` (or computed from history.jsonl
 * when the file is missing or older). Core is imported lazily: status start-up stays lean.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { formatUsd } from '../../shared/money';
import type { CostGroup, CostSummary } from '../../core/contracts/records';

/** What `factory status --json` prints under `cost`: the month's summary and where it came from. */
export type StatusCost = CostSummary & { source: 'summary' | 'history' };

/** `YYYYMM` (UTC) of `now`. */
export function currentMonth(now: Date = new Date()): string {
  return `${now.getUTCFullYear()}${String(now.getUTCMonth() + 1).padStart(2, '0')}`;
}

/** The month's cost of the workspace at `root` (`autopilotRel`: config.paths.autopilot). */
export async function collectCost(root: string, autopilotRel: string, month: string): Promise<StatusCost> {
  const dir = path.join(root, autopilotRel);
  const summaryFile = path.join(dir, `cost_summary_${month}.json`);
  const historyFile = path.join(dir, 'history.jsonl');
  // No cycle has run here yet: the empty month, without loading the summary's schema (zod).
  if (!(await present(summaryFile)) && !(await present(historyFile))) return { ...emptyMonth(month), source: 'history' };
  const { readMonthSummary } = await import('../../core/cycle/cost-summary');
  const { summary, source } = readMonthSummary(summaryFile, historyFile, month);
  return { ...summary, source };
}

/** What cost-summary.ts computes from an empty history (status-cost.test.ts compares the two). */
export function emptyMonth(month: string): CostSummary {
  return { month, totalUsd: 0, cycles: 0, byStatus: {}, byTicket: {}, byAgent: {}, byModel: {}, byRole: {}, byTier: {}, byDay: {}, acceptedAcs: 0, usdPerAcceptedAc: null };
}

/** Anything at the path (a file readMonthSummary cannot read is its business, not ours). */
async function present(file: string): Promise<boolean> {
  try {
    await fsp.lstat(file);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ENOENT';
  }
}

/** `$0.0123` below a dollar, `$12.34` above (the webviews' format). */
export const money = formatUsd;

/**
 * A group's spend: "unpriced" when all of it was on models without a price (the figure is only the
 * budget's ceiling charge), "$x incl. unpriced" when part of it was; never "$0" for an unpriced model.
 */
export function groupMoney(g: CostGroup, allUnpriced: boolean): string {
  if (g.unpriced && allUnpriced) return 'unpriced';
  return g.unpriced ? `${money(g.costUsd)} incl. unpriced` : money(g.costUsd);
}

/** `key $x (n)` for each group, largest spend first. `allUnpriced`: the whole group is on unpriced models (byModel). */
function groupLine(groups: Record<string, CostGroup> | undefined, allUnpriced: boolean): string {
  const entries = Object.entries(groups ?? {}).sort(([a, x], [b, y]) => y.costUsd - x.costUsd || a.localeCompare(b));
  if (entries.length === 0) return '—';
  return entries.map(([k, g]) => `${k} ${groupMoney(g, allUnpriced)} (${g.cycles} cycle${g.cycles === 1 ? '' : 's'})`).join(' · ');
}

/** The lines `factory status` prints for the month's cost. */
export function renderCost(c: StatusCost): string[] {
  const month = `${c.month.slice(0, 4)}-${c.month.slice(4)}`;
  if (c.cycles === 0) return [`Cost       ${month}: no cycle recorded this month`];
  const someUnpriced = Object.values(c.byModel).some((g) => g.unpriced);
  const total = `${money(c.totalUsd)}${someUnpriced ? ' incl. unpriced' : ''}`;
  const perAc = c.usdPerAcceptedAc === null || c.usdPerAcceptedAc === undefined
    ? 'no AC accepted yet'
    : `${money(c.usdPerAcceptedAc)}${someUnpriced ? ' incl. unpriced' : ''} per accepted AC (${c.acceptedAcs ?? 0} AC${c.acceptedAcs === 1 ? '' : 's'})`;
  return [
    `Cost       ${month}: ${total} over ${c.cycles} cycle${c.cycles === 1 ? '' : 's'}; ${perAc}`,
    `  by model   ${groupLine(c.byModel, true)}`,
    `  by role    ${groupLine(c.byRole, false)}`,
    `  by tier    ${groupLine(c.byTier, false)}`,
  ];
}
