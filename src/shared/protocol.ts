/**
 * Messages between the webviews (Run panel, Cost dashboard) and the extension host: discriminated
 * unions on `type`, validated with zod on arrival in BOTH directions (SECURITY 22). Nothing here
 * imports `vscode` or the DOM: the host, the webview bundle and plain-mocha tests share it.
 */
import * as z from 'zod';
import { evidenceFileSchema, runIdSchema, runSnapshot, shortText as short } from '../core/contracts/run-snapshot';

// The Run panel's snapshot is a record of the core's contracts; the messages below carry it (with the roles, below).
export { evidenceFileSchema, runIdSchema, runSnapshot, timelinePhase, type TimelinePhase } from '../core/contracts/run-snapshot';

/** One role's spend on one model (history's spend entry, as shown). */
const roleSpend = z.object({ model: short, usd: z.number().nonnegative(), unpriced: z.boolean(), requests: z.number().int().nonnegative().nullable() });
/**
 * One role of the cycle in the Run panel (issue 16): who runs it (agent, model, tier and why, from
 * plan.json's routing) and what it spent so far (the cycle's `spend` events, or the history line
 * after a reload). `spentUsd` null: nothing metered yet.
 */
export const roleRow = z.object({
  role: z.enum(['controller', 'worker', 'auditor']),
  agent: short.nullable(),
  model: short.nullable(),
  tier: short.nullable(),
  why: z.array(short).max(20),
  spentUsd: z.number().nonnegative().nullable(),
  /** Some of the spend was on a model without a price: show "unpriced", never "$0". */
  unpriced: z.boolean(),
  spend: z.array(roleSpend).max(20),
});
export type RoleRow = z.infer<typeof roleRow>;

/** The cost gate's choice for the run: a row per role, the USD held back for the Auditor, and the override. */
export const runRouting = z.object({
  roles: z.array(roleRow).max(3),
  reserveUsd: z.number().nonnegative().nullable(),
  override: short.nullable(),
});
export type RunRouting = z.infer<typeof runRouting>;

/**
 * What `run.snapshot` carries: the core's snapshot record (contracts/run-snapshot.ts, not a copy)
 * plus the cost gate's roles (absent: nothing known about them).
 */
export const runPanelSnapshot = runSnapshot.extend({ routing: runRouting.nullable().optional() });
export type RunSnapshot = z.infer<typeof runPanelSnapshot>;

/** Hard caps: a message from the other side is untrusted and must not grow without bound. */
export const MAX_TEXT = 1_000_000;
const text = z.string().max(MAX_TEXT);

export const logStream = z.enum(['worker', 'gate']);
export type LogStream = z.infer<typeof logStream>;

const costBar = z.object({ label: short, usd: z.number().nonnegative(), cycles: z.number().int().nonnegative() });
export type CostBar = z.infer<typeof costBar>;
/** One group of the month's cost (a model, a role, a tier); `unpriced`: some of it was on a model without a price. */
const costRow = z.object({ label: short, usd: z.number().nonnegative(), cycles: z.number().int().nonnegative(), unpriced: z.boolean() });
export type CostRow = z.infer<typeof costRow>;
/** The most models the daily chart draws as their own series; the rest are summed as `other`. */
export const DAILY_SERIES_MAX = 8;
/**
 * The month's figures of cost_summary_YYYYMM.json (issue 16): total, per accepted AC, by model /
 * role / tier, and spend per day by model (`models[i]` is the series of every day's `usd[i]`).
 */
export const monthCost = z.object({
  /** `YYYY-MM` (UTC). */
  month: short,
  totalUsd: z.number().nonnegative(),
  cycles: z.number().int().nonnegative(),
  acceptedAcs: z.number().int().nonnegative(),
  usdPerAcceptedAc: z.number().nonnegative().nullable(),
  /** Part of the spend was on models without a price (charged at the budget's ceiling). */
  unpriced: z.boolean(),
  byModel: z.array(costRow).max(200),
  byRole: z.array(costRow).max(20),
  byTier: z.array(costRow).max(20),
  daily: z.object({
    models: z.array(short).max(DAILY_SERIES_MAX + 1),
    /** Models of the series that have no price. */
    unpriced: z.array(short).max(DAILY_SERIES_MAX + 1),
    days: z.array(z.object({ day: short, usd: z.array(z.number().nonnegative()).max(DAILY_SERIES_MAX + 1) })).max(31),
  }),
});
export type MonthCost = z.infer<typeof monthCost>;
export const costDashboard = z.object({
  /** The newest month with a recorded cycle (null: none yet). */
  month: monthCost.nullable(),
  byMonth: z.array(costBar).max(240),
  byTicket: z.array(costBar).max(500),
  byAgentModel: z.array(costBar).max(200),
  totalUsd: z.number().nonnegative(),
  cycles: z.number().int().nonnegative(),
  budgetPerCycleUsd: z.number().positive(),
  /** Where the figures came from, for the footer (e.g. "history.jsonl (12 cycles), 3 evidence runs"). */
  sources: short,
  note: short.nullable(),
});
export type CostDashboard = z.infer<typeof costDashboard>;

/**
 * One cycle of a factory run in the Run panel's selector (issue 18: several in flight): the panel
 * follows one at a time; the others keep buffering, so switching shows their history.
 */
export const cycleChoice = z.object({
  runId: runIdSchema,
  ticketId: short.nullable(),
  /** The phase running now (or the merge step); null once it ended. */
  phase: short.nullable(),
  /** `RUNNING`, or the ended cycle's status. */
  status: short,
  spentUsd: z.number().nonnegative().nullable(),
});
export type CycleChoice = z.infer<typeof cycleChoice>;
/** The most cycles the selector lists (in flight first): 16 slots plus the ended ones kept. */
export const CYCLE_CHOICES_MAX = 64;

/** Host → webview. */
export const hostMessage = z.discriminatedUnion('type', [
  z.object({ type: z.literal('run.snapshot'), run: runPanelSnapshot }),
  z.object({ type: z.literal('log.reset'), stream: logStream, title: short }),
  z.object({ type: z.literal('log.append'), stream: logStream, text }),
  z.object({ type: z.literal('cost.dashboard'), dashboard: costDashboard }),
  /** The run's cycles and the one the panel follows (null: an evidence run is shown). */
  z.object({ type: z.literal('run.cycles'), cycles: z.array(cycleChoice).max(CYCLE_CHOICES_MAX), followed: runIdSchema.nullable() }),
]);
export type HostMessage = z.infer<typeof hostMessage>;

/** Webview → host. Every field a host action uses is constrained here (ids, relative paths). */
export const webviewMessage = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready') }),
  z.object({ type: z.literal('refresh') }),
  z.object({ type: z.literal('openEvidence'), runId: runIdSchema, file: evidenceFileSchema }),
  z.object({ type: z.literal('openRunPanel') }),
  /** Follow another cycle of the run (one the host listed in `run.cycles`; anything else is ignored). */
  z.object({ type: z.literal('followRun'), runId: runIdSchema }),
  /** A front-end error, for the log (never shown as HTML, never executed). */
  z.object({ type: z.literal('error'), message: short }),
]);
export type WebviewMessage = z.infer<typeof webviewMessage>;

export type ParseResult<T> = { ok: true; message: T } | { ok: false; error: string };

function parseWith<T>(schema: z.ZodType<T>, raw: unknown): ParseResult<T> {
  const r = schema.safeParse(raw);
  if (r.success) return { ok: true, message: r.data };
  // Only the issue paths and codes: the raw value may be hostile or huge.
  const error = r.error.issues
    .slice(0, 5)
    .map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.code}`)
    .join('; ');
  return { ok: false, error };
}

/** Validates a message that arrived from a webview. */
export function parseWebviewMessage(raw: unknown): ParseResult<WebviewMessage> {
  return parseWith(webviewMessage, raw);
}

/** Validates a message that arrived from the host (the webview checks too: a bug must not become markup). */
export function parseHostMessage(raw: unknown): ParseResult<HostMessage> {
  return parseWith(hostMessage, raw);
}

/** What a webview keeps in `setState` so a reload (or a restart, via the serializer) restores it. */
export const webviewStateSchema = z.object({
  view: z.enum(['run', 'cost']),
  tab: short.optional(),
  search: short.optional(),
  scrollLine: z.number().int().nonnegative().optional(),
  follow: z.boolean().optional(),
  stream: logStream.optional(),
});
export type WebviewState = z.infer<typeof webviewStateSchema>;
