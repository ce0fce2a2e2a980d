import type { Price } from './schema';

/**
 * The built-in price table: model id → USD per million tokens. Dated because providers change
 * prices; `.factory/config.json` → `prices` overrides any entry (merged per model id).
 * Figures are the providers' published list prices for standard (non-batch, ≤200k context) use.
 */
export const BUILTIN_PRICES_DATE = '2025-11-01';

export const BUILTIN_PRICES: Readonly<Record<string, Price>> = {
  // Anthropic: cache reads bill at 0.1× input, 5-minute cache writes at 1.25× input.
  'claude-opus-4-5': { inputPerMTok: 5, outputPerMTok: 25, cachedInputPerMTok: 0.5, cacheWritePerMTok: 6.25 },
  'claude-opus-4-1': { inputPerMTok: 15, outputPerMTok: 75, cachedInputPerMTok: 1.5, cacheWritePerMTok: 18.75 },
  'claude-opus-4': { inputPerMTok: 15, outputPerMTok: 75, cachedInputPerMTok: 1.5, cacheWritePerMTok: 18.75 },
  'claude-sonnet-4-5': { inputPerMTok: 3, outputPerMTok: 15, cachedInputPerMTok: 0.3, cacheWritePerMTok: 3.75 },
  'claude-sonnet-4': { inputPerMTok: 3, outputPerMTok: 15, cachedInputPerMTok: 0.3, cacheWritePerMTok: 3.75 },
  'claude-3-7-sonnet': { inputPerMTok: 3, outputPerMTok: 15, cachedInputPerMTok: 0.3, cacheWritePerMTok: 3.75 },
  'claude-haiku-4-5': { inputPerMTok: 1, outputPerMTok: 5, cachedInputPerMTok: 0.1, cacheWritePerMTok: 1.25 },
  'claude-3-5-haiku': { inputPerMTok: 0.8, outputPerMTok: 4, cachedInputPerMTok: 0.08, cacheWritePerMTok: 1 },
  // OpenAI: cached input tokens are a subset of prompt tokens, billed at the cached rate.
  'gpt-5': { inputPerMTok: 1.25, outputPerMTok: 10, cachedInputPerMTok: 0.125 },
  'gpt-5-codex': { inputPerMTok: 1.25, outputPerMTok: 10, cachedInputPerMTok: 0.125 },
  'gpt-5-mini': { inputPerMTok: 0.25, outputPerMTok: 2, cachedInputPerMTok: 0.025 },
  'gpt-5-nano': { inputPerMTok: 0.05, outputPerMTok: 0.4, cachedInputPerMTok: 0.005 },
  'gpt-4.1': { inputPerMTok: 2, outputPerMTok: 8, cachedInputPerMTok: 0.5 },
  'gpt-4.1-mini': { inputPerMTok: 0.4, outputPerMTok: 1.6, cachedInputPerMTok: 0.1 },
  'gpt-4o': { inputPerMTok: 2.5, outputPerMTok: 10, cachedInputPerMTok: 1.25 },
  'gpt-4o-mini': { inputPerMTok: 0.15, outputPerMTok: 0.6, cachedInputPerMTok: 0.075 },
  'o3': { inputPerMTok: 2, outputPerMTok: 8, cachedInputPerMTok: 0.5 },
  'o4-mini': { inputPerMTok: 1.1, outputPerMTok: 4.4, cachedInputPerMTok: 0.275 },
  // Google: thinking tokens bill as output; prices for prompts ≤ 200k tokens.
  'gemini-2.5-pro': { inputPerMTok: 1.25, outputPerMTok: 10, cachedInputPerMTok: 0.31 },
  'gemini-2.5-flash': { inputPerMTok: 0.3, outputPerMTok: 2.5, cachedInputPerMTok: 0.075 },
  'gemini-2.5-flash-lite': { inputPerMTok: 0.1, outputPerMTok: 0.4, cachedInputPerMTok: 0.025 },
};

/** Token counts of one request or run, split the way providers bill them. */
export interface TokenUsage {
  /** Prompt tokens billed at the full input rate (excludes cached reads and cache writes). */
  inputTokens: number;
  /** Prompt tokens served from the provider's cache. */
  cachedInputTokens: number;
  /** Prompt tokens written to the provider's cache (Anthropic). */
  cacheWriteTokens: number;
  /** Completion tokens, reasoning/thinking tokens included. */
  outputTokens: number;
}

export const ZERO_USAGE: Readonly<TokenUsage> = { inputTokens: 0, cachedInputTokens: 0, cacheWriteTokens: 0, outputTokens: 0 };

/** Sum of two usages (new object). */
export function addUsage(a: TokenUsage, b: TokenUsage): TokenUsage {
  return {
    inputTokens: a.inputTokens + b.inputTokens,
    cachedInputTokens: a.cachedInputTokens + b.cachedInputTokens,
    cacheWriteTokens: a.cacheWriteTokens + b.cacheWriteTokens,
    outputTokens: a.outputTokens + b.outputTokens,
  };
}

/** A price table with lookup that tolerates dated model ids (`claude-sonnet-4-5-20250929`). */
export class PriceTable {
  private readonly table: Map<string, Price>;

  constructor(entries: Record<string, Price>) {
    this.table = new Map(Object.entries(entries));
  }

  /** Built-in defaults with the config's `prices` merged over them (config wins per model id). */
  static withOverrides(overrides: Record<string, Price> = {}): PriceTable {
    return new PriceTable({ ...BUILTIN_PRICES, ...overrides });
  }

  /**
   * The price of `model`: exact id first, then the longest known id that the model id starts with
   * followed by `-` or `@` (date / version suffixes), after stripping a `models/` or provider prefix.
   */
  lookup(model: string): Price | undefined {
    const id = model.replace(/^models\//, '').replace(/^(anthropic|openai|google|gemini)\//, '');
    const exact = this.table.get(id);
    if (exact) return exact;
    let best: [string, Price] | undefined;
    for (const [known, price] of this.table) {
      if ((id.startsWith(known + '-') || id.startsWith(known + '@')) && (!best || known.length > best[0].length)) best = [known, price];
    }
    return best?.[1];
  }

  /** The most expensive entry: used to price an unknown model conservatively for the budget. */
  ceiling(): Price {
    let top: Price = { inputPerMTok: 0, outputPerMTok: 0 };
    for (const p of this.table.values()) if (p.inputPerMTok + p.outputPerMTok > top.inputPerMTok + top.outputPerMTok) top = p;
    return top;
  }

  /** USD cost of `usage` at `price` (cached/cache-write rates default to the input rate). */
  static cost(usage: TokenUsage, price: Price): number {
    const usd =
      usage.inputTokens * price.inputPerMTok +
      usage.cachedInputTokens * (price.cachedInputPerMTok ?? price.inputPerMTok) +
      usage.cacheWriteTokens * (price.cacheWritePerMTok ?? price.inputPerMTok) +
      usage.outputTokens * price.outputPerMTok;
    return usd / 1_000_000;
  }
}
