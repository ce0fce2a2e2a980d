import { z } from 'zod';
import { safePath } from './plan';
import { readUntrustedJson } from './untrusted-json';

/** audit_report.json (Auditor → Controller): verdict, violations with file/line/rule, model, cost. */
export const auditReportSchema = z.strictObject({
  $schema: z.string().optional(),
  schema_version: z.literal(1).default(1),
  run_id: z.string().min(1).max(128).optional(),
  ticket_id: z.string().min(1).max(200),
  verdict: z.enum(['PASS', 'FAIL']),
  violations: z
    .array(
      z.strictObject({
        file: safePath({ kind: 'path', protect: false }),
        line: z.number().int().positive().optional(),
        rule: z.string().min(1).max(200),
        message: z.string().max(5_000).default(''),
        severity: z.enum(['error', 'warning']).default('error'),
      }),
    )
    .max(1_000)
    .default([]),
  summary: z.string().max(20_000).default(''),
  model: z.string().max(200),
  cost_usd: z.number().nonnegative(),
});

export type AuditReport = z.output<typeof auditReportSchema>;

/** Read an Auditor's report as untrusted input; a PASS verdict with error violations becomes FAIL. */
export function readAuditReport(file: string): AuditReport {
  const r = readUntrustedJson(file, auditReportSchema, 1024 * 1024, 'audit_report.json');
  if (r.verdict === 'PASS' && r.violations.some((v) => v.severity === 'error')) return { ...r, verdict: 'FAIL' };
  return r;
}
