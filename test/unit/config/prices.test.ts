import * as assert from 'node:assert/strict';
import { BUILTIN_PRICES, BUILTIN_PRICES_DATE, PriceTable } from '../../../src/core/config/prices';
import { configSchema } from '../../../src/core/config/schema';

describe('price table', () => {
  it('is dated, and config.prices override per model id while the rest of the defaults stay', () => {
    assert.match(BUILTIN_PRICES_DATE, /^\d{4}-\d{2}-\d{2}$/);
    const config = configSchema.parse({ prices: { 'claude-sonnet-4-5': { inputPerMTok: 1, outputPerMTok: 2 }, 'my-model': { inputPerMTok: 0.5, outputPerMTok: 1 } } });
    const t = PriceTable.withOverrides(config.prices);
    assert.deepEqual(t.lookup('claude-sonnet-4-5'), { inputPerMTok: 1, outputPerMTok: 2 });
    assert.deepEqual(t.lookup('my-model'), { inputPerMTok: 0.5, outputPerMTok: 1 });
    assert.deepEqual(t.lookup('gpt-5'), BUILTIN_PRICES['gpt-5']);
  });

  it('finds dated and prefixed model ids, preferring the longest known prefix', () => {
    const t = PriceTable.withOverrides();
    assert.deepEqual(t.lookup('claude-sonnet-4-5-20250929'), BUILTIN_PRICES['claude-sonnet-4-5']);
    assert.deepEqual(t.lookup('anthropic/claude-haiku-4-5'), BUILTIN_PRICES['claude-haiku-4-5']);
    assert.deepEqual(t.lookup('models/gemini-2.5-flash'), BUILTIN_PRICES['gemini-2.5-flash']);
    assert.deepEqual(t.lookup('gemini-2.5-flash-lite-001'), BUILTIN_PRICES['gemini-2.5-flash-lite'], 'longest prefix wins over gemini-2.5-flash');
    assert.deepEqual(t.lookup('gpt-5-mini-2025-08-07'), BUILTIN_PRICES['gpt-5-mini']);
    assert.equal(t.lookup('gpt-50'), undefined, 'a prefix must end at a separator');
    assert.equal(t.lookup('unknown'), undefined);
  });

  it('prices each token class at its own rate (cached and cache-write default to the input rate)', () => {
    const usage = { inputTokens: 1_000_000, cachedInputTokens: 2_000_000, cacheWriteTokens: 100_000, outputTokens: 10_000 };
    assert.ok(Math.abs(PriceTable.cost(usage, { inputPerMTok: 3, outputPerMTok: 15, cachedInputPerMTok: 0.3, cacheWritePerMTok: 3.75 }) - (3 + 0.6 + 0.375 + 0.15)) < 1e-12);
    assert.ok(Math.abs(PriceTable.cost(usage, { inputPerMTok: 2, outputPerMTok: 8 }) - (2 + 4 + 0.2 + 0.08)) < 1e-12);
    // Claude Code's own figure for 1,000 in + 500 out on claude-sonnet-4-5 (TESTING.md): 0.0105.
    assert.ok(Math.abs(PriceTable.cost({ inputTokens: 1000, cachedInputTokens: 0, cacheWriteTokens: 0, outputTokens: 500 }, PriceTable.withOverrides().lookup('claude-sonnet-4-5')!) - 0.0105) < 1e-15);
  });

  it('the ceiling is the most expensive entry (used for unpriced models so the budget still holds)', () => {
    const c = PriceTable.withOverrides({ huge: { inputPerMTok: 100, outputPerMTok: 100 } }).ceiling();
    assert.deepEqual(c, { inputPerMTok: 100, outputPerMTok: 100 });
  });
});
