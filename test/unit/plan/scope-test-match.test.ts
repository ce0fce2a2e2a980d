import { strict as assert } from 'node:assert';
import { indexFiles } from '../../../src/core/plan/scope/file-index';
import { isTestFile, subjectsOf, testMatchCandidates, testsOf } from '../../../src/core/plan/scope/test-match';
import { PY_REPO } from './scope-fixtures';

const REPO = indexFiles([
  ...PY_REPO,
  'tests/domain/test_pnl_calculator.py',
  'tests/legacy/test_pnl_calculator.py',
  'arbitrage/engine/slippage.py',
  'arbitrage/engine/slippage_test.py',
  'web/src/quote.ts',
  'web/src/quote.test.ts',
  'web/src/format.ts',
  'web/test/unit/format.spec.ts',
  'svc/handler.go',
  'svc/handler_test.go',
  'other/handler_test.go',
]);

describe('scope derivation: matching tests', () => {
  it('knows test files by the pytest, Go and Jest/Mocha naming conventions', () => {
    for (const t of ['tests/test_fees.py', 'a/x_test.py', 'svc/handler_test.go', 'web/src/quote.test.ts', 'web/test/unit/format.spec.ts']) assert.ok(isTestFile(t), t);
    for (const t of ['arbitrage/engine/fees.py', 'tests/conftest.py', 'web/src/quote.ts', 'testing.py']) assert.ok(!isTestFile(t), t);
  });

  it('finds the tests of a code file outside src/: tests/ mirror, beside it, test/**; the closest on a tie', () => {
    assert.deepEqual(testsOf(REPO, 'arbitrage/engine/fees.py'), ['tests/test_fees.py']);
    assert.deepEqual(testsOf(REPO, 'arbitrage/engine/pricing.py'), ['tests/engine/test_pricing.py']);
    assert.deepEqual(testsOf(REPO, 'arbitrage/engine/slippage.py'), ['arbitrage/engine/slippage_test.py']);
    assert.deepEqual(testsOf(REPO, 'arbitrage/domain/pnl_calculator.py'), ['tests/domain/test_pnl_calculator.py']);
    assert.deepEqual(testsOf(REPO, 'web/src/quote.ts'), ['web/src/quote.test.ts']);
    assert.deepEqual(testsOf(REPO, 'web/src/format.ts'), ['web/test/unit/format.spec.ts']);
    assert.deepEqual(testsOf(REPO, 'svc/handler.go'), ['svc/handler_test.go'], 'Go tests live beside their package');
    assert.deepEqual(testsOf(REPO, 'scripts/run_alpha_pipeline.py'), []);
  });

  it('finds the code under test of a test file', () => {
    assert.deepEqual(subjectsOf(REPO, 'tests/test_fees.py'), ['arbitrage/engine/fees.py']);
    assert.deepEqual(subjectsOf(REPO, 'web/src/quote.test.ts'), ['web/src/quote.ts']);
    assert.deepEqual(subjectsOf(REPO, 'tests/conftest.py'), []);
  });

  it('turns modify candidates into tests to modify and subjects to read, each with its reason', () => {
    const got = testMatchCandidates(
      [
        { path: 'arbitrage/engine/fees.py', cls: 'modify', reason: 'named in D201::AC-1', source: 'text' },
        { path: 'arbitrage/engine/fees.py', cls: 'modify', reason: 'changed by 1a2b3c4 for D201::AC-2', source: 'history' },
        { path: 'web/src/quote.test.ts', cls: 'modify', reason: 'named in D201::AC-2', source: 'text' },
        { path: 'arbitrage/engine/pricing.py', cls: 'readonly', reason: 'named in D201::AC-3', source: 'text' },
        { path: 'arbitrage/**', cls: 'modify', reason: 'config rule D2*', source: 'config' },
        { path: 'arbitrage/engine/gone.py', cls: 'modify', reason: 'changed by 1a2b3c4 for D201::AC-2', source: 'history' },
      ],
      REPO,
    );
    assert.deepEqual(got, [
      { path: 'tests/test_fees.py', cls: 'modify', reason: 'test of arbitrage/engine/fees.py', source: 'test-match' },
      { path: 'web/src/quote.ts', cls: 'readonly', reason: 'code under test of web/src/quote.test.ts', source: 'test-match' },
    ]);
  });
});
