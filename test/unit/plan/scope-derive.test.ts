import { strict as assert } from 'node:assert';
import { configSchema, defaultConfig, type FactoryConfigInput } from '../../../src/core/config/schema';
import { isSafeRepoPath } from '../../../src/core/paths/validate';
import { deriveScope, type DeriveInput } from '../../../src/core/plan/scope/derive';
import { COLLAPSE_MIN_FILES } from '../../../src/core/plan/scope/narrow';
import type { DerivedScope, ScopeCandidate } from '../../../src/core/plan/scope/scope-types';
import { ac, PY_REPO, ticket } from './scope-fixtures';

const FILES = [...PY_REPO, 'D_ROADMAP.md', 'docs/v2/SSOT_RULES.md', 'docs/v2/design/AC_LEDGER.md', '.env', 'api/.env.prod', 'logs/evidence/run1/manifest.json'];

function derive(extra: Partial<DeriveInput> & { cfg?: FactoryConfigInput }): DerivedScope {
  const config = extra.cfg ? configSchema.parse(extra.cfg) : defaultConfig();
  const d = deriveScope({ acs: [], files: FILES, config, ...extra });
  for (const p of [...d.scope.modify, ...d.scope.readonly]) {
    assert.ok((d.reasons[p] ?? []).length > 0, `${p} has a reason`);
    assert.ok(isSafeRepoPath(p, { kind: 'glob', protect: false }), `${p} is a safe glob`);
  }
  return d;
}

const hist = (p: string, reason = 'changed by 1a2b3c4 for D201::AC-2'): ScopeCandidate => ({ path: p, cls: 'modify', reason, source: 'history' });

describe('scope derivation: deriveScope', () => {
  it('merges text, plan document, history and Controller candidates with their tests, each entry with its reasons', () => {
    const d = derive({
      ticket: ticket('D201', '수수료 모델'),
      acs: [ac('D201::AC-1', '`arbitrage.engine.fees` 에 maker 리베이트 반영')],
      planDocs: [{ path: 'docs/plan/D201__AC-1.md', text: '## 읽기 전용\n- arbitrage/domain/pnl_calculator.py\n## 금지\n- scripts/**\n' }],
      history: [hist('arbitrage/engine/fees.py'), hist('arbitrage/engine/pricing.py')],
      controller: [{ path: 'tests/conftest.py', cls: 'readonly', reason: 'controller model: fixtures', source: 'controller' }],
    });
    assert.deepEqual(d.scope.modify, ['arbitrage/engine/fees.py', 'arbitrage/engine/pricing.py', 'tests/engine/test_pricing.py', 'tests/test_fees.py']);
    assert.deepEqual(d.scope.readonly, ['arbitrage/domain/pnl_calculator.py', 'tests/conftest.py']);
    assert.deepEqual(d.reasons['arbitrage/engine/fees.py'], ['named in D201::AC-1 (module arbitrage.engine.fees)', 'changed by 1a2b3c4 for D201::AC-2']);
    assert.deepEqual(d.reasons['tests/test_fees.py'], ['test of arbitrage/engine/fees.py']);
    assert.deepEqual(d.reasons['arbitrage/domain/pnl_calculator.py'], ['plan document docs/plan/D201__AC-1.md']);
    assert.ok(d.scope.forbidden.includes('scripts/**'));
    assert.deepEqual(d.reasons['scripts/**'], ['plan document docs/plan/D201__AC-1.md']);
    assert.equal(d.fallback, undefined);
  });

  it('forbidden always wins: SSOT documents, .env*, evidence and logs, .factory/, scope.forbidden — whoever names them', () => {
    const d = derive({
      cfg: { scope: { forbidden: ['logs/**', 'arbitrage/domain/**'], tickets: [{ ticket: 'D201', modify: ['D_ROADMAP.md', 'arbitrage/engine/**'] }] } },
      acs: [ac('D201::AC-1', 'D_ROADMAP.md 와 docs/v2/SSOT_RULES.md 갱신, .env 확인, arbitrage/domain/pnl_calculator.py', { notes: 'logs/evidence/run1/manifest.json' })],
      history: [hist('api/.env.prod'), hist('.factory/config.json'), hist('docs/v2/design/AC_LEDGER.md'), hist('logs/autopilot/plan.json')],
      controller: [{ path: '.env', cls: 'modify', reason: 'controller model', source: 'controller' }],
    });
    assert.deepEqual(d.scope.modify, ['arbitrage/engine/**']);
    assert.deepEqual(d.scope.readonly, []);
    for (const f of ['D_ROADMAP.md', 'docs/v2/SSOT_RULES.md', 'docs/v2/design/AC_LEDGER.md', '.factory/**', '.env*', '**/.env*', 'logs/evidence/**', 'logs/autopilot/**', 'logs/**', 'arbitrage/domain/**']) {
      assert.ok(d.scope.forbidden.includes(f), f);
      assert.ok((d.reasons[f] ?? []).length > 0, `${f} has a reason`);
    }
    assert.deepEqual(d.reasons['D_ROADMAP.md'], ['SSOT document']);
    assert.deepEqual(d.reasons['arbitrage/domain/**'], ['config scope.forbidden']);
  });

  it('config overrides win: their modify replaces the derived one (which stays readable), their readonly demotes', () => {
    const d = derive({
      cfg: { scope: { tickets: [{ ticket: 'D2*', modify: ['arbitrage/engine/**'], readonly: ['arbitrage/engine/pricing.py'] }] } },
      ticket: ticket('D201', 'pipeline'),
      acs: [ac('D201::AC-1', 'scripts/run_alpha_pipeline.py 와 arbitrage/engine/pricing.py 수정')],
    });
    assert.deepEqual(d.scope.modify, ['arbitrage/engine/**']);
    assert.deepEqual(d.scope.readonly, ['arbitrage/engine/pricing.py', 'scripts/run_alpha_pipeline.py', 'tests/engine/test_pricing.py']);
    assert.deepEqual(d.reasons['arbitrage/engine/**'], ['config rule D2*']);
    assert.deepEqual(d.reasons['arbitrage/engine/pricing.py'], ['named in D201::AC-1', 'config rule D2*']);
    assert.deepEqual(d.reasons['scripts/run_alpha_pipeline.py'], ['named in D201::AC-1']);
  });

  it('a path both modify and readonly is modify; a derived readonly folder never shadows a modify file; protected places are only read', () => {
    const d = derive({
      acs: [ac('D201::AC-1', 'arbitrage/engine 참고')],
      history: [hist('arbitrage/engine/fees.py'), { path: 'tests/test_fees.py', cls: 'readonly', reason: 'read by 1a2b3c4', source: 'history' }],
    });
    // The named folder is a modify candidate here (a folder named by path), so it covers fees.py.
    assert.deepEqual(d.scope.modify, ['arbitrage/engine/**', 'arbitrage/engine/fees.py', 'tests/test_fees.py']);
    assert.deepEqual(d.reasons['tests/test_fees.py'], ['read by 1a2b3c4', 'test of arbitrage/engine/fees.py']);
    const wf = derive({ history: [hist('arbitrage/engine/fees.py'), hist('.github/workflows/ci.yml'), hist('../outside.py')] });
    assert.deepEqual([wf.scope.modify, wf.scope.readonly], [['arbitrage/engine/fees.py', 'tests/test_fees.py'], ['.github/workflows/ci.yml']]);
    const ro = derive({ history: [hist('arbitrage/engine/fees.py'), { path: 'arbitrage/engine/**', cls: 'readonly', reason: 'plan', source: 'plan-doc' }] });
    assert.deepEqual(ro.scope.readonly, []);
  });

  it(`narrows to files; collapses a folder only when every one of its > ${COLLAPSE_MIN_FILES} tracked files is a candidate`, () => {
    const gen = Array.from({ length: COLLAPSE_MIN_FILES + 5 }, (_, i) => `pkg/gen/m${i}.py`);
    const files = [...FILES, ...gen, 'pkg/other.py'];
    const all = deriveScope({ acs: [], files, config: defaultConfig(), history: gen.map((p) => hist(p)) });
    assert.deepEqual(all.scope.modify, ['pkg/gen/**']);
    assert.equal(all.reasons['pkg/gen/**']?.[0], `all ${gen.length} tracked files of pkg/gen/ are candidates`);
    const most = deriveScope({ acs: [], files, config: defaultConfig(), history: gen.slice(1).map((p) => hist(p)) });
    assert.deepEqual(most.scope.modify, gen.slice(1).sort());
  });

  it('config scope.readonly is always read-only: listed with its reason, and it outranks every modify it covers', () => {
    const cfg = { scope: { readonly: ['scripts/**', 'justfile', 'tests/engine/**'], tickets: [{ ticket: 'D2*', modify: ['arbitrage/engine/**', 'justfile', 'tests/**'] }] } };
    const d = derive({
      cfg,
      ticket: ticket('D201', 'pipeline'),
      acs: [ac('D201::AC-1', 'scripts/run_alpha_pipeline.py 와 justfile 수정, arbitrage/engine/pricing.py')],
    });
    assert.equal(d.fallback, undefined);
    assert.deepEqual(d.scope.modify, ['arbitrage/engine/**', 'arbitrage/engine/pricing.py', 'tests/**']);
    assert.deepEqual(d.scope.readonly, ['justfile', 'scripts/**', 'scripts/run_alpha_pipeline.py', 'tests/engine/**', 'tests/engine/test_pricing.py']);
    assert.deepEqual(d.reasons['scripts/**'], ['config scope.readonly']);
    assert.deepEqual(d.reasons['scripts/run_alpha_pipeline.py'], ['named in D201::AC-1', 'config scope.readonly']);
    // A config rule naming it to modify does not help: the scope check reads readonly first.
    assert.deepEqual(d.reasons['justfile'], ['named in D201::AC-1', 'config scope.readonly', 'config rule D2*']);
    assert.deepEqual(d.reasons['tests/engine/test_pricing.py'], ['test of arbitrage/engine/pricing.py', 'config scope.readonly']);
    // Without any evidence, the fallback keeps it too, with its reason once.
    const fb = derive({ cfg: { scope: { readonly: ['scripts/**'] } }, ticket: ticket('D201', '정리'), acs: [ac('D201::AC-1', '리팩터링')] });
    assert.ok(fb.fallback);
    assert.deepEqual([fb.scope.readonly, fb.reasons['scripts/**']], [['scripts/**'], ['config scope.readonly']]);
  });

  it('a file the text creates is modified with the test it would get; a file the text calls read-only stays read-only', () => {
    const d = derive({
      ticket: ticket('D202', 'Slippage model'),
      acs: [ac('D202::AC-1', 'apply_slippage()', { notes: 'new module arbitrage/engine/slippage.py; arbitrage/engine/fees.py is readonly' }), ac('D202::AC-2', 'arbitrage/engine 정리')],
      history: [hist('arbitrage/engine/fees.py', 'changed by 1a2b3c4 for D202::AC-1')],
    });
    assert.equal(d.fallback, undefined);
    // fees.py is read-only although history changed it and a modify folder covers it; so its test is not pulled in.
    assert.deepEqual(d.scope.modify, ['arbitrage/engine/**', 'arbitrage/engine/slippage.py', 'tests/engine/test_slippage.py']);
    assert.deepEqual(d.scope.readonly, ['arbitrage/engine/fees.py']);
    assert.deepEqual(d.reasons['arbitrage/engine/slippage.py'], ['named in D202::AC-1 (new file)']);
    // Its neighbours' tests live in tests/ and tests/engine/: the tie goes to the first in path order.
    assert.deepEqual(d.reasons['tests/engine/test_slippage.py'], ['test of arbitrage/engine/slippage.py (new file)']);
    assert.deepEqual(d.reasons['arbitrage/engine/fees.py'], ['named read-only in D202::AC-1', 'changed by 1a2b3c4 for D202::AC-1']);
    // A config rule wins over the text: it keeps what it names to modify.
    const o = derive({
      cfg: { scope: { tickets: [{ ticket: 'D202', modify: ['arbitrage/engine/fees.py'] }] } },
      acs: [ac('D202::AC-1', 'arbitrage/engine/fees.py must not change')],
    });
    assert.deepEqual([o.scope.modify, o.scope.readonly], [['arbitrage/engine/fees.py'], []]);
    assert.deepEqual(o.reasons['arbitrage/engine/fees.py'], ['named read-only in D202::AC-1', 'config rule D202']);
  });

  it('falls back to the config default, loudly, with the exact setting to add', () => {
    const d = derive({ ticket: ticket('D201', '정리'), acs: [ac('D201::AC-1', '리팩터링')] });
    assert.deepEqual(d.scope.modify, ['src/**', 'tests/**']);
    assert.deepEqual(d.reasons['src/**'], ['config scope.modify (nothing derived)']);
    assert.match(d.fallback?.why ?? '', /nothing names a file of this repository for D201[\s\S]*\["src\/\*\*","tests\/\*\*"\] is used$/);
    assert.equal(d.fallback?.setting, '"scope": { "tickets": [{ "ticket": "D201", "modify": ["arbitrage/**", "tests/**"] }] }');
    assert.ok(d.scope.forbidden.includes('D_ROADMAP.md') && d.scope.forbidden.includes('.env*'));
    const bare = deriveScope({ ticketId: 'D9', acs: [], files: ['pkg/a.py', 'pkg/b.py'], config: defaultConfig() });
    assert.match(bare.fallback?.why ?? '', /matches no tracked file, so the Worker can change nothing that exists/);
    assert.equal(bare.fallback?.setting, '"scope": { "tickets": [{ "ticket": "D9", "modify": ["pkg/**"] }] }');
  });
});
