/**
 * The Run panel's role rows (issue 16): Controller, Worker and Auditor with the agent, model and
 * tier the cost gate chose (plan.json `routing`) and what each spent, live from the cycle's
 * `spend` events or, after a reload, from the run's history line. Pure and `vscode`-free.
 */
import type { HistoryEntry, SpendEntry, SpendRole } from '../../../core/contracts/history-entry';
import type { Plan } from '../../../core/contracts/plan';
import type { RoleRow, RunRouting } from '../../../shared/protocol';

const ROLE_ORDER: readonly SpendRole[] = ['controller', 'worker', 'auditor'];
const cut = (s: string, n = 500): string => (s.length > n ? `${s.slice(0, n - 1)}…` : s);
const round = (n: number): number => Math.round(n * 1e6) / 1e6;
const opt = (s: string | undefined): string | null => (s ? cut(s) : null);

function blankRow(role: SpendRole): RoleRow {
  return { role, agent: null, model: null, tier: null, why: [], spentUsd: null, unpriced: false, spend: [] };
}

/** The rows in the panel's order (Controller, Worker, Auditor). */
function ordered(rows: RoleRow[]): RoleRow[] {
  return [...rows].sort((a, b) => ROLE_ORDER.indexOf(a.role) - ROLE_ORDER.indexOf(b.role));
}

/** The plan's choice: the Worker (routed, or the plan's agent/model/tier when it has no routing) and the Auditor when it needs one. */
export function planRouting(plan: Pick<Plan, 'agent' | 'model' | 'model_budget' | 'routing'>): RunRouting {
  const r = plan.routing;
  const worker: RoleRow = {
    ...blankRow('worker'),
    agent: opt(r?.worker.agent ?? plan.agent),
    model: opt(r?.worker.model ?? plan.model),
    tier: opt(r?.worker.tier ?? plan.model_budget),
    why: (r?.worker.why ?? []).slice(0, 20).map((w) => cut(w)),
  };
  const rows = [worker];
  if (r?.auditor) rows.push({ ...blankRow('auditor'), agent: opt(r.auditor.agent), model: opt(r.auditor.model), tier: opt(r.auditor.tier), why: r.auditor.why.slice(0, 20).map((w) => cut(w)) });
  return { roles: rows, reserveUsd: r?.reserve_usd ?? null, override: opt(r?.override) };
}

/**
 * A role's spend so far (its running totals per model) put on its row: the row appears if the plan
 * did not name it (the Controller's own model, an Auditor added by escalation), and keeps the
 * plan's agent/model/tier, filling in only what it lacks.
 */
export function withSpend(routing: RunRouting | null | undefined, role: SpendRole, spend: readonly SpendEntry[]): RunRouting {
  const base: RunRouting = routing ?? { roles: [], reserveUsd: null, override: null };
  const mine = spend.filter((s) => s.role === role);
  const old = base.roles.find((x) => x.role === role) ?? blankRow(role);
  const first = mine[0];
  const row: RoleRow = {
    ...old,
    agent: old.agent ?? opt(first?.agent),
    model: old.model ?? opt(first?.model),
    tier: old.tier ?? opt(first?.tier),
    spentUsd: round(mine.reduce((a, s) => a + (Number.isFinite(s.costUsd) && s.costUsd > 0 ? s.costUsd : 0), 0)),
    unpriced: mine.some((s) => s.priced === false),
    spend: mine.slice(0, 20).map((s) => ({ model: cut(s.model ?? 'unknown'), usd: round(Math.max(0, s.costUsd)), unpriced: s.priced === false, requests: s.requests ?? null })),
  };
  return { ...base, roles: ordered([...base.roles.filter((x) => x.role !== role), row]) };
}

/** Every role's spend of a finished cycle (the outcome's or the history line's `spend`) on the rows. */
export function withAllSpend(routing: RunRouting | null | undefined, spend: readonly SpendEntry[]): RunRouting | null {
  let out = routing ?? null;
  for (const role of ROLE_ORDER) if (spend.some((s) => s.role === role)) out = withSpend(out, role, spend);
  return out;
}

/**
 * The rows of a past run from its history line: the Worker's agent and model, each role's spend
 * and tier as recorded (else `tierOf` its model). Null when the line says nothing about who ran (an older line).
 */
export function historyRouting(record: Pick<HistoryEntry, 'agent' | 'model' | 'spend'> | undefined, tierOf: (model: string) => string | undefined = () => undefined): RunRouting | null {
  if (!record || (!record.agent && !record.model && !record.spend?.length)) return null;
  const worker: RoleRow = { ...blankRow('worker'), agent: opt(record.agent), model: opt(record.model) };
  const routing = withAllSpend({ roles: [worker], reserveUsd: null, override: null }, record.spend ?? []);
  // A line without the role's tier: the tier of its model in the price table (what routing would call it).
  return routing && { ...routing, roles: routing.roles.map((r) => (r.tier === null && r.model ? { ...r, tier: opt(tierOf(r.model)) } : r)) };
}
