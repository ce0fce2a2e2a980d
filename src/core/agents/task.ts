import { z } from 'zod';

/**
 * worker-task.json (Controller → Worker runtime), next to plan.json: what the runtime needs beyond
 * the plan — the ACs' text and the rules document for the prompt, the agent to run and the local
 * gate stages. Written by the Controller, read inside the container.
 */
export const workerTaskSchema = z.strictObject({
  schema_version: z.literal(1),
  acceptanceCriteria: z.array(z.strictObject({ id: z.string().min(1).max(200), text: z.string().max(20_000) })).max(500).default([]),
  /** The rules document's text (docs/v2/SSOT_RULES.md), capped. */
  rules: z.string().max(200_000).default(''),
  rulesPath: z.string().max(1000).optional(),
  agent: z.strictObject({
    name: z.string().min(1).max(100),
    model: z.string().max(200).optional(),
    args: z.array(z.string().max(10_000)).max(200).default([]),
    maxTurns: z.number().int().positive().optional(),
    budgetUsd: z.number().positive().optional(),
    command: z.array(z.string()).min(1).optional(),
    /** Container path of the replay file (agent `replay`). */
    replayFile: z.string().optional(),
    /** The agent's own time cap inside the container (the host's container cap is the hard one). */
    timeoutSeconds: z.number().positive().optional(),
  }),
  gate: z
    .strictObject({
      stages: z.array(z.strictObject({ name: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/), command: z.array(z.string()).min(1), timeoutSeconds: z.number().positive().default(600) })).default([]),
    })
    .prefault({}),
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
  agent: z.string().max(100),
  outcome: z.enum(['success', 'max_turns', 'budget_exceeded', 'auth_error', 'rate_limited', 'timeout', 'killed', 'agent_error', 'unknown']),
  model: z.string().max(200).optional(),
  numTurns: z.number().int().nonnegative().optional(),
  usage: z.strictObject({ inputTokens: z.number().nonnegative(), cachedInputTokens: z.number().nonnegative(), cacheWriteTokens: z.number().nonnegative(), outputTokens: z.number().nonnegative() }),
  costUsd: z.number().nonnegative().optional(),
  costSource: z.enum(['gateway', 'reported', 'computed', 'unknown']),
  errors: z.array(z.string().max(2000)).max(50),
  warnings: z.array(z.string().max(2000)).max(50),
  finalText: z.string().max(20_000).optional(),
  exitCode: z.number().int().nullable(),
  durationMs: z.number().nonnegative(),
  gate: z.record(z.string().max(64), z.enum(['PASS', 'FAIL', 'SKIPPED'])),
});
export type AgentReport = z.output<typeof agentReportSchema>;
