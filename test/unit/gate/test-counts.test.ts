import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describeCounts, parseTestCounts } from '../../../src/core/gate/test-counts';
import { REQUIRE_ENGINES } from '../../support/engines';

/**
 * The outputs parsed here are produced by running the real tools on a small suite with one failing
 * test (node --test, mocha, pytest where installed); jest is not installed here, so its summary is
 * the documented format.
 */
describe('test counts', function () {
  this.timeout(60_000);
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'counts-'));
    fs.writeFileSync(
      path.join(dir, 'a.test.js'),
      `const { describe, it } = require('node:test'); const assert = require('node:assert');
       describe('fees', () => { it('adds', () => assert.equal(1 + 2, 3)); it('rounds net pnl', () => assert.equal(0.1 + 0.2, 0.3)); it.skip('later', () => {}); });\n`,
    );
    fs.writeFileSync(
      path.join(dir, 'm.spec.js'),
      `const assert = require('node:assert');
       describe('engine', () => { describe('pnl', () => { it('nets fees', () => assert.equal(1, 1)); it('rejects negative size', () => assert.equal(1, 2)); }); it.skip('pending one'); });\n`,
    );
    fs.writeFileSync(
      path.join(dir, 'test_p.py'),
      `def test_ok():\n    assert 1 + 1 == 2\n\ndef test_fee_rounding():\n    assert 0.1 + 0.2 == 0.3\n`,
    );
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const run = (argv: string[]) => {
    const r = spawnSync(argv[0], argv.slice(1), { cwd: dir, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    return (r.stdout ?? '') + (r.stderr ?? '');
  };

  for (const reporter of ['tap', 'spec']) {
    it(`node --test (${reporter} reporter): counts and the failed test's name`, () => {
      const out = run([process.execPath, '--test', `--test-reporter=${reporter}`, 'a.test.js']);
      const c = parseTestCounts(out);
      assert.equal(c?.framework, 'node-test');
      assert.equal(c.passed, 1);
      assert.equal(c.failed, 1);
      assert.equal(c.skipped, 1);
      assert.ok(c.failedTests.some((n) => n.includes('rounds net pnl')), JSON.stringify(c.failedTests));
    });
  }

  it('mocha (spec reporter): counts and the nested failed test title', () => {
    const mocha = path.resolve(__dirname, '../../../node_modules/mocha/bin/mocha.js');
    const out = run([process.execPath, mocha, '--no-config', 'm.spec.js']);
    const c = parseTestCounts(out);
    assert.equal(c?.framework, 'mocha');
    assert.deepEqual([c.passed, c.failed, c.skipped], [1, 1, 1]);
    assert.deepEqual(c.failedTests, ['engine pnl rejects negative size']);
  });

  it('pytest -q and --collect-only -q (real pytest, where installed)', function () {
    const probe = spawnSync('python3', ['-m', 'pytest', '--version'], { encoding: 'utf8' });
    if (probe.status !== 0) {
      if (REQUIRE_ENGINES) throw new Error('python3 -m pytest is required in CI (.ci/run installs python3-pytest)');
      this.skip();
    }
    const out = run(['python3', '-m', 'pytest', '-q', '-p', 'no:cacheprovider', 'test_p.py']);
    const c = parseTestCounts(out);
    assert.equal(c?.framework, 'pytest');
    assert.deepEqual([c.passed, c.failed], [1, 1]);
    assert.deepEqual(c.failedTests, ['test_p.py::test_fee_rounding']);
    const collected = parseTestCounts(run(['python3', '-m', 'pytest', '--collect-only', '-q', '-p', 'no:cacheprovider', 'test_p.py']));
    assert.equal(collected?.collected, 2);
    assert.equal(describeCounts(collected), '2 tests collected');
  });

  it('pytest verbose banner summary with errors and xfail', () => {
    const out = [
      'FAILED tests/test_fees.py::test_maker_fee - assert 0.1 == 0.2',
      'ERROR tests/test_db.py::test_insert - ConnectionError',
      '=========== 1 failed, 27 passed, 2 skipped, 1 xfailed, 1 error, 3 warnings in 0.67s ===========',
    ].join('\n');
    const c = parseTestCounts(out);
    assert.deepEqual([c?.passed, c?.failed, c?.skipped, c?.errors], [27, 1, 3, 1]);
    assert.deepEqual(c?.failedTests, ['tests/test_fees.py::test_maker_fee', 'tests/test_db.py::test_insert']);
    assert.equal(describeCounts(c), '27/29 PASS, 1 failed, 1 errors, 3 skipped');
  });

  it('jest summary and failure headers', () => {
    const out = [
      '  ● fees › rounds net pnl',
      '',
      '    expect(received).toBe(expected)',
      'Test Suites: 1 failed, 1 total',
      'Tests:       1 failed, 2 passed, 3 total',
      'Snapshots:   0 total',
      'Time:        0.512 s',
    ].join('\n');
    const c = parseTestCounts(out);
    assert.equal(c?.framework, 'jest');
    assert.deepEqual([c.passed, c.failed], [2, 1]);
    assert.deepEqual(c.failedTests, ['fees › rounds net pnl']);
  });

  it('a generic "N passed, N failed, N skipped" line (this project\'s npm test)', () => {
    const c = parseTestCounts('...\n140 passed, 2 failed, 5 skipped\n');
    assert.deepEqual([c?.framework, c?.passed, c?.failed, c?.skipped], ['generic', 140, 2, 5]);
  });

  it('output without a summary has no counts (a guard script)', () => {
    assert.equal(parseTestCounts('OK: no duplicate PnL computation\n'), undefined);
  });
});
