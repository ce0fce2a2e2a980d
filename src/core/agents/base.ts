import { PriceTable, ZERO_USAGE, addUsage, type TokenUsage } from '../config/prices';
import type { AgentExit, AgentOutcome, AgentResult, CostSource, ModelUsage } from './types';

/**
 * Settles the outcome when the process itself says more than its output: the runner's own time
 * cap and kill come first (the output of a killed agent is incomplete by definition), then what
 * the output said, then the exit code.
 */
export function settleOutcome(fromOutput: AgentOutcome | undefined, exit: AgentExit, errorHint?: AgentOutcome): AgentOutcome {
  if (exit.timedOut) return 'timeout';
  if (exit.killed) return errorHint === 'auth_error' || errorHint === 'rate_limited' || errorHint === 'budget_exceeded' ? errorHint : 'killed';
  if (fromOutput) return fromOutput;
  if (errorHint) return errorHint;
  if (exit.code === 0) return 'success';
  if (exit.signal || exit.code === 130 || exit.code === 137 || exit.code === 143) return 'killed';
  if (exit.code === null) return 'unknown';
  return 'agent_error';
}

/** Sum of per-model usages. */
export function totalUsage(perModel: Record<string, ModelUsage>): TokenUsage {
  let u: TokenUsage = { ...ZERO_USAGE };
  for (const m of Object.values(perModel)) u = addUsage(u, m);
  return u;
}

/**
 * Cost from the price table for agents that report none (Codex, Gemini): `computed` when every
 * model with tokens has a price, otherwise `unknown` with a warning (the gateway figure decides).
 */
export function computeCost(perModel: Record<string, ModelUsage>, prices: PriceTable, warnings: string[]): { costUsd: number | undefined; costSource: CostSource } {
  let cost = 0;
  for (const [model, u] of Object.entries(perModel)) {
    const tokens = u.inputTokens + u.cachedInputTokens + u.cacheWriteTokens + u.outputTokens;
    if (tokens === 0) continue;
    const price = prices.lookup(model);
    if (!price) {
      warnings.push(`model '${model}' has no price: cost comes from the gateway only`);
      return { costUsd: undefined, costSource: 'unknown' };
    }
    cost += PriceTable.cost(u, price);
  }
  return { costUsd: cost, costSource: Object.keys(perModel).length ? 'computed' : 'unknown' };
}

/** An empty result to fill in. */
export function emptyResult(agent: string): AgentResult {
  return { agent, outcome: 'unknown', usage: { ...ZERO_USAGE }, perModel: {}, costUsd: undefined, costSource: 'unknown', errors: [], warnings: [] };
}

/** Keep error lists readable: at most `max` entries, each at most 500 characters. */
export function pushCapped(list: string[], message: string, max = 20): void {
  if (list.length < max) list.push(message.length > 500 ? message.slice(0, 500) + '…' : message);
}
