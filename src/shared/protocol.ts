/**
 * Messages between the webviews (Run panel, Cost dashboard) and the extension host: discriminated
 * unions on `type`, validated with zod on arrival in BOTH directions (SECURITY 22). Nothing here
 * imports `vscode` or the DOM: the host, the webview bundle and plain-mocha tests share it.
 */
import * as z from 'zod';

/** Hard caps: a message from the other side is untrusted and must not grow without bound. */
export const MAX_TEXT = 1_000_000;
const short = z.string().max(500);
const text = z.string().max(MAX_TEXT);
/** A run id as the evidence folders name them (`20261125_104920_d201_seed`); nothing path-like. */
export const runIdSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/).refine((s) => !s.includes('..'));
/** A file inside an evidence run: relative, forward slashes, no `..`, no empty or dot segments. */
export const evidenceFileSchema = z
  .string()
  .min(1)
  .max(300)
  .refine((p) => !p.startsWith('/') && !p.includes('\\') && !p.includes('\0') && !p.split('/').some((s) => s === '' || s === '.' || s === '..'));

export const PHASES = ['PLAN', 'DO', 'CHECK', 'ADJUST'] as const;
export const phaseName = z.enum(PHASES);
export type PhaseName = z.infer<typeof phaseName>;
export const phaseStatus = z.enum(['PENDING', 'RUNNING', 'PASS', 'FAIL', 'SKIPPED', 'UNKNOWN']);

/** One phase of the PDCA timeline; `steps` are the Gate's guards/stages inside CHECK. */
export const timelinePhase = z.object({
  name: phaseName,
  status: phaseStatus,
  startedAt: short.nullable(),
  durationMs: z.number().nonnegative().nullable(),
  steps: z
    .array(z.object({ name: short, status: short, durationMs: z.number().nonnegative().nullable() }))
    .max(200),
});
export type TimelinePhase = z.infer<typeof timelinePhase>;

export const logStream = z.enum(['worker', 'gate']);
export type LogStream = z.infer<typeof logStream>;

/** What the Run panel shows about one cycle (fed from the latest evidence run until the cycle streams events). */
export const runSnapshot = z.object({
  runId: runIdSchema.nullable(),
  ticketId: short.nullable(),
  taskName: short.nullable(),
  status: short,
  timestamp: short.nullable(),
  durationSeconds: z.number().nonnegative().nullable(),
  timeline: z.array(timelinePhase).max(8),
  manifest: z.array(z.object({ path: evidenceFileSchema, bytes: z.number().nonnegative().nullable() })).max(1000),
  kpi: z.array(z.object({ key: short, value: short })).max(200),
  gates: z.array(z.object({ name: short, status: short })).max(100),
  scopeViolations: z.array(short).max(1000),
  audit: z.object({ verdict: short, summary: short }).nullable(),
  cost: z.object({ spentUsd: z.number().nonnegative().nullable(), budgetUsd: z.number().positive() }),
  /** Why the panel is empty (no evidence yet, folder not trusted …). */
  note: short.nullable(),
});
export type RunSnapshot = z.infer<typeof runSnapshot>;

const costBar = z.object({ label: short, usd: z.number().nonnegative(), cycles: z.number().int().nonnegative() });
export type CostBar = z.infer<typeof costBar>;
export const costDashboard = z.object({
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

/** Host → webview. */
export const hostMessage = z.discriminatedUnion('type', [
  z.object({ type: z.literal('run.snapshot'), run: runSnapshot }),
  z.object({ type: z.literal('log.reset'), stream: logStream, title: short }),
  z.object({ type: z.literal('log.append'), stream: logStream, text }),
  z.object({ type: z.literal('cost.dashboard'), dashboard: costDashboard }),
]);
export type HostMessage = z.infer<typeof hostMessage>;

/** Webview → host. Every field a host action uses is constrained here (ids, relative paths). */
export const webviewMessage = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready') }),
  z.object({ type: z.literal('refresh') }),
  z.object({ type: z.literal('openEvidence'), runId: runIdSchema, file: evidenceFileSchema }),
  z.object({ type: z.literal('openRunPanel') }),
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
