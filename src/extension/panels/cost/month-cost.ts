/**
 * The month's cost summary (cost_summary_YYYYMM.json's shape) as the Cost dashboard shows it:
 * rows largest first, every label cut to the protocol's limits, and the spend per day by model as
 * chart series (the largest models on their own, the rest summed as `other`). No `vscode` here.
 */
import type { CostGroup, CostSummary } from '../../../core/contracts/records';
import { DAILY_SERIES_MAX, type CostRow, type MonthCost } from '../../../shared/protocol';

const cut = (s: string, n = 200): string => (s.length > n ? `${s.slice(0, n - 1)}…` : s);
const round = (n: number): number => Math.round(n * 1e6) / 1e6;
/** The series every model past the largest DAILY_SERIES_MAX is summed into. */
export const OTHER_SERIES = 'other';

/** Groups as rows, largest spend first (ties by name), at most `limit`. */
export function costRows(groups: Record<string, CostGroup> | undefined, limit: number): CostRow[] {
  return Object.entries(groups ?? {})
    .sort(([a, x], [b, y]) => y.costUsd - x.costUsd || a.localeCompare(b))
    .slice(0, limit)
    .map(([label, g]) => ({ label: cut(label), usd: g.costUsd, cycles: g.cycles, unpriced: g.unpriced === true }));
}

/** Every day of the month `YYYYMM` up to its last day (`YYYY-MM-DD`). */
export function daysOfMonth(month: string): string[] {
  const y = Number(month.slice(0, 4));
  const m = Number(month.slice(4, 6));
  const last = new Date(Date.UTC(y, m, 0)).getUTCDate();
  return Array.from({ length: last }, (_, i) => `${month.slice(0, 4)}-${month.slice(4, 6)}-${String(i + 1).padStart(2, '0')}`);
}

/** Spend per day by model: one series per model (largest first), the rest as `other`; every day of the month. */
export function dailySeries(s: CostSummary): MonthCost['daily'] {
  const totals = new Map<string, number>();
  for (const perModel of Object.values(s.byDay ?? {})) for (const [model, usd] of Object.entries(perModel)) totals.set(model, (totals.get(model) ?? 0) + usd);
  const ranked = [...totals.entries()].sort(([a, x], [b, y]) => y - x || a.localeCompare(b)).map(([m]) => m);
  const own = ranked.length > DAILY_SERIES_MAX ? ranked.slice(0, DAILY_SERIES_MAX - 1) : ranked;
  const models = ranked.length > own.length ? [...own, OTHER_SERIES] : own;
  const days = daysOfMonth(s.month).map((day) => {
    const usd = models.map(() => 0);
    for (const [model, v] of Object.entries(s.byDay?.[day] ?? {})) {
      const i = own.indexOf(model);
      usd[i >= 0 ? i : models.length - 1] += v;
    }
    return { day, usd: usd.map(round) };
  });
  const unpriced = models.filter((m) => s.byModel[m]?.unpriced === true);
  return { models: models.map((m) => cut(m)), unpriced: unpriced.map((m) => cut(m)), days };
}

/** The dashboard's view of one month's summary. */
export function monthCostView(s: CostSummary): MonthCost {
  return {
    month: `${s.month.slice(0, 4)}-${s.month.slice(4, 6)}`,
    totalUsd: s.totalUsd,
    cycles: s.cycles,
    acceptedAcs: s.acceptedAcs ?? 0,
    usdPerAcceptedAc: s.usdPerAcceptedAc ?? null,
    unpriced: Object.values(s.byModel).some((g) => g.unpriced === true),
    byModel: costRows(s.byModel, 200),
    byRole: costRows(s.byRole, 20),
    byTier: costRows(s.byTier, 20),
    daily: dailySeries(s),
  };
}
