import { z } from 'zod';
import { checkRepoPath, type ValidateOptions } from '../paths/validate';

/** A repo-relative path or scope glob that passes THE path validator (SECURITY 17). */
export function safePath(opts: ValidateOptions = {}) {
  return z.string().superRefine((p, ctx) => {
    const problem = checkRepoPath(p, opts);
    if (problem) ctx.addIssue({ code: 'custom', message: `${JSON.stringify(p)} ${problem.message} (${problem.rule})` });
  });
}

/**
 * plan.json (Controller → Worker): the fields of spec §4-2 plus `schema_version`, `run_id`,
 * `risk_level`, `agent`, `created_at`. Scope entries are repo-relative globs; `modify` may not
 * name protected locations (.git, .gitmodules, .gitattributes, .vscode, .github/workflows);
 * `readonly`/`forbidden` may, since listing them there only adds protection.
 */
export const planSchema = z.strictObject({
  $schema: z.string().optional(),
  schema_version: z.literal(1),
  run_id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/, 'run_id: letters, digits, _ . - (max 128)'),
  ticket_id: z.string().min(1).max(200),
  ac_ids: z.array(z.string().min(1).max(200)).max(500),
  scope: z.strictObject({
    modify: z.array(safePath({ kind: 'glob' })).max(1000),
    readonly: z.array(safePath({ kind: 'glob', protect: false })).max(1000).default([]),
    forbidden: z.array(safePath({ kind: 'glob', protect: false })).max(1000).default([]),
  }),
  done_criteria: z.string().max(10_000).default(''),
  timeout_minutes: z.number().positive().max(24 * 60),
  model_budget: z.enum(['economy', 'standard', 'premium']),
  risk_level: z.enum(['LOW', 'MED', 'HIGH', 'CRIT']),
  agent: z.string().min(1).max(100),
  created_at: z.iso.datetime({ offset: true }),
});

export type Plan = z.output<typeof planSchema>;
export type PlanInput = z.input<typeof planSchema>;
