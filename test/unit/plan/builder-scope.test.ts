import { strict as assert } from 'node:assert';
import { defaultConfig } from '../../../src/core/config/schema';
import { planSchema } from '../../../src/core/contracts/plan';
import { buildPlan } from '../../../src/core/plan/builder';
import type { DerivedScope } from '../../../src/core/plan/scope/scope-types';
import type { AcceptanceCriterion, SsotIndex } from '../../../src/core/ssot/model';
import { FactoryError } from '../../../src/core/util/errors';

const ac: AcceptanceCriterion = { id: 'P-1::AC-1', ticketId: 'P-1', localId: 'AC-1', title: 'quote() in `pkg.pricing`', status: 'OPEN', rawStatus: 'OPEN', source: { file: 'L.md', line: 1 } };
const index: SsotIndex = { phases: [], tickets: [{ id: 'P-1', title: 'P-1', status: 'OPEN', rawStatus: 'OPEN', acs: [ac], source: { file: 'R.md', line: 1 } }], ledger: [ac], diagnostics: [] };
const now = new Date('2026-12-05T10:00:00Z');

describe('plan builder with a derived scope (issue 15)', () => {
  it('takes the derived scope, writes its reasons into plan.json and keeps the SSOT documents forbidden', () => {
    const derived: DerivedScope = {
      scope: { modify: ['pkg/pricing.py', 'tests/test_pricing.py', 'D_ROADMAP.md'], readonly: ['pkg/fees.py'], forbidden: ['.env'] },
      reasons: {
        'pkg/pricing.py': ['named in P-1::AC-1 (pkg.pricing)'],
        'tests/test_pricing.py': ['test of pkg/pricing.py'],
        'pkg/fees.py': ['imported by pkg/pricing.py'],
        'D_ROADMAP.md': ['named in P-1::AC-1'],
        'gone/**': ['a reason for an entry the scope does not hold'],
      },
    };
    const { plan } = buildPlan(index, defaultConfig(), { files: ['pkg/pricing.py'], baseCommit: 'abcdef0', now, scope: derived });
    assert.deepEqual(plan.scope.modify, ['pkg/pricing.py', 'tests/test_pricing.py'], 'a forbidden SSOT document never stays modifiable');
    assert.deepEqual(plan.scope.readonly, ['pkg/fees.py']);
    for (const p of ['.env', 'D_ROADMAP.md', '.factory/**']) assert.ok(plan.scope.forbidden.includes(p), p);
    assert.deepEqual(plan.scope_reasons, {
      'pkg/pricing.py': ['named in P-1::AC-1 (pkg.pricing)'],
      'tests/test_pricing.py': ['test of pkg/pricing.py'],
      'pkg/fees.py': ['imported by pkg/pricing.py'],
      'D_ROADMAP.md': ['named in P-1::AC-1'],
    });
    assert.equal(plan.scope_fallback, undefined);
    // What the Worker reads back through the contract is the same plan.
    assert.deepEqual(planSchema.parse(JSON.parse(JSON.stringify(plan))), plan);
  });

  it('records the fallback (why and the setting) when nothing could be derived', () => {
    const setting = '"scope": { "tickets": [{ "ticket": "P-1", "modify": ["…"] }] }';
    const derived: DerivedScope = {
      scope: { modify: ['src/**', 'tests/**'], readonly: [], forbidden: ['.env', '.env.*', 'logs/**'] },
      reasons: { 'src/**': ['config default'], 'tests/**': ['config default'] },
      fallback: { why: 'nothing in P-1\'s text, history or plan documents names a repository file', setting },
    };
    const { plan } = buildPlan(index, defaultConfig(), { files: [], baseCommit: 'abcdef0', now, scope: derived });
    assert.deepEqual(plan.scope.modify, ['src/**', 'tests/**']);
    assert.deepEqual(plan.scope_fallback, derived.fallback);
    assert.deepEqual(planSchema.parse(JSON.parse(JSON.stringify(plan))), plan);
  });

  it('without a derived scope, plan.json is as before: the config scope, no reasons, no fallback', () => {
    const { plan } = buildPlan(index, defaultConfig(), { files: [], baseCommit: 'abcdef0', now });
    assert.deepEqual(plan.scope.modify, ['src/**', 'tests/**']);
    assert.ok(!('scope_reasons' in plan) && !('scope_fallback' in plan), JSON.stringify(plan));
  });

  it('an older plan.json without the new fields stays valid, and a derived path the validator refuses stops the plan (SEC-17)', () => {
    const { plan } = buildPlan(index, defaultConfig(), { files: [], baseCommit: 'abcdef0', now });
    assert.ok(planSchema.safeParse(JSON.parse(JSON.stringify(plan))).success);
    const bad: DerivedScope = { scope: { modify: ['../outside.py'], readonly: [], forbidden: [] }, reasons: { '../outside.py': ['named'] } };
    assert.throws(() => buildPlan(index, defaultConfig(), { files: [], baseCommit: 'abcdef0', now, scope: bad }), (e: FactoryError) => e.code === 'plan.invalid');
  });
});
