// zod/mini: read by the replay player inside the Worker container (see contracts/plan.ts).
import * as z from 'zod/mini';
import { emptyResult, pushCapped, settleOutcome } from './base';
import { LineSplitter, classifyMessage, num, obj, parseJsonLine, str } from './lines';
import type { PriceTable } from '../config/prices';
import type { AgentAdapter, AgentExit, AgentOutcome, AgentParser, AgentResult, AgentRunSpec, Invocation } from './types';
import { FactoryError } from '../util/errors';
import { PROVIDERS } from '../gateway/usage';

/**
 * A replay file: recorded steps applied in order, deterministic. Writes are relative to the
 * working directory and NOT confined on purpose: the replay agent also plays hostile Workers in
 * the adversarial tests, and the container (not the agent) is what contains it.
 */
export const replayStep = z.discriminatedUnion('op', [
  z.strictObject({ op: z.literal('write'), path: z.string().check(z.minLength(1)), content: z.string() }),
  z.strictObject({ op: z.literal('append'), path: z.string().check(z.minLength(1)), content: z.string() }),
  z.strictObject({ op: z.literal('replace'), path: z.string().check(z.minLength(1)), find: z.string().check(z.minLength(1)), replace: z.string() }),
  z.strictObject({ op: z.literal('delete'), path: z.string().check(z.minLength(1)) }),
  z.strictObject({ op: z.literal('mkdir'), path: z.string().check(z.minLength(1)) }),
  z.strictObject({ op: z.literal('symlink'), path: z.string().check(z.minLength(1)), target: z.string().check(z.minLength(1)) }),
  /** A model call through the gateway shim (exercises metering, budget and key handling). */
  z.strictObject({ op: z.literal('call'), provider: z.enum(PROVIDERS as [string, ...string[]]), path: z.string().check(z.startsWith('/')), body: z.record(z.string(), z.unknown()) }),
  z.strictObject({ op: z.literal('sleep'), ms: z.int().check(z.nonnegative()) }),
  z.strictObject({ op: z.literal('exit'), code: z.int().check(z.gte(0), z.lte(255)) }),
]);
export type ReplayStep = z.infer<typeof replayStep>;

export const replayFileSchema = z.strictObject({
  /** Free text for people (what this recording does). */
  description: z.optional(z.string()),
  steps: z.array(replayStep),
  /** The final message the agent "prints". */
  finalText: z.optional(z.string()),
});
export type ReplayFile = z.infer<typeof replayFileSchema>;

/**
 * `replay`: runs the worker runtime's own replay player (`node worker.js replay FILE`), which
 * prints one JSON line per step and a final `result` line. Used by tests and the demo, where no
 * real CLI is needed.
 */
export const replayAdapter: AgentAdapter = {
  name: 'replay',

  invocation(spec: AgentRunSpec): Invocation {
    if (!spec.replayFile) throw new FactoryError('the replay agent needs a replay file (--replay FILE / agents.replay.args)', 'agent_config');
    if (!spec.runtimeArgv?.length) throw new FactoryError('the replay agent runs inside the worker runtime', 'agent_config');
    // The routed model: a recording's `call` steps say "{{model}}" and are played on it.
    const env: Record<string, string> = { HOME: spec.homeDir, FACTORY_GATEWAY_URL: spec.gatewayUrl, ...(spec.model ? { FACTORY_REPLAY_MODEL: spec.model } : {}) };
    return { argv: [...spec.runtimeArgv, 'replay', spec.replayFile], env };
  },

  parser(_prices: PriceTable, model?: string): AgentParser {
    return new ReplayParser(model);
  },
};

class ReplayParser implements AgentParser {
  private readonly r: AgentResult = emptyResult('replay');
  private readonly lines = new LineSplitter((l) => this.line(l));
  private result: Record<string, unknown> | undefined;
  private callHint: AgentOutcome | undefined;
  private calls = 0;

  constructor(model?: string) {
    this.r.model = model;
  }

  push(chunk: string): void {
    this.lines.push(chunk);
  }

  private line(text: string): void {
    const o = parseJsonLine(text);
    if (!o) return;
    if (o.type === 'result') {
      this.result = o;
      return;
    }
    if (o.type === 'call') {
      this.calls++;
      const status = num(o.status);
      const u = obj(o.usage);
      if (u) {
        this.r.usage = {
          inputTokens: this.r.usage.inputTokens + num(u.inputTokens),
          cachedInputTokens: this.r.usage.cachedInputTokens + num(u.cachedInputTokens),
          cacheWriteTokens: this.r.usage.cacheWriteTokens + num(u.cacheWriteTokens),
          outputTokens: this.r.usage.outputTokens + num(u.outputTokens),
        };
      }
      if (status >= 400) {
        const message = `call ${str(o.provider) ?? ''}${str(o.path) ?? ''} → ${status} ${str(o.error) ?? ''}`.trim();
        pushCapped(this.r.errors, message);
        this.callHint = status === 402 ? 'budget_exceeded' : status === 401 || status === 403 ? 'auth_error' : status === 429 ? 'rate_limited' : (classifyMessage(message) ?? 'agent_error');
      }
    }
    if (o.type === 'error') pushCapped(this.r.errors, str(o.message) ?? 'replay error');
  }

  finish(exit: AgentExit): AgentResult {
    this.lines.end();
    this.r.numTurns = this.calls;
    this.r.finalText = str(this.result?.finalText);
    const fromOutput: AgentOutcome | undefined = this.callHint ?? (this.result && exit.code === 0 ? 'success' : undefined);
    this.r.outcome = settleOutcome(fromOutput, exit, this.callHint);
    return this.r;
  }
}
