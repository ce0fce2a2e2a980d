import type { Tier } from '../contracts/tiers';
import type { Price } from './schema';

/**
 * The built-in price table: model id → USD per million tokens. Dated because providers change
 * prices; `.factory/config.json` → `prices` overrides any entry (merged per model id).
 * Figures are the providers' published list prices for standard (non-batch, ≤200k context) use.
 * `tier` places each model in the cost gate's tiers (routing, escalation, the CRIT Auditor check).
 */
export const BUILTIN_PRICES_DATE = '2025-11-01';

export const BUILTIN_PRICES: Readonly<Record<string, Price>> = {
  // Anthropic: cache reads bill at 0.1× input, 5-minute cache writes at 1.25× input.
  'claude-opus-4-5': { inputPerMTok: 5, outputPerMTok: 25, cachedInputPerMTok: 0.5, cacheWritePerMTok: 6.25, tier: 'premium' },
  'claude-opus-4-1': { inputPerMTok: 15, outputPerMTok: 75, cachedInputPerMTok: 1.5, cacheWritePerMTok: 18.75, tier: 'premium' },
  'claude-opus-4': { inputPerMTok: 15, outputPerMTok: 75, cachedInputPerMTok: 1.5, cacheWritePerMTok: 18.75, tier: 'premium' },
  'claude-sonnet-4-5': { inputPerMTok: 3, outputPerMTok: 15, cachedInputPerMTok: 0.3, cacheWritePerMTok: 3.75, tier: 'standard' },
  'claude-sonnet-4': { inputPerMTok: 3, outputPerMTok: 15, cachedInputPerMTok: 0.3, cacheWritePerMTok: 3.75, tier: 'standard' },
  'claude-3-7-sonnet': { inputPerMTok: 3, outputPerMTok: 15, cachedInputPerMTok: 0.3, cacheWritePerMTok: 3.75, tier: 'standard' },
  'claude-haiku-4-5': { inputPerMTok: 1, outputPerMTok: 5, cachedInputPerMTok: 0.1, cacheWritePerMTok: 1.25, tier: 'economy' },
  'claude-3-5-haiku': { inputPerMTok: 0.8, outputPerMTok: 4, cachedInputPerMTok: 0.08, cacheWritePerMTok: 1, tier: 'economy' },
  // OpenAI: cached input tokens are a subset of prompt tokens, billed at the cached rate.
  'gpt-5': { inputPerMTok: 1.25, outputPerMTok: 10, cachedInputPerMTok: 0.125, tier: 'premium' },
  'gpt-5-codex': { inputPerMTok: 1.25, outputPerMTok: 10, cachedInputPerMTok: 0.125, tier: 'standard' },
  'gpt-5-mini': { inputPerMTok: 0.25, outputPerMTok: 2, cachedInputPerMTok: 0.025, tier: 'economy' },
  'gpt-5-nano': { inputPerMTok: 0.05, outputPerMTok: 0.4, cachedInputPerMTok: 0.005, tier: 'economy' },
  'gpt-4.1': { inputPerMTok: 2, outputPerMTok: 8, cachedInputPerMTok: 0.5, tier: 'standard' },
  'gpt-4.1-mini': { inputPerMTok: 0.4, outputPerMTok: 1.6, cachedInputPerMTok: 0.1, tier: 'economy' },
  'gpt-4o': { inputPerMTok: 2.5, outputPerMTok: 10, cachedInputPerMTok: 1.25, tier: 'standard' },
  'gpt-4o-mini': { inputPerMTok: 0.15, outputPerMTok: 0.6, cachedInputPerMTok: 0.075, tier: 'economy' },
  'o3': { inputPerMTok: 2, outputPerMTok: 8, cachedInputPerMTok: 0.5, tier: 'premium' },
  'o4-mini': { inputPerMTok: 1.1, outputPerMTok: 4.4, cachedInputPerMTok: 0.275, tier: 'economy' },
  // Google: thinking tokens bill as output; prices for prompts ≤ 200k tokens.
  'gemini-2.5-pro': { inputPerMTok: 1.25, outputPerMTok: 10, cachedInputPerMTok: 0.31, tier: 'standard' },
  'gemini-2.5-flash': { inputPerMTok: 0.3, outputPerMTok: 2.5, cachedInputPerMTok: 0.075, tier: 'economy' },
  'gemini-2.5-flash-lite': { inputPerMTok: 0.1, outputPerMTok: 0.4, cachedInputPerMTok: 0.025, tier: 'economy' },
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
  /** Tiers of overridden ids whose override gives none: the built-in entry's. */
  private readonly inheritedTiers: Map<string, Tier>;

  constructor(entries: Record<string, Price>, inheritedTiers: Record<string, Tier> = {}) {
    this.table = new Map(Object.entries(entries));
    this.inheritedTiers = new Map(Object.entries(inheritedTiers));
  }

  /**
   * Built-in defaults with the config's `prices` merged over them (config wins per model id; an
   * override without a `tier` keeps the built-in tier of that model: only its rates change).
   */
  static withOverrides(overrides: Record<string, Price> = {}): PriceTable {
    const inherited: Record<string, Tier> = {};
    for (const [id, price] of Object.entries(overrides)) {
      const builtinTier = Object.prototype.hasOwnProperty.call(BUILTIN_PRICES, id) ? BUILTIN_PRICES[id]?.tier : undefined;
      if (price.tier === undefined && builtinTier) inherited[id] = builtinTier;
    }
    return new PriceTable({ ...BUILTIN_PRICES, ...overrides }, inherited);
  }

  /**
   * The price of `model`: exact id first, then the longest known id that the model id starts with
   * followed by `-` or `@` (date / version suffixes), after stripping a `models/` or provider prefix.
   */
  lookup(model: string): Price | undefined {
    const key = this.keyOf(model);
    return key === undefined ? undefined : this.table.get(key);
  }

  /** Whether `model` has a price (same matching as `lookup`). */
  has(model: string): boolean {
    return this.keyOf(model) !== undefined;
  }

  /** The cost-gate tier of `model` (its price entry's `tier`), or undefined when it has none. */
  tierOf(model: string): Tier | undefined {
    const key = this.keyOf(model);
    return key === undefined ? undefined : (this.table.get(key)?.tier ?? this.inheritedTiers.get(key));
  }

  /** The table id `model` is priced under (see `lookup`). */
  private keyOf(model: string): string | undefined {
    const id = model.replace(/^models\//, '').replace(/^(anthropic|openai|google|gemini)\//, '');
    if (this.table.has(id)) return id;
    let best: string | undefined;
    for (const known of this.table.keys()) {
      if ((id.startsWith(known + '-') || id.startsWith(known + '@')) && (!best || known.length > best.length)) best = known;
    }
    return best;
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
