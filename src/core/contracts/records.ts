/**
 * The Controller's own record files besides history.jsonl (history-entry.ts): the cycle state
 * (`<autopilot>/cycle_state.json`, present while a cycle is in flight) and the month's cost
 * summary (`<autopilot>/cost_summary_YYYYMM.json`, spec §7-3). Depends on nothing but zod.
 */
import * as z from 'zod';
import { spendEntrySchema } from './history-entry';
import { cyclePhaseSchema } from './status';

/** cycle_state.json: where the cycle in flight is, so a restart can recover it. */
export const cycleStateSchema = z.object({
  version: z.literal(1),
  runId: z.string(),
  ticketId: z.string(),
  acIds: z.array(z.string()),
  phase: cyclePhaseSchema,
  baseCommit: z.string(),
  startedAt: z.string(),
  /** `host:pid` of the Controller that runs the cycle. */
  owner: z.string(),
  /** The staging copy (a `<tmp>/factory-*` folder), once made. */
  stagingDir: z.string().optional(),
  /** ADJUST only: repo-relative paths of the changeset being applied. */
  changes: z.array(z.object({ path: z.string(), kind: z.string() })).optional(),
  /** ADJUST only: Controller files about to be rewritten → their backup (null: did not exist). */
  backups: z.record(z.string(), z.string().nullable()).optional(),
  /** ADJUST only: folder of the backups. */
  backupDir: z.string().optional(),
  /**
   * AC id → its ledger status cell (as written) before the cycle marked it IN_PROGRESS (spec
   * §8-3): what an abort, a non-PASS end or crash recovery puts back. Absent before the marking.
   */
  acStatusBefore: z.record(z.string(), z.string()).optional(),
  /** What the cycle already spent in PLAN (the Controller model's review): an abort records it. */
  spend: z.array(spendEntrySchema).optional(),
});
export type CycleState = z.infer<typeof cycleStateSchema>;

/**
 * Cycles and spend of one group (a ticket, an agent, a model, a role, a tier). `unpriced`: some of
 * the spend was on a model without a price (charged at the table's ceiling): show "unpriced".
 */
const costGroupSchema = z.object({ cycles: z.number().int().nonnegative(), costUsd: z.number().nonnegative(), unpriced: z.boolean().optional() });
export type CostGroup = z.infer<typeof costGroupSchema>;

/** cost_summary_YYYYMM.json: the month's cycles and spend, recomputed from history after every cycle. */
export const costSummarySchema = z.object({
  /** `YYYYMM` (UTC). */
  month: z.string().regex(/^\d{6}$/),
  totalUsd: z.number().nonnegative(),
  cycles: z.number().int().nonnegative(),
  /** Cycle status → how many cycles ended so. */
  byStatus: z.record(z.string(), z.number().int().nonnegative()),
  byTicket: z.record(z.string(), costGroupSchema),
  byAgent: z.record(z.string(), costGroupSchema),
  byModel: z.record(z.string(), costGroupSchema),
  /**
   * Role (controller, worker, auditor; `unattributed` for the part of a cycle's cost its line does
   * not break down) → the cycles it spent in and its spend. Absent in summaries written before it.
   */
  byRole: z.record(z.string(), costGroupSchema).optional(),
  /** Routed tier (economy, standard, premium; `unattributed` as in byRole) → cycles and spend. */
  byTier: z.record(z.string(), costGroupSchema).optional(),
  /** `YYYY-MM-DD` (UTC) → model → USD: the dashboard's spend-per-day chart. */
  byDay: z.record(z.string(), z.record(z.string(), z.number().nonnegative())).optional(),
  /** ACs that became DONE this month (the acIds of PASS lines). */
  acceptedAcs: z.number().int().nonnegative().optional(),
  /** totalUsd / acceptedAcs (null when no AC was accepted): what one accepted AC cost. */
  usdPerAcceptedAc: z.number().nonnegative().nullable().optional(),
});
export type CostSummary = z.infer<typeof costSummarySchema>;
