/**
 * The cycle's money as pure arithmetic (issue 16, spec §7-1): one budget shared by the Controller
 * model, the Worker and the Auditor, with the Auditor's reserve held back before the Worker
 * starts; the history's `spend` entries (one per role × model) from a gateway's records; and the
 * commit message's cost line. No I/O.
 */
import { PriceTable } from '../config/prices';
import type { FactoryConfig } from '../config/schema';
import type { SpendEntry, SpendRole } from '../contracts/history-entry';
import type { GatewayRecord } from '../gateway/gateway';

/** Budgets are compared in micro-dollars: 1 − 0.3 − 0.7 is 0, not 5.6e-17. */
const micro = (usd: number): number => Math.round(usd * 1e6) / 1e6;
/** Sums of metered USD lose only the float drift (0.1 + 0.2 is 0.3), never a real fraction of a cent. */
const tidy = (usd: number): number => Math.round(usd * 1e12) / 1e12;
const usd4 = (usd: number): string => `$${usd.toFixed(4)}`;
const usd2 = (usd: number): string => `$${usd.toFixed(2)}`;

/** What the cycle budget is split by. */
export interface BudgetInput {
  /** The cycle's budget B (`killSwitch.budgetUsd`). */
  budgetUsd: number;
  /** What the Controller model spent in PLAN (c). */
  controllerUsd: number;
  /** plan.routing.reserve_usd (R): held back for the Auditor; absent = no Auditor planned. */
  reserveUsd?: number | undefined;
  /** The Auditor the reserve is for (its agent and model name it in the reason). */
  auditor?: { agent: string; model: string } | undefined;
}

/** The Worker's share of the budget, or why the cycle cannot start it. */
export type CycleBudget = { fits: true; workerUsd: number } | { fits: false; workerUsd: 0; reason: string };

/**
 * The Worker's gateway budget: B − c − R. When that is not positive the Worker must not start (the
 * Auditor's money would be gone before it runs): the cycle ends BLOCKED with the returned reason.
 * Without a reserve, B − c (never below 0; the gateway then refuses the first call).
 */
export function cycleBudget(b: BudgetInput): CycleBudget {
  const reserve = b.reserveUsd ?? 0;
  const rest = micro(b.budgetUsd - b.controllerUsd - reserve);
  if (b.reserveUsd === undefined || rest > 0) return { fits: true, workerUsd: Math.max(0, rest) };
  const who = b.auditor ? ` (${b.auditor.agent} ${b.auditor.model})` : '';
  const spent = b.controllerUsd > 0 ? ` after ${usd4(b.controllerUsd)} spent` : '';
  return { fits: false, workerUsd: 0, reason: `budget cap: the Auditor's reserve ${usd4(reserve)}${who} does not fit the cycle budget ${usd2(b.budgetUsd)}${spent}` };
}

/** The Auditor's gateway budget: what is left of B after the Controller model and the Worker (≥ the reserve when the Worker kept to its share). */
export function auditorBudget(budgetUsd: number, controllerUsd: number, workerUsd: number): number {
  return Math.max(0, micro(budgetUsd - controllerUsd - workerUsd));
}

/** Who a role ran as: the agent (none for the Controller's own model), the routed model and tier. */
export interface SpendRoute {
  agent?: string | undefined;
  model?: string | undefined;
  tier?: string | undefined;
}

/** A metered model id is the routed one when equal or a dated/versioned form of it (`claude-sonnet-4-5-20250929`). */
export function sameModel(metered: string, routed: string): boolean {
  return metered === routed || metered.startsWith(`${routed}-`) || metered.startsWith(`${routed}@`);
}

/**
 * History's `spend` entries of one role from its gateway's records: one per model called (a
 * Claude Code Worker's small-model calls are a second entry), with tokens (input = billed +
 * cached + cache writes), requests and USD as metered. Calls the gateway refused are left out; no
 * metered call, no entry. `priced: false` when a call's model had no price (its cost is the
 * table's ceiling, shown "unpriced"). The route's tier goes to the routed model's entry; another
 * model's tier (or the routed one's, when the route names none) is `tierOf(model)`, the price table's.
 */
export function spendFromRecords(role: SpendRole, route: SpendRoute, records: readonly GatewayRecord[], tierOf?: (model: string) => string | undefined): SpendEntry[] {
  const byModel = new Map<string, SpendEntry>();
  for (const r of records) {
    if (r.refused) continue;
    const model = r.model ?? route.model ?? 'unknown';
    let e = byModel.get(model);
    if (!e) {
      const tier = (route.model && sameModel(model, route.model) ? route.tier : undefined) ?? tierOf?.(model);
      e = { role, ...(route.agent ? { agent: route.agent } : {}), model, ...(tier ? { tier } : {}), tokens: { in: 0, out: 0 }, requests: 0, costUsd: 0, priced: true };
      byModel.set(model, e);
    }
    e.tokens = { in: (e.tokens?.in ?? 0) + r.usage.inputTokens + r.usage.cachedInputTokens + r.usage.cacheWriteTokens, out: (e.tokens?.out ?? 0) + r.usage.outputTokens };
    e.requests = (e.requests ?? 0) + 1;
    e.costUsd = tidy(e.costUsd + r.costUsd);
    if (!r.priced) e.priced = false;
  }
  return [...byModel.values()];
}

/** A model's tier as the price table (built-in + `prices`) gives it, for models no route named. */
export function tierOfModel(config: Pick<FactoryConfig, 'prices'>): (model: string) => string | undefined {
  const table = PriceTable.withOverrides(config.prices);
  return (model) => table.tierOf(model);
}

/** The sum of `entries`' USD. */
export function spendTotal(entries: readonly SpendEntry[]): number {
  return tidy(entries.reduce((sum, e) => sum + e.costUsd, 0));
}

/** USD by role (kpi.json's `cost_by_role`): only the roles that spent through a gateway. */
export function costByRole(entries: readonly SpendEntry[]): Partial<Record<SpendRole, number>> {
  const out: Partial<Record<SpendRole, number>> = {};
  for (const e of entries) out[e.role] = tidy((out[e.role] ?? 0) + e.costUsd);
  return out;
}

/** `worker codex gpt-5-mini $0.0123` / `controller gpt-5 unpriced ($0.0500 charged)`. */
function entryText(e: SpendEntry): string {
  const who = [e.role, e.agent, e.model].filter(Boolean).join(' ');
  return e.priced === false ? `${who} unpriced (${usd4(e.costUsd)} charged)` : `${who} ${usd4(e.costUsd)}`;
}

/**
 * The commit message's Cost line: the cycle total, then each role's model and spend, then the
 * agent and risk: `Cost: $0.2100 (worker codex gpt-5-mini $0.0100; auditor claude-code claude-opus-4-5 $0.2000; risk HIGH)`.
 */
export function costLine(totalUsd: number, entries: readonly SpendEntry[], worker: { agent: string; model?: string | undefined }, risk: string): string {
  const parts = entries.map(entryText);
  if (!entries.some((e) => e.role === 'worker')) parts.unshift(`worker ${[worker.agent, worker.model].filter(Boolean).join(' ')} ${usd4(0)} metered`);
  return `Cost: ${usd4(totalUsd)} (${[...parts, `risk ${risk}`].join('; ')})`;
}

/** What an abandoned cycle spent: the persisted spend, plus the Worker's and the Auditor's while they still ran (not yet persisted). */
export function spentSoFar(persisted: readonly SpendEntry[] = [], res: { workerSpend?: () => SpendEntry[]; auditorSpend?: () => SpendEntry[] }): SpendEntry[] {
  const out = [...persisted];
  if (!persisted.some((e) => e.role === 'worker') && res.workerSpend) out.push(...res.workerSpend());
  if (!persisted.some((e) => e.role === 'auditor') && res.auditorSpend) out.push(...res.auditorSpend());
  return out;
}
