/**
 * One line of history.jsonl: the record of one cycle (or of one `factory sandbox --history` run,
 * or of a cycle a crash ended). Written by the cycle's record phase, crash recovery and the
 * sandbox; read by the kill switches, the cost summary, `factory tail`, the Runs view, the Run
 * panel and the Cost dashboard. This module depends on nothing but zod and status.ts.
 */
import * as z from 'zod';
import { cyclePhaseSchema, cycleStatusSchema, phaseStatusSchema } from './status';

/** One phase of a finished cycle, for the Run panel's timeline after a reload. */
export const historyPhaseSchema = z.looseObject({
  name: cyclePhaseSchema,
  status: phaseStatusSchema,
  durationMs: z.number().nonnegative().nullable().optional(),
  startedAt: z.string().optional(),
  endedAt: z.string().optional(),
});
export type HistoryPhase = z.infer<typeof historyPhaseSchema>;

/** Who spent model money in a cycle: the Controller's own model, the Worker's agent, the Auditor. */
export const spendRoleSchema = z.enum(['controller', 'worker', 'auditor']);
export type SpendRole = z.infer<typeof spendRoleSchema>;

/**
 * One role's metered spend on one model in a cycle (its gateway's meter), part of the line's
 * `costUsd`: a role that called two models (Claude Code's small-model calls) has two entries.
 */
export const spendEntrySchema = z.looseObject({
  role: spendRoleSchema,
  /** The agent the role ran (the Controller's own model: none). */
  agent: z.string().optional(),
  model: z.string().optional(),
  /** The routed tier of the role (economy / standard / premium). */
  tier: z.string().optional(),
  tokens: z.object({ in: z.number().nonnegative(), out: z.number().nonnegative() }).optional(),
  /** Model calls metered (refused calls not counted). */
  requests: z.number().int().nonnegative().optional(),
  costUsd: z.number().nonnegative(),
  /** False: the model has no price; `costUsd` is the table's ceiling the budget charged, shown as "unpriced". */
  priced: z.boolean().optional(),
});
export type SpendEntry = z.infer<typeof spendEntrySchema>;

/**
 * A history entry. Only `runId`, `ticketId` and `status` are always there; every other field is
 * optional because older versions wrote fewer (an ABORTED line has no `acIds`, `phases`, …).
 * Unknown fields are kept as written (loose), so a newer line still loads in an older reader.
 */
export const historyEntrySchema = z.looseObject({
  runId: z.string().min(1),
  /** '' when an interrupted sandbox run's marker did not name its ticket. */
  ticketId: z.string(),
  status: cycleStatusSchema,
  /** What the attempt counts as when a cap changed `status` (e.g. FAIL under a BLOCKED). */
  cause: cycleStatusSchema.optional(),
  acIds: z.array(z.string()).optional(),
  /** ISO time the cycle ended. */
  endedAt: z.string().optional(),
  /** Metered model spend of the cycle: every role's, so `spend` is a breakdown of it. */
  costUsd: z.number().nonnegative().optional(),
  /** `costUsd` by role (the Controller model's review, …); what it does not cover is unattributed. */
  spend: z.array(spendEntrySchema).optional(),
  agent: z.string().optional(),
  model: z.string().optional(),
  /** Why the cycle ended as it did (the cycle and the sandbox write a list). */
  reasons: z.array(z.string()).optional(),
  /** Crash recovery writes one reason. */
  reason: z.string().optional(),
  /** A FAILed cycle's staging copy kept for inspection (pruned to the newest few). */
  stagingKept: z.string().optional(),
  /** The Auditor's verdict, when it ran (the cycle writes the verdict; a report object is read too). */
  audit: z.union([z.string(), z.looseObject({ verdict: z.string(), summary: z.string().optional(), reason: z.string().optional() })]).optional(),
  phases: z.array(historyPhaseSchema).optional(),
  /** `path (rule)` per change outside the plan's scope (its evidence, when written, lists them too). */
  scopeViolations: z.array(z.string()).optional(),
  /** Why the kill switch set the ticket BLOCKED. */
  blockedReason: z.string().optional(),
  /**
   * The run's evidence folder (repo-relative, `logs/evidence/<run id>/`): a PASS's is committed with
   * it; a FAIL's, BLOCKED's, TIMEOUT's or ABORTED's (manifest status = that verdict) is left
   * uncommitted for a person to read. Absent when none was written (older lines, or writing failed).
   */
  evidence: z.string().optional(),
  /** A PASS: how many paths it changed. */
  changes: z.number().int().nonnegative().optional(),
  /** A PASS with `git.push` on whose push failed: false, with git's reason (git stays the truth: `@{u}..HEAD`). */
  pushed: z.boolean().optional(),
  pushError: z.string().optional(),
  /**
   * The merge queue sent a PASSed changeset back to the queue (a conflict with HEAD, or the Gate
   * failing on HEAD + changeset): `status` FAIL, and the kill switches skip the line unless
   * `countsAsRetry` (the change itself is at fault on `head`, which passes alone).
   */
  requeue: z.object({ reason: z.string(), countsAsRetry: z.boolean(), head: z.string() }).optional(),
  /**
   * A compare run's candidate that was not applied (`factory run --compare a,b`, issue 20): `with`
   * is the run the compare applied or recorded instead. The kill switches skip the line: the
   * compare counts once, on that other run's line.
   */
  compare: z.object({ picked: z.boolean(), with: z.string() }).optional(),
  /**
   * Not a cycle: a person put a BLOCKED ticket back in the queue (`cycle/unblock.ts`, issue 20).
   * `status` BLOCKED, so the kill switches count the ticket's attempts afresh after it; the cost
   * summary, the Runs view and the status bar do not count it as a run.
   */
  unblocked: z.object({ by: z.string(), from: z.string(), to: z.string(), reason: z.string().optional(), agent: z.string().optional(), model: z.string().optional() }).optional(),
  /** `factory sandbox --apply`: whether the changeset was applied. */
  applied: z.boolean().optional(),
});
export type HistoryEntry = z.infer<typeof historyEntrySchema>;

/** A stored line: the entry plus its place in the hash chain. */
export type HistoryLine = HistoryEntry & { prev_hash: string; hash: string };

/** Fields without which a line is no history entry at all. */
const REQUIRED = new Set(['runId', 'ticketId', 'status']);

/** The value with the fields (or list elements) the issues name removed; undefined if a required one is bad. */
function withoutInvalid(value: Record<string, unknown>, issues: readonly z.core.$ZodIssue[]): Record<string, unknown> | undefined {
  const out = { ...value };
  const badElements = new Map<string, Set<number>>();
  for (const issue of issues) {
    const [key, index] = issue.path;
    if (typeof key !== 'string' || REQUIRED.has(key)) return undefined;
    if (typeof index === 'number' && Array.isArray(out[key])) {
      const set = badElements.get(key) ?? new Set<number>();
      badElements.set(key, set.add(index));
    } else {
      delete out[key];
    }
  }
  for (const [key, set] of badElements) {
    const list = out[key];
    if (Array.isArray(list)) out[key] = list.filter((_, i) => !set.has(i));
  }
  return out;
}

/**
 * Read one parsed history line tolerantly: an optional field of the wrong type is dropped (a bad
 * element of a list is left out), unknown fields are kept, and the line keeps its key order.
 * Undefined when `runId`, `ticketId` or `status` is missing or invalid. Never throws.
 */
export function parseHistoryEntry(raw: unknown): HistoryEntry | undefined {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return undefined;
  let value: Record<string, unknown> | undefined = { ...(raw as Record<string, unknown>) };
  // Each round removes what the last one named; lists of objects may need a second look.
  for (let round = 0; round < 4 && value; round++) {
    const checked = historyEntrySchema.safeParse(value);
    if (checked.success) return value as HistoryEntry;
    value = withoutInvalid(value, checked.error.issues);
  }
  return undefined;
}

/** The part of a history entry the kill switches and the cost summary read. */
export type CycleRecord = Pick<HistoryEntry, 'runId' | 'ticketId' | 'status' | 'agent' | 'model' | 'spend' | 'acIds' | 'requeue' | 'compare' | 'unblocked'> & {
  /** ISO time the cycle ended (the epoch when the line has none). */
  endedAt: string;
  costUsd: number;
};

/** A history entry as a CycleRecord: a line without `endedAt` ended at the epoch, without `costUsd` cost 0. */
export function toCycleRecord(e: HistoryEntry): CycleRecord {
  return {
    runId: e.runId,
    ticketId: e.ticketId,
    status: e.status,
    endedAt: e.endedAt ?? new Date(0).toISOString(),
    costUsd: e.costUsd ?? 0,
    ...(e.agent !== undefined ? { agent: e.agent } : {}),
    ...(e.model !== undefined ? { model: e.model } : {}),
    ...(e.spend !== undefined ? { spend: e.spend } : {}),
    // The cost summary counts the ACs a PASS accepted (cost per accepted AC).
    ...(e.acIds !== undefined ? { acIds: e.acIds } : {}),
    // The kill switches skip a requeue that does not count as a retry.
    ...(e.requeue !== undefined ? { requeue: e.requeue } : {}),
    // …and a compare run's candidate that was not picked (its other run's line counts).
    ...(e.compare !== undefined ? { compare: e.compare } : {}),
    // …and a person's unblock (no cycle: the cost summary and the editor's last run skip it).
    ...(e.unblocked !== undefined ? { unblocked: e.unblocked } : {}),
  };
}
