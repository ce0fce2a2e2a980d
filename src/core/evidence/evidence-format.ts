import { z } from 'zod';
import { cycleStatusSchema, stepStatusSchema } from '../contracts/status';

/**
 * The evidence folder `logs/evidence/<run_id>/` (spec §4-2, EVIDENCE_FORMAT.md): the files every
 * run must have, and the shape of the JSON ones. The manifest lists every other file with its
 * sha256, so any later edit is detectable.
 */

export const MANIFEST_FILE = 'manifest.json';
/** Required in every run, besides the manifest. */
export const REQUIRED_FILES = ['kpi.json', 'gate.log', 'git_info.json', 'cmd_history.txt', 'README.md'] as const;
/** Required when the ticket is profit-related (config `evidence.profitTickets`). */
export const PNL_FILE = 'pnl_breakdown.json';
/** Required in every run that is not a PASS: why it failed, last error first (EVIDENCE_FORMAT §error.log). */
export const ERROR_LOG_FILE = 'error.log';

export const EVIDENCE_SCHEMA_VERSION = 1;

const stepStatus = stepStatusSchema;
/** A run's status in the manifest: the cycle's status list (contracts/status.ts). */
export const runStatus = cycleStatusSchema;
export type RunStatus = z.infer<typeof runStatus>;

const safeRelPath = z
  .string()
  .min(1)
  .refine((p) => !p.startsWith('/') && !p.includes('\\') && !p.split('/').some((s) => s === '..' || s === '' || s === '.'), {
    message: 'must be a relative path inside the run folder',
  });

const gitId = z.string().regex(/^[0-9a-f]{40,64}$/);

/**
 * What a PASS verified, so a person can reproduce it (`factory evidence-check --reproduce`): the
 * git tree of the base commit with the changeset (the commit that holds the change cannot name
 * itself; its `Factory-Run: <run id>` trailer finds it), each changed path's blob and mode (null:
 * deleted), and the Gate's image by name and id. Absent in evidence written before it existed.
 */
export const verifiedSchema = z.object({
  tree: gitId,
  base_commit: gitId,
  /** The workspace root's folder in the repository (`''`, or `pkg/`); changed paths are relative to it. */
  prefix: z.string(),
  changes: z.array(z.strictObject({ path: z.string().min(1), kind: z.string(), blob: gitId.nullable(), mode: z.string().nullable() })),
  image: z.string().nullable(),
  image_id: z.string().nullable(),
});
export type VerifiedRecord = z.infer<typeof verifiedSchema>;

/** The baseline on HEAD (spec §8-3) a run started from: green, or red and accepted. */
export const baselineSchema = z.object({
  commit: z.string(),
  tree: z.string(),
  status: z.enum(['green', 'red']),
  failing: z.array(z.object({ kind: z.enum(['gate', 'docops']), name: z.string(), failed: z.number().optional() })),
  accepted: z.boolean(),
  cached: z.boolean(),
});
export type BaselineRecord = z.infer<typeof baselineSchema>;

export const manifestFileEntry = z.strictObject({
  path: safeRelPath,
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  bytes: z.number().int().nonnegative(),
});

export const manifestSchema = z.object({
  schema_version: z.literal(EVIDENCE_SCHEMA_VERSION),
  run_id: z.string().min(1),
  /** Run start, ISO 8601 with offset. */
  timestamp: z.string().min(1),
  /** The run id's label part (`d200_2`, `gate_doctor`). */
  d_number: z.string().min(1),
  ticket_id: z.string().min(1),
  task_name: z.string(),
  ac_ids: z.array(z.string()),
  status: runStatus,
  duration_seconds: z.number().nonnegative(),
  git: z.object({ branch: z.string().nullable(), commit: z.string().nullable(), status: z.enum(['clean', 'dirty', 'unknown']) }),
  gates: z.record(z.string(), stepStatus),
  guards: z.record(z.string(), stepStatus),
  gate_cache: z
    .object({ key: z.string(), hit: z.boolean(), source_run_id: z.string().nullable() })
    .nullable(),
  runner: z.object({ kind: z.enum(['host', 'container']), identity: z.string() }).nullable(),
  worker: z
    .object({
      claimed_status: z.string(),
      recorded_status: z.string(),
      overridden: z.boolean(),
      model: z.string().nullable(),
    })
    .nullable(),
  cost_usd: z.number().nonnegative().nullable(),
  profit_related: z.boolean(),
  environment: z.record(z.string(), z.string()),
  files: z.array(manifestFileEntry),
  verified: verifiedSchema.optional(),
  baseline: baselineSchema.optional(),
});
export type EvidenceManifest = z.infer<typeof manifestSchema>;

export const gitInfoSchema = z.object({
  timestamp: z.string(),
  branch: z.string().nullable(),
  commit: z.string().nullable(),
  commit_message: z.string().nullable(),
  status: z.enum(['clean', 'dirty', 'unknown']),
  remote: z.object({ origin: z.string().nullable(), tracking_branch: z.string().nullable() }),
  modified_files: z.array(z.string()),
  added_files: z.array(z.string()),
  deleted_files: z.array(z.string()),
});
export type GitInfo = z.infer<typeof gitInfoSchema>;

const testTotals = z.object({ passed: z.number(), failed: z.number(), skipped: z.number(), errors: z.number() });

/** One Gate step in kpi.json: its status, test counts as the Gate parsed them (null: none found), duration and command. */
export const kpiStepSchema = z.object({
  kind: z.enum(['guard', 'stage']),
  name: z.string(),
  status: stepStatus,
  tests: testTotals.nullable(),
  duration_seconds: z.number().nonnegative(),
  command: z.array(z.string()),
  cached: z.boolean(),
});
export type KpiStep = z.infer<typeof kpiStepSchema>;

/**
 * kpi.json. `steps`, `changeset`, `cost_by_role` and `baseline` are absent in evidence written
 * before they existed; extra fields (the Worker's validated kpi_summary) are kept.
 */
export const kpiSchema = z
  .object({
    run_id: z.string(),
    status: runStatus,
    duration_seconds: z.number().nonnegative(),
    tests: testTotals,
    cost_usd: z.number().nonnegative().nullable(),
    steps: z.array(kpiStepSchema).optional(),
    /** The changeset's size: files, and lines added/removed between the base and the verified tree. */
    changeset: z.object({ files: z.number().int().nonnegative(), lines_added: z.number().int().nonnegative(), lines_removed: z.number().int().nonnegative() }).optional(),
    /** The gateway-metered cost of each role (Controller model, Worker, Auditor); `cost_usd` is their total. */
    cost_by_role: z.record(z.string(), z.number().nonnegative()).optional(),
    baseline: baselineSchema.optional(),
  })
  .loose();
export type Kpi = z.infer<typeof kpiSchema>;

const money = z.number().finite();

/**
 * pnl_breakdown.json of a profit ticket: the net result and, when given, how it breaks down —
 * gross, fees (negative with maker rebates), slippage — which must add up to the net (see
 * `pnlProblems`). Further detail (fills, fee schedule, who computed it) is kept as is.
 */
export const pnlBreakdownSchema = z
  .object({
    net_pnl: money,
    gross_pnl: money.optional(),
    fees: money.optional(),
    slippage: money.optional(),
    currency: z.string().min(1).optional(),
  })
  .loose();
export type PnlBreakdown = z.infer<typeof pnlBreakdownSchema>;

/** The KPI fields that state a run's net PnL (the spec's `net_pnl_full`, the corpus's `pnl_usd`). */
export const KPI_NET_FIELDS = ['net_pnl', 'net_pnl_full', 'pnl_usd'] as const;

/** Rounding tolerance when PnL figures are compared: a cent, or a millionth of the amount. */
export function pnlTolerance(...amounts: number[]): number {
  return Math.max(0.01, ...amounts.map((a) => Math.abs(a) * 1e-6));
}

/**
 * What is inconsistent in a valid pnl_breakdown.json: gross − fees − slippage ≠ net, or a net the
 * KPI states differently (kpi.json's net_pnl / net_pnl_full / pnl_usd), beyond rounding.
 */
export function pnlProblems(pnl: PnlBreakdown, kpi: Record<string, unknown> | undefined): string[] {
  const out: string[] = [];
  if (pnl.gross_pnl !== undefined && pnl.fees !== undefined) {
    const net = pnl.gross_pnl - pnl.fees - (pnl.slippage ?? 0);
    if (Math.abs(net - pnl.net_pnl) > pnlTolerance(net, pnl.net_pnl)) {
      out.push(`pnl_breakdown.json: gross_pnl ${pnl.gross_pnl} − fees ${pnl.fees}${pnl.slippage !== undefined ? ` − slippage ${pnl.slippage}` : ''} = ${round6(net)}, but net_pnl is ${pnl.net_pnl}`);
    }
  }
  for (const field of KPI_NET_FIELDS) {
    const v = kpi?.[field];
    if (typeof v !== 'number') continue;
    if (Math.abs(v - pnl.net_pnl) > pnlTolerance(v, pnl.net_pnl)) out.push(`pnl_breakdown.json: net_pnl ${pnl.net_pnl} does not match kpi.json ${field} ${v}`);
    break;
  }
  return out;
}

function round6(n: number): number {
  return Math.round(n * 1e6) / 1e6;
}
