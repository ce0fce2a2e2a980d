import { strict as assert } from 'node:assert';
import { ZERO_USAGE } from '../../../src/core/config/prices';
import { defaultConfig } from '../../../src/core/config/schema';
import { spendEntrySchema } from '../../../src/core/contracts/history-entry';
import { auditorBudget, costByRole, costLine, cycleBudget, sameModel, spendFromRecords, spentSoFar, spendTotal, tierOfModel, type BudgetInput, type CycleBudget } from '../../../src/core/cycle/spend';
import type { GatewayRecord } from '../../../src/core/gateway/gateway';

/** One gateway record: `model`, tokens in/out, cost; priced unless told. */
function rec(model: string | undefined, inTok: number, outTok: number, costUsd: number, over: Partial<GatewayRecord> = {}): GatewayRecord {
  return {
    time: '2026-12-05T10:00:00.000Z',
    provider: 'anthropic',
    method: 'POST',
    path: '/v1/messages',
    status: 200,
    ...(model ? { model } : {}),
    stream: true,
    usage: { ...ZERO_USAGE, inputTokens: inTok, outputTokens: outTok },
    costUsd,
    priced: true,
    durationMs: 5,
    ...over,
  };
}

describe('cycle budget: one budget, the Auditor reserve held back before the Worker (table)', () => {
  const gpt5 = { agent: 'codex', model: 'gpt-5' };
  const rows: { name: string; in: BudgetInput; want: CycleBudget }[] = [
    { name: 'no reserve, nothing spent: the Worker gets the whole budget', in: { budgetUsd: 1, controllerUsd: 0 }, want: { fits: true, workerUsd: 1 } },
    { name: 'no reserve, the Controller model spent: the Worker gets the rest', in: { budgetUsd: 1, controllerUsd: 0.12 }, want: { fits: true, workerUsd: 0.88 } },
    { name: 'the reserve fits: B − R', in: { budgetUsd: 1, controllerUsd: 0, reserveUsd: 0.1125, auditor: gpt5 }, want: { fits: true, workerUsd: 0.8875 } },
    { name: 'the Controller model spent and the reserve fits: B − c − R', in: { budgetUsd: 1, controllerUsd: 0.3, reserveUsd: 0.2, auditor: gpt5 }, want: { fits: true, workerUsd: 0.5 } },
    {
      name: 'the reserve alone exceeds the budget → does not fit',
      in: { budgetUsd: 1, controllerUsd: 0, reserveUsd: 1.5, auditor: gpt5 },
      want: { fits: false, workerUsd: 0, reason: "budget cap: the Auditor's reserve $1.5000 (codex gpt-5) does not fit the cycle budget $1.00" },
    },
    {
      name: 'exactly the budget left for the reserve (no float drift: 1 − 0.3 − 0.7 is 0) → does not fit',
      in: { budgetUsd: 1, controllerUsd: 0.3, reserveUsd: 0.7, auditor: gpt5 },
      want: { fits: false, workerUsd: 0, reason: "budget cap: the Auditor's reserve $0.7000 (codex gpt-5) does not fit the cycle budget $1.00 after $0.3000 spent" },
    },
    {
      name: 'the Controller model spent what the reserve needed → does not fit',
      in: { budgetUsd: 1, controllerUsd: 0.95, reserveUsd: 0.1, auditor: gpt5 },
      want: { fits: false, workerUsd: 0, reason: "budget cap: the Auditor's reserve $0.1000 (codex gpt-5) does not fit the cycle budget $1.00 after $0.9500 spent" },
    },
    { name: 'a zero reserve with the budget spent → does not fit (an Auditor needs money)', in: { budgetUsd: 1, controllerUsd: 1, reserveUsd: 0 }, want: { fits: false, workerUsd: 0, reason: "budget cap: the Auditor's reserve $0.0000 does not fit the cycle budget $1.00 after $1.0000 spent" } },
    { name: 'no Auditor and the Controller model spent it all: the Worker starts with 0 (the gateway refuses its first call)', in: { budgetUsd: 1, controllerUsd: 1.2 }, want: { fits: true, workerUsd: 0 } },
  ];
  for (const row of rows) it(row.name, () => assert.deepEqual(cycleBudget(row.in), row.want));

  it('the Auditor gets the rest: B − c − the Worker\'s metered spend (≥ the reserve when the Worker kept to its share)', () => {
    const b = cycleBudget({ budgetUsd: 1, controllerUsd: 0.1, reserveUsd: 0.25 });
    assert.ok(b.fits);
    // The Worker spent its whole share: exactly the reserve is left.
    assert.equal(auditorBudget(1, 0.1, b.workerUsd), 0.25);
    // It spent less: the Auditor gets the reserve and the Worker's savings.
    assert.equal(auditorBudget(1, 0.1, 0.2), 0.7);
    // Overspent by a call in flight: never negative.
    assert.equal(auditorBudget(1, 0.1, 1.3), 0);
  });
});

describe('cycle spend: history entries per role × model from a gateway\'s records', () => {
  const route = { agent: 'claude-code', model: 'claude-sonnet-4-5', tier: 'standard' };

  it('two models: one entry each, tokens (cached and cache writes count as input), requests and USD; the routed model carries the route\'s tier, the other the price table\'s', () => {
    const records = [
      rec('claude-sonnet-4-5-20250929', 1000, 500, 0.0105, { usage: { inputTokens: 1000, cachedInputTokens: 200, cacheWriteTokens: 100, outputTokens: 500 } }),
      rec('claude-haiku-4-5', 300, 20, 0.0004),
      rec('claude-sonnet-4-5-20250929', 2000, 100, 0.0075),
    ];
    const got = spendFromRecords('worker', route, records, tierOfModel(defaultConfig()));
    assert.deepEqual(got, [
      { role: 'worker', agent: 'claude-code', model: 'claude-sonnet-4-5-20250929', tier: 'standard', tokens: { in: 3300, out: 600 }, requests: 2, costUsd: 0.018, priced: true },
      { role: 'worker', agent: 'claude-code', model: 'claude-haiku-4-5', tier: 'economy', tokens: { in: 300, out: 20 }, requests: 1, costUsd: 0.0004, priced: true },
    ]);
    for (const e of got) assert.ok(spendEntrySchema.safeParse(e).success, 'a valid history spend entry');
    assert.equal(spendTotal(got), 0.0184);
  });

  it('an unpriced model: priced false (its cost is the ceiling the budget charged), never a silent $0', () => {
    const got = spendFromRecords('auditor', { agent: 'custom', model: 'my-model', tier: 'premium' }, [rec('my-model', 100, 10, 0.00075, { priced: false }), rec('my-model', 100, 10, 0.00075, { priced: false })]);
    assert.deepEqual(got, [{ role: 'auditor', agent: 'custom', model: 'my-model', tier: 'premium', tokens: { in: 200, out: 20 }, requests: 2, costUsd: 0.0015, priced: false }]);
    assert.match(costLine(0.0015, got, { agent: 'codex', model: 'gpt-5-mini' }, 'HIGH'), /auditor custom my-model unpriced \(\$0\.0015 charged\)/);
  });

  it('refused calls are no requests; no metered call, no entry; a record without a model is the route\'s', () => {
    assert.deepEqual(spendFromRecords('worker', route, [rec(undefined, 0, 0, 0, { refused: 'budget', status: 429 })]), []);
    assert.deepEqual(spendFromRecords('worker', route, []), []);
    const got = spendFromRecords('controller', { model: 'gpt-5' }, [rec(undefined, 10, 1, 0.001), rec(undefined, 0, 0, 0, { refused: 'no_key', status: 401 })]);
    assert.deepEqual(got, [{ role: 'controller', model: 'gpt-5', tokens: { in: 10, out: 1 }, requests: 1, costUsd: 0.001, priced: true }], 'no agent for the Controller model');
    // A route without a tier: the price table's tier of its model.
    assert.equal(spendFromRecords('controller', { model: 'gpt-5' }, [rec('gpt-5', 1, 1, 0)], tierOfModel(defaultConfig()))[0]?.tier, 'premium');
  });

  it('cost by role sums every model of a role; the dated model id is the routed one', () => {
    const entries = [
      { role: 'worker' as const, model: 'a', costUsd: 0.1 },
      { role: 'worker' as const, model: 'b', costUsd: 0.2 },
      { role: 'auditor' as const, model: 'c', costUsd: 0.05 },
    ];
    assert.deepEqual(costByRole(entries), { worker: 0.3, auditor: 0.05 });
    assert.ok(sameModel('claude-sonnet-4-5-20250929', 'claude-sonnet-4-5'));
    assert.ok(sameModel('gpt-5', 'gpt-5'));
    assert.ok(!sameModel('gpt-5-mini', 'gpt-5-mini-x') && !sameModel('gpt-50', 'gpt-5'));
  });

  it('the commit message\'s Cost line names each role\'s model and spend, and the Worker even when it metered nothing', () => {
    const entries = [
      { role: 'controller' as const, model: 'gpt-5-mini', costUsd: 0.001, priced: true },
      { role: 'worker' as const, agent: 'codex', model: 'gpt-5-mini', costUsd: 0.01, priced: true },
      { role: 'auditor' as const, agent: 'claude-code', model: 'claude-opus-4-5', costUsd: 0.2, priced: true },
    ];
    assert.equal(costLine(0.211, entries, { agent: 'codex', model: 'gpt-5-mini' }, 'HIGH'), 'Cost: $0.2110 (controller gpt-5-mini $0.0010; worker codex gpt-5-mini $0.0100; auditor claude-code claude-opus-4-5 $0.2000; risk HIGH)');
    assert.equal(costLine(0, [], { agent: 'replay', model: undefined }, 'LOW'), 'Cost: $0.0000 (worker replay $0.0000 metered; risk LOW)');
  });
});

describe('cycle spend: what an abandoned cycle records', () => {
  const w = { role: 'worker' as const, model: 'gpt-5-mini', costUsd: 0.01 };
  const a = { role: 'auditor' as const, model: 'gpt-5', costUsd: 0.05 };
  const c = { role: 'controller' as const, model: 'gpt-5-mini', costUsd: 0.001 };

  it('adds the Worker\'s and the Auditor\'s running spend while they were not yet persisted', () => {
    assert.deepEqual(spentSoFar([c], { workerSpend: () => [w] }), [c, w]);
    // Interrupted mid-audit: the Worker's spend was persisted with CHECK, the Auditor's was only running.
    assert.deepEqual(spentSoFar([c, w], { workerSpend: () => [w], auditorSpend: () => [a] }), [c, w, a]);
  });

  it('never counts a role twice once its spend was persisted', () => {
    assert.deepEqual(spentSoFar([c, w, a], { workerSpend: () => [w], auditorSpend: () => [a] }), [c, w, a]);
    assert.deepEqual(spentSoFar(undefined, {}), []);
  });
});
