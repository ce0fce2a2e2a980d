import { z } from 'zod';
import { TIERS } from '../contracts/tiers';

/**
 * `routing` in `.factory/config.json`: the cost gate of spec §7-1 as a table. Each risk level
 * names the Worker's tier (or an explicit agent + model) and, for HIGH and CRIT, the Auditor's
 * agent + model; `tiers` says what each tier runs. Per-ticket overrides match by ticket id glob.
 */

export const tierSchema = z.enum(TIERS);

/** An agent (`claude-code`, `codex`, `gemini`, `aider`, `custom`, `replay`) on a model. */
export const routeSchema = z.strictObject({
  agent: z.string().min(1).describe('Agent adapter name: claude-code, codex, gemini, aider, custom or replay.'),
  model: z.string().min(1).describe('Model id; it needs a price (built-in table or `prices`).'),
});
export type Route = z.infer<typeof routeSchema>;

/** The Worker of a level: a tier name (see `routing.tiers`) or an explicit route. */
const workerRoute = z.union([tierSchema, routeSchema]);
export type WorkerRoute = z.infer<typeof workerRoute>;

const levelRoute = z.strictObject({
  worker: workerRoute,
  /** The read-only Auditor's route at this level (used when the level needs an Auditor). */
  auditor: routeSchema.optional(),
});
export type LevelRoute = z.infer<typeof levelRoute>;

/** §7-1's defaults: LOW → Codex on an economy model, MED → Claude Code, HIGH → + Auditor, CRIT → + Auditor of another provider. */
export const ROUTING_DEFAULTS = {
  tiers: {
    economy: { agent: 'codex', model: 'gpt-5-mini' },
    standard: { agent: 'claude-code', model: 'claude-sonnet-4-5' },
    premium: { agent: 'claude-code', model: 'claude-opus-4-5' },
  },
  levels: {
    LOW: { worker: 'economy' },
    MED: { worker: 'standard' },
    HIGH: { worker: 'standard', auditor: { agent: 'claude-code', model: 'claude-opus-4-5' } },
    CRIT: { worker: 'standard', auditor: { agent: 'codex', model: 'gpt-5' } },
  },
} as const satisfies { tiers: Record<string, z.input<typeof routeSchema>>; levels: Record<string, z.input<typeof levelRoute>> };

export const routingSchema = z
  .strictObject({
    tiers: z
      .strictObject({
        economy: routeSchema.default({ ...ROUTING_DEFAULTS.tiers.economy }),
        standard: routeSchema.default({ ...ROUTING_DEFAULTS.tiers.standard }),
        premium: routeSchema.default({ ...ROUTING_DEFAULTS.tiers.premium }),
      })
      .prefault({})
      .describe('What each tier runs as Worker: agent and model.'),
    levels: z
      .strictObject({
        LOW: levelRoute.default({ ...ROUTING_DEFAULTS.levels.LOW }),
        MED: levelRoute.default({ ...ROUTING_DEFAULTS.levels.MED }),
        HIGH: levelRoute.default({ worker: 'standard', auditor: { ...ROUTING_DEFAULTS.levels.HIGH.auditor } }),
        CRIT: levelRoute.default({ worker: 'standard', auditor: { ...ROUTING_DEFAULTS.levels.CRIT.auditor } }),
      })
      .prefault({})
      .describe('Risk level → the Worker (a tier or agent + model) and the Auditor (agent + model).'),
    tickets: z
      .array(
        z.strictObject({
          ticket: z.string().min(1).describe('Ticket id glob, e.g. "DOC-*".'),
          worker: workerRoute.optional(),
          auditor: routeSchema.optional(),
        }),
      )
      .default([])
      .describe('Per-ticket overrides, matched by ticket id glob in order; the last match wins per role.'),
    escalation: z
      .strictObject({
        /** After a FAIL the next attempt's Worker runs one tier up (economy → standard → premium). */
        onFail: z.boolean().default(true),
        maxTier: tierSchema.default('premium'),
      })
      .prefault({})
      .describe('Escalation on retry: each consecutive FAIL of the ticket moves its Worker one tier up, to maxTier at most.'),
    auditReserve: z
      .strictObject({
        /** Fixed USD held back for the Auditor; without it, the Auditor model's price × the tokens below. */
        usd: z.number().nonnegative().optional(),
        inputTokens: z.number().int().nonnegative().default(50_000),
        outputTokens: z.number().int().nonnegative().default(5_000),
      })
      .prefault({})
      .describe("What is held back from the cycle budget for the Auditor before the Worker starts."),
  })
  .prefault({})
  .describe('The cost gate (spec §7-1): risk level → Worker agent/model and Auditor agent/model; per-ticket overrides; escalation on retry; the Auditor reserve.');
export type RoutingConfig = z.output<typeof routingSchema>;
