/**
 * What the Run panel shows about one cycle: built by the extension host (from the newest evidence
 * run and its history entry, or live from the cycle's events) and posted to the webview, which
 * validates it again. Depends on nothing but zod and status.ts, so the webview bundle imports it.
 */
import * as z from 'zod';
import { cyclePhaseSchema, phaseStatusSchema } from './status';

/** A short display string: a value from the other side must not grow without bound. */
export const shortText = z.string().max(500);

/** A run id as the evidence folders name them (`20261125_104920_d201_seed`); nothing path-like. */
export const runIdSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/).refine((s) => !s.includes('..'));

/** A file inside an evidence run: relative, forward slashes, no `..`, no empty or dot segments. */
export const evidenceFileSchema = z
  .string()
  .min(1)
  .max(300)
  .refine((p) => !p.startsWith('/') && !p.includes('\\') && !p.includes('\0') && !p.split('/').some((s) => s === '' || s === '.' || s === '..'));

/** One phase of the PDCA timeline; `steps` are the Gate's guards/stages inside CHECK. */
export const timelinePhase = z.object({
  name: cyclePhaseSchema,
  status: phaseStatusSchema,
  startedAt: shortText.nullable(),
  durationMs: z.number().nonnegative().nullable(),
  steps: z
    .array(z.object({ name: shortText, status: shortText, durationMs: z.number().nonnegative().nullable() }))
    .max(200),
  /** What happened when there is no time to show, or besides it: "Gate from cache", "not part of a Gate run", "nothing applied". */
  detail: shortText.nullable().optional(),
});
export type TimelinePhase = z.infer<typeof timelinePhase>;

/** The cap on the scope entries a snapshot carries (the panel says how many more there are). */
export const SCOPE_VIEW_MAX = 200;

/** One modify/readonly entry of the plan's scope and why it is there (plan.json `scope_reasons`). */
const scopeEntryView = z.object({ path: shortText, kind: z.enum(['modify', 'readonly']), why: z.array(shortText).max(10) });

/**
 * The plan's scope as the Run panel shows it. `fallback` (plan.json `scope_fallback`): nothing
 * could be derived for the ticket, the config default is used, and `setting` is what to add.
 */
export const planScopeView = z.object({
  fallback: z.object({ why: z.string().max(2000), setting: z.string().max(2000) }).nullable(),
  entries: z.array(scopeEntryView).max(SCOPE_VIEW_MAX),
  /** Entries left off past the cap. */
  more: z.number().int().nonnegative(),
});
export type PlanScopeView = z.infer<typeof planScopeView>;

/** What the Run panel shows about one cycle (fed from the latest evidence run until the cycle streams events). */
export const runSnapshot = z.object({
  runId: runIdSchema.nullable(),
  ticketId: shortText.nullable(),
  taskName: shortText.nullable(),
  status: shortText,
  timestamp: shortText.nullable(),
  durationSeconds: z.number().nonnegative().nullable(),
  timeline: z.array(timelinePhase).max(8),
  manifest: z.array(z.object({ path: evidenceFileSchema, bytes: z.number().nonnegative().nullable() })).max(1000),
  kpi: z.array(z.object({ key: shortText, value: shortText })).max(200),
  gates: z.array(z.object({ name: shortText, status: shortText })).max(100),
  scopeViolations: z.array(shortText).max(1000),
  audit: z.object({ verdict: shortText, summary: shortText }).nullable(),
  cost: z.object({ spentUsd: z.number().nonnegative().nullable(), budgetUsd: z.number().positive() }),
  /** Why the panel is empty (no evidence yet, folder not trusted …). */
  note: shortText.nullable(),
  /** The plan's risk level and why it is above the default (from the live plan; absent for past runs). */
  risk: z.object({ level: shortText, why: z.array(shortText).max(100) }).nullable().optional(),
  /** The plan's scope with the reasons of each entry, and the fallback notice (from the live plan; absent for past runs). */
  scope: planScopeView.nullable().optional(),
});
export type RunSnapshot = z.infer<typeof runSnapshot>;
