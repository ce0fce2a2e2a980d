import { z } from 'zod';
import { engineSchema } from './engine-schema';
import { routingSchema, tierSchema } from './routing-schema';

/**
 * `.factory/config.json`. Every key is optional; the defaults are the layout of the workflow spec
 * (docs/v2/…, logs/autopilot, logs/evidence, Gate 3 stages, kill switches $1.00 / 30 min / 3
 * retries / escalate after 2 FAILs). Objects use `prefault({})` so nested defaults always apply.
 */

const relPath = z.string().min(1);
const command = z.array(z.string().min(1)).min(1).describe('argv: program followed by its arguments (no shell)');

export const riskLevel = z.enum(['LOW', 'MED', 'HIGH', 'CRIT']);
export type RiskLevel = z.infer<typeof riskLevel>;

const guardSchema = z.strictObject({
  name: z.string().min(1),
  command,
  timeoutSeconds: z.number().positive().default(120),
  /** Whether the guard is preflight (fail-fast before the stages) or a docops check. */
  kind: z.enum(['preflight', 'docops']).default('preflight'),
});

const stageSchema = z.strictObject({
  name: z.string().min(1),
  command,
  timeoutSeconds: z.number().positive().default(600),
});

const priceSchema = z.strictObject({
  inputPerMTok: z.number().nonnegative(),
  outputPerMTok: z.number().nonnegative(),
  cachedInputPerMTok: z.number().nonnegative().optional(),
  cacheWritePerMTok: z.number().nonnegative().optional(),
  /** The model's tier for the cost gate (escalation, the Auditor-weaker-than-Worker check). */
  tier: tierSchema.optional(),
});
export type Price = z.infer<typeof priceSchema>;

const agentSchema = z.strictObject({
  model: z.string().optional(),
  /** Extra argv appended to the adapter's own invocation. */
  args: z.array(z.string()).default([]),
  /** For the `custom` agent: the command to run. */
  command: z.array(z.string()).optional(),
  maxTurns: z.number().int().positive().optional(),
});

export const SSOT_DEFAULTS = {
  roadmap: 'D_ROADMAP.md',
  ledger: 'docs/v2/design/AC_LEDGER.md',
  rules: 'docs/v2/SSOT_RULES.md',
} as const;

export const configSchema = z.strictObject({
  $schema: z.string().optional(),
  ssot: z
    .strictObject({
      roadmap: relPath.default(SSOT_DEFAULTS.roadmap),
      ledger: relPath.default(SSOT_DEFAULTS.ledger),
      rules: relPath.default(SSOT_DEFAULTS.rules),
      /** Further roadmap documents with per-ticket AC tables (e.g. docs/v2/ROADMAP_V2.md). */
      extraRoadmaps: z.array(relPath).default([]),
    })
    .prefault({})
    .describe('Where the SSOT documents live (repo-relative): roadmap, AC ledger, rules.'),
  paths: z
    .strictObject({
      autopilot: relPath.default('logs/autopilot'),
      evidence: relPath.default('logs/evidence'),
    })
    .prefault({})
    .describe('Where the Controller writes cycle state (plan.json, history.jsonl) and evidence runs.'),
  scope: z
    .strictObject({
      /** Globs the Worker may modify when a ticket has no override. */
      modify: z.array(z.string()).default(['src/**', 'tests/**']),
      readonly: z.array(z.string()).default([]),
      /** Always forbidden in addition to the SSOT documents (which are always forbidden). */
      forbidden: z.array(z.string()).default(['.env', '.env.*', 'logs/**']),
      /** Per-ticket overrides, matched by ticket id glob. */
      tickets: z
        .array(
          z.strictObject({
            ticket: z.string().min(1),
            modify: z.array(z.string()).optional(),
            readonly: z.array(z.string()).optional(),
            forbidden: z.array(z.string()).optional(),
          }),
        )
        .default([]),
    })
    .prefault({})
    .describe('File scope of the Worker: repo-relative globs it may modify, may only read, must not touch; per-ticket overrides.'),
  risk: z
    .strictObject({
      rules: z
        .array(z.strictObject({ pattern: z.string().min(1), level: riskLevel }))
        .default([
          { pattern: '**/core/**', level: 'HIGH' },
          { pattern: '**/*pnl*', level: 'CRIT' },
          { pattern: '**/*profit*', level: 'CRIT' },
        ]),
      default: riskLevel.default('MED'),
      /** The Auditor is required at or above this level. */
      auditorAt: riskLevel.default('HIGH'),
      /**
       * Words in the ticket's and its ACs' text that raise the level (spec §7-1: engine core →
       * HIGH, PnL / profit logic → CRIT). Case-insensitive; ASCII words match whole words (an
       * optional plural `s`), others anywhere. A level given here replaces that level's defaults.
       */
      words: z
        .strictObject({
          LOW: z.array(z.string().min(1)).default([]),
          MED: z.array(z.string().min(1)).default([]),
          HIGH: z.array(z.string().min(1)).default(['engine core', 'fee', 'slippage', 'order', 'migration', 'auth', 'authentication', 'authorization', 'secret', 'credential', '엔진 코어', '수수료', '슬리피지', '주문', '인증', '마이그레이션', '비밀']),
          CRIT: z.array(z.string().min(1)).default(['PnL', 'P&L', 'profit', '수익', '손익']),
        })
        .prefault({}),
      /** A plan that may modify more files than this is one level riskier. */
      largeScope: z.number().int().positive().default(30),
    })
    .prefault({})
    .describe('Risk level of a plan: profit tickets, words in the ticket text, path rules on the files it may modify, the size of its scope; the Auditor is called at or above auditorAt.'),
  gate: z
    .strictObject({
      runIn: z.enum(['container', 'host']).default('container'),
      stages: z.array(stageSchema).default([
        { name: 'doctor', command: ['python3', '-m', 'pytest', '--collect-only', '-q'], timeoutSeconds: 300 },
        { name: 'fast', command: ['python3', '-m', 'pytest', '-q', '-x', '-m', 'not slow'], timeoutSeconds: 600 },
        { name: 'regression', command: ['python3', '-m', 'pytest', '-q'], timeoutSeconds: 1200 },
      ]),
      cache: z.strictObject({ enabled: z.boolean().default(true) }).prefault({}),
    })
    .prefault({})
    .describe('The Gate: stages run in order (doctor, fast, regression) after the preflight guards; runIn "container" keeps untrusted code off the host.'),
  guards: z.array(guardSchema).default([
    { name: 'Welding', command: ['python3', 'scripts/check_no_duplicate_pnl.py'], timeoutSeconds: 120, kind: 'preflight' },
    { name: 'Engine-Centric', command: ['python3', 'scripts/check_engine_centricity.py'], timeoutSeconds: 120, kind: 'preflight' },
  ]).describe('Guard scripts: preflight guards fail the Gate fast (exit code != 0); docops guards block the commit.'),
  docops: z
    .strictObject({
      /** Tokens that must never appear in the scanned documents. */
      forbiddenTokens: z.array(z.string()).default([]),
      /** Paths (globs) where a forbidden token is tolerated. */
      allowlist: z.array(z.string()).default([]),
      /** strict: any hit fails; otherwise hits are warnings. */
      strict: z.boolean().default(true),
      include: z.array(z.string()).default(['**/*.md']),
    })
    .prefault({})
    .describe('DocOps token scan: forbidden tokens in documents, with an allowlist.'),
  worker: z
    .strictObject({
      image: z.string().min(1).default('agentic-factory/worker:bookworm'),
      /**
       * Run every ticket on this agent, whatever the routing table says (recorded as an override).
       * Unset (the default): `routing` picks the agent and model by risk.
       */
      agent: z.string().min(1).optional(),
      user: z.string().regex(/^\d+:\d+$/).default('1000:1000'),
      memoryMb: z.number().int().min(64).default(2048),
      cpus: z.number().positive().default(1),
      pidsLimit: z.number().int().min(16).default(256),
      tmpfsMb: z.number().int().min(8).default(256),
      /** Cap on the staging copy's growth inside the container (MiB). */
      workspaceMb: z.number().int().min(8).default(1024),
      logCapMb: z.number().int().min(1).default(64),
    })
    .prefault({})
    .describe('The Worker container: image, agent, non-root user and resource limits.'),
  engine: engineSchema,
  agents: z.record(z.string(), agentSchema).default({}),
  killSwitch: z
    .strictObject({
      budgetUsd: z.number().positive().default(1.0),
      timeMinutes: z.number().positive().default(30),
      maxRetries: z.number().int().positive().default(3),
      escalateAfterFails: z.number().int().positive().default(2),
    })
    .prefault({})
    .describe('Kill switches: budget per cycle (USD), Worker time cap (minutes), retries before a ticket is BLOCKED, consecutive FAILs before the Auditor is called.'),
  auditor: z
    .strictObject({
      /** Every Auditor on this agent / model, whatever `routing` says (recorded as an override). */
      agent: z.string().min(1).optional(),
      model: z.string().min(1).optional(),
    })
    .prefault({})
    .describe('Overrides of the routed Auditor (agent, model); unset = routing.levels.<level>.auditor.'),
  routing: routingSchema,
  controller: z
    .strictObject({
      /** The Controller's own model (spec §6-1): unset = off, no model is asked. */
      model: z.string().min(1).optional(),
      /** Whose API serves `model`; inferred from its name (claude-… / gpt-…, o3… / gemini-…) when unset. */
      provider: z.enum(['anthropic', 'openai', 'gemini']).optional(),
      /** Most the Controller model may spend per cycle (USD); it also stays within the cycle budget. */
      maxUsd: z.number().nonnegative().default(0.05),
    })
    .prefault({})
    .describe('Optional Controller model (off unless model is set): reviews the derived scope of each plan through the metered gateway, within maxUsd and the cycle budget.'),
  /** Model id → USD per million tokens; merged over the built-in dated price table. */
  prices: z.record(z.string(), priceSchema).default({}),
  gateway: z
    .strictObject({
      /** Provider → upstream base URL (override for tests and corporate proxies). */
      upstreams: z.record(z.string(), z.url()).default({}),
    })
    .prefault({}),
  evidence: z
    .strictObject({
      /** Ticket id globs whose evidence must include pnl_breakdown.json. */
      profitTickets: z.array(z.string()).default([]),
    })
    .prefault({}),
  git: z
    .strictObject({
      commit: z.boolean().default(true),
      push: z.boolean().default(false),
    })
    .prefault({}),
});

/** The config as read from disk (all optional). */
export type FactoryConfigInput = z.input<typeof configSchema>;
/** The config with every default applied. */
export type FactoryConfig = z.output<typeof configSchema>;
export type GuardConfig = z.output<typeof guardSchema>;
export type StageConfig = z.output<typeof stageSchema>;
export type AgentConfig = z.output<typeof agentSchema>;

/** The config a workspace with no `.factory/config.json` gets. */
export function defaultConfig(): FactoryConfig {
  return configSchema.parse({});
}
