// zod/mini: parsed inside every Worker container (see contracts/plan.ts).
import * as z from 'zod/mini';

/**
 * worker-task.json (Controller → Worker runtime), next to plan.json: what the runtime needs beyond
 * the plan — the ACs' text and the rules document for the prompt, the agent to run and the local
 * gate stages. Written by the Controller, read inside the container.
 */
export const workerTaskSchema = z.strictObject({
  schema_version: z.literal(1),
  /** Whose prompt the runtime writes: the Worker's (default) or the read-only Auditor's. */
  role: z.optional(z.enum(['worker', 'auditor'])),
  acceptanceCriteria: z._default(z.array(z.strictObject({ id: z.string().check(z.minLength(1), z.maxLength(200)), text: z.string().check(z.maxLength(20_000)) })).check(z.maxLength(500)), []),
  /** The rules document's text (docs/v2/SSOT_RULES.md), capped. */
  rules: z._default(z.string().check(z.maxLength(200_000)), ''),
  rulesPath: z.optional(z.string().check(z.maxLength(1000))),
  agent: z.strictObject({
    name: z.string().check(z.minLength(1), z.maxLength(100)),
    model: z.optional(z.string().check(z.maxLength(200))),
    args: z._default(z.array(z.string().check(z.maxLength(10_000))).check(z.maxLength(200)), []),
    maxTurns: z.optional(z.int().check(z.positive())),
    budgetUsd: z.optional(z.number().check(z.positive())),
    command: z.optional(z.array(z.string()).check(z.minLength(1))),
    /** Container path of the replay file (agent `replay`). */
    replayFile: z.optional(z.string()),
    /** The agent's own time cap inside the container (the host's container cap is the hard one). */
    timeoutSeconds: z.optional(z.number().check(z.positive())),
  }),
  /** "Request changes" on the previous attempt (issue 20): the prompt's "Review comments from the previous attempt". */
  reviewComments: z.optional(
    z.strictObject({
      comment: z.string().check(z.maxLength(20_000)),
      lines: z.array(z.strictObject({ path: z.string().check(z.minLength(1), z.maxLength(1000)), line: z.int().check(z.positive()), body: z.string().check(z.maxLength(10_000)) })).check(z.maxLength(200)),
      /** The run whose changeset the comments are on. */
      runId: z.optional(z.string().check(z.maxLength(200))),
    }),
  ),
  gate: z.prefault(
    z.strictObject({
      stages: z._default(z.array(z.strictObject({ name: z.string().check(z.regex(/^[A-Za-z0-9_-]{1,64}$/)), command: z.array(z.string()).check(z.minLength(1)), timeoutSeconds: z._default(z.number().check(z.positive()), 600) })), []),
    }),
    {},
  ),
});
export type WorkerTask = z.output<typeof workerTaskSchema>;
export type WorkerTaskInput = z.input<typeof workerTaskSchema>;

/** Fixed paths inside the container for the agent runtime (besides the sandbox's own). */
export const AGENT_PATHS = {
  /** Read-only: worker-task.json, worker.js (the runtime), replay.json. */
  taskDir: '/factory/task',
  task: '/factory/task/worker-task.json',
  runtime: '/factory/task/worker.js',
  replay: '/factory/task/replay.json',
  /** Read-only: the gateway's Unix socket. */
  gatewayDir: '/factory/gateway',
  gatewaySocket: '/factory/gateway/gateway.sock',
  /** Writable: the agent's raw output, prompt, gate log, agent-result.json. */
  agentOut: '/factory/agent',
} as const;

/** agent-result.json (runtime → Controller): informational, untrusted; the gateway's figures win. */
export const agentReportSchema = z.strictObject({
  agent: z.string().check(z.maxLength(100)),
  outcome: z.enum(['success', 'max_turns', 'budget_exceeded', 'auth_error', 'rate_limited', 'timeout', 'killed', 'agent_error', 'unknown']),
  model: z.optional(z.string().check(z.maxLength(200))),
  numTurns: z.optional(z.int().check(z.nonnegative())),
  usage: z.strictObject({ inputTokens: z.number().check(z.nonnegative()), cachedInputTokens: z.number().check(z.nonnegative()), cacheWriteTokens: z.number().check(z.nonnegative()), outputTokens: z.number().check(z.nonnegative()) }),
  costUsd: z.optional(z.number().check(z.nonnegative())),
  costSource: z.enum(['gateway', 'reported', 'computed', 'unknown']),
  errors: z.array(z.string().check(z.maxLength(2000))).check(z.maxLength(50)),
  warnings: z.array(z.string().check(z.maxLength(2000))).check(z.maxLength(50)),
  finalText: z.optional(z.string().check(z.maxLength(20_000))),
  exitCode: z.nullable(z.int()),
  /** The runtime's whole run, from its start to this report. */
  durationMs: z.number().check(z.nonnegative()),
  /** Of that, the agent process and the Worker's own gate commands: the part that is not the runtime's. */
  agentMs: z.optional(z.number().check(z.nonnegative())),
  gate: z.record(z.string().check(z.maxLength(64)), z.enum(['PASS', 'FAIL', 'SKIPPED'])),
});
export type AgentReport = z.output<typeof agentReportSchema>;
