// zod/mini: plan.json is also parsed by the Worker runtime inside every container, where classic
// zod's load time (≈ 0.1 s on one CPU) would be Controller overhead on every cycle.
import * as z from 'zod/mini';
import { checkRepoPath, type ValidateOptions } from '../paths/validate';
import { TIERS } from './tiers';

/** A repo-relative path or scope glob that passes THE path validator (SECURITY 17). */
export function safePath(opts: ValidateOptions = {}) {
  return z.string().check(
    z.superRefine((p: string, ctx) => {
      const problem = checkRepoPath(p, opts);
      if (problem) ctx.addIssue({ code: 'custom', message: `${JSON.stringify(p)} ${problem.message} (${problem.rule})` });
    }),
  );
}

/** One role's route in plan.json: agent, model, tier and the rules that chose them. */
export const routeChoiceSchema = z.strictObject({
  agent: z.string().check(z.minLength(1), z.maxLength(100)),
  model: z.string().check(z.minLength(1), z.maxLength(200)),
  tier: z.enum(TIERS),
  /** "risk HIGH → routing.levels.HIGH.worker (standard)", "1 FAIL before → one tier up", "--model gpt-5". */
  why: z.array(z.string().check(z.maxLength(1000))).check(z.maxLength(50)),
});
export type RouteChoice = z.output<typeof routeChoiceSchema>;

/**
 * plan.json (Controller → Worker): the fields of spec §4-2 plus `schema_version`, `run_id`,
 * `risk_level`, `agent`, `created_at`. Scope entries are repo-relative globs; `modify` may not
 * name protected locations (.git, .gitmodules, .gitattributes, .vscode, .github/workflows);
 * `readonly`/`forbidden` may, since listing them there only adds protection.
 */
export const planSchema = z.strictObject({
  $schema: z.optional(z.string()),
  schema_version: z.literal(1),
  run_id: z.string().check(z.regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/, 'run_id: letters, digits, _ . - (max 128)')),
  ticket_id: z.string().check(z.minLength(1), z.maxLength(200)),
  ac_ids: z.array(z.string().check(z.minLength(1), z.maxLength(200))).check(z.maxLength(500)),
  scope: z.strictObject({
    modify: z.array(safePath({ kind: 'glob' })).check(z.maxLength(1000)),
    readonly: z._default(z.array(safePath({ kind: 'glob', protect: false })).check(z.maxLength(1000)), []),
    forbidden: z._default(z.array(safePath({ kind: 'glob', protect: false })).check(z.maxLength(1000)), []),
  }),
  /**
   * Why each scope entry is there (glob → reasons, issue 15): "named in D201::AC-3", "changed by
   * 1a2b3c4 for D201::AC-2", "config rule D2*". Optional: plans written before it stay valid.
   */
  scope_reasons: z.optional(z.record(z.string().check(z.maxLength(1000)), z.array(z.string().check(z.maxLength(1000))).check(z.maxLength(100)))),
  /**
   * Set when nothing could be derived for the ticket and the config default was used: why, and
   * the exact setting to add to `.factory/config.json` to give the ticket its own scope.
   */
  scope_fallback: z.optional(z.strictObject({ why: z.string().check(z.maxLength(2000)), setting: z.string().check(z.maxLength(2000)) })),
  done_criteria: z._default(z.string().check(z.maxLength(10_000)), ''),
  timeout_minutes: z.number().check(z.positive(), z.lte(24 * 60)),
  /** The Worker's tier (spec §4-2): `routing.worker.tier` when the plan was routed. */
  model_budget: z.enum(TIERS),
  risk_level: z.enum(['LOW', 'MED', 'HIGH', 'CRIT']),
  /**
   * Why the risk is above `risk.default` (issue 15): "word 'slippage' in D301::AC-2 → HIGH",
   * "profit ticket (evidence.profitTickets D3*) → CRIT". Optional: older plans stay valid.
   */
  risk_reasons: z.optional(z.array(z.string().check(z.maxLength(1000))).check(z.maxLength(100))),
  agent: z.string().check(z.minLength(1), z.maxLength(100)),
  /** The Worker's model (issue 16); absent in older plans (the agent's configured or default model). */
  model: z.optional(z.string().check(z.minLength(1), z.maxLength(200))),
  /**
   * The cost gate's choice (spec §7-1, issue 16): who runs as Worker and, when the plan needs one,
   * as Auditor, each with agent, model, tier and why; the USD held back for the Auditor before the
   * Worker starts; and the override (`--agent`, `--model`, the UI's picker, `worker.agent`) when
   * one replaced the table's choice. Optional: plans written before it stay valid.
   */
  routing: z.optional(
    z.strictObject({
      worker: routeChoiceSchema,
      auditor: z.optional(routeChoiceSchema),
      reserve_usd: z.optional(z.number().check(z.nonnegative())),
      override: z.optional(z.string().check(z.maxLength(1000))),
    }),
  ),
  /**
   * "Request changes" on an earlier attempt was given to this plan's Worker (issue 20): the run it
   * was on and how many comments (the general one and the line comments). Optional.
   */
  review_feedback: z.optional(z.strictObject({ run_id: z.optional(z.string().check(z.maxLength(200))), comments: z.int().check(z.nonnegative()) })),
  created_at: z.iso.datetime({ offset: true }),
});

export type Plan = z.output<typeof planSchema>;
export type PlanInput = z.input<typeof planSchema>;
