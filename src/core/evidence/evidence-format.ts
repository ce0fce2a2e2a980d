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

export const kpiSchema = z
  .object({
    run_id: z.string(),
    status: runStatus,
    duration_seconds: z.number().nonnegative(),
    tests: z.object({ passed: z.number(), failed: z.number(), skipped: z.number(), errors: z.number() }),
    cost_usd: z.number().nonnegative().nullable(),
  })
  .loose();
export type Kpi = z.infer<typeof kpiSchema>;

export const pnlBreakdownSchema = z
  .object({
    net_pnl: z.number(),
  })
  .loose();
