import { z } from 'zod';
import { readUntrustedJson } from './untrusted-json';
import { safePath } from './plan';

const gateVerdict = z.enum(['PASS', 'FAIL', 'SKIPPED', 'SKIP', 'N/A']);

/**
 * result.json (Worker → Controller), spec §4-2. Untrusted: strict (unknown keys rejected),
 * bounded sizes, and every path through THE path validator.
 */
export const resultSchema = z.strictObject({
  $schema: z.string().optional(),
  ticket_id: z.string().min(1).max(200),
  status: z.enum(['PASS', 'FAIL', 'PARTIAL', 'BLOCKED']),
  gate_results: z.record(z.string().regex(/^[A-Za-z0-9_-]{1,64}$/), gateVerdict).default({}),
  // The spec's example ends the folder with a slash; validate the folder path without it.
  evidence_path: z.string().max(4096).transform((p) => p.replace(/\/+$/, '')).pipe(safePath({ kind: 'path' })).optional(),
  files_changed: z.array(safePath({ kind: 'path' })).max(10_000).default([]),
  kpi_summary: z.record(z.string().max(200), z.union([z.number(), z.string().max(1000), z.boolean(), z.null()])).default({}),
  duration_seconds: z.number().nonnegative().optional(),
  model_used: z.string().max(200).optional(),
  cost_estimate_usd: z.number().nonnegative(),
  notes: z.string().max(20_000).optional(),
});

export type WorkerResult = z.output<typeof resultSchema>;

/** result.json's size cap (SECURITY 16). */
export const RESULT_MAX_BYTES = 1024 * 1024;

/**
 * Spec §5-3: a Worker that says PASS while any of its own gate results is FAIL is recorded as FAIL
 * (the Controller's own Gate is a separate, later check).
 */
export function normalizeResult(r: WorkerResult): WorkerResult & { forced: boolean } {
  const anyFail = Object.values(r.gate_results).some((v) => v === 'FAIL');
  if (r.status === 'PASS' && anyFail) return { ...r, status: 'FAIL', forced: true };
  return { ...r, forced: false };
}

/** Read and validate a Worker's result.json (regular file only, ≤ 1 MB, strict) and normalise it. */
export function readResultJson(file: string): WorkerResult & { forced: boolean } {
  return normalizeResult(readUntrustedJson(file, resultSchema, RESULT_MAX_BYTES, 'result.json'));
}
