import { strict as assert } from 'node:assert';
import { compareCli, compareTable, parseAnswer } from '../../../../src/cli/compare-output';
import type { CompareCandidate } from '../../../../src/core/cycle/cycle-types';
import { FactoryError } from '../../../../src/core/util/errors';

const cand = (o: Partial<CompareCandidate>): CompareCandidate => ({ runId: 'R1', agent: 'codex', passed: true, reasons: [], gate: 'PASS', changes: [{ path: 'a.py', kind: 'modified' }], diffLines: 12, tokens: { input: 1200, output: 300 }, costUsd: 0.0123, workspace: '/ws', baseCommit: 'abc', ...o });

const io = { json: false, line: () => '', jsonOf: () => ({}) };

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof FactoryError, String(err));
    return err.code;
  }
  return assert.fail('no error');
}

describe('factory run --compare: the CLI\'s side-by-side table and flags (issue 20 item 2)', () => {
  const cs = [cand({ model: 'gpt-5' }), cand({ runId: 'R2', agent: 'claude-code', model: 'claude-sonnet-4-5', passed: false, gate: 'FAIL', reasons: ['Gate FAIL at fast (2 failed)'], diffLines: 40, costUsd: 0.5, changes: [] })];

  it('one row per side with agent, model, Gate, files, diff lines, tokens, cost, verdict; the applied one marked and named', () => {
    const t = compareTable(cs, 0).split('\n');
    assert.match(t[0] ?? '', /^side\s+agent\s+model\s+Gate\s+files\s+diff lines\s+tokens in\/out\s+cost\s+verdict$/);
    assert.match(t[1] ?? '', /^a \*\s+codex\s+gpt-5\s+PASS\s+1\s+12\s+1200\/300\s+\$0\.0123\s+PASS$/);
    assert.match(t[2] ?? '', /^b\s+claude-code\s+claude-sonnet-4-5\s+FAIL\s+0\s+40\s+1200\/300\s+\$0\.5000\s+FAIL$/);
    // Columns line up: every row's "Gate" cell starts where the header's does.
    const at = (t[0] ?? '').indexOf('Gate');
    assert.equal(t[1]?.slice(at, at + 4), 'PASS');
    assert.equal(t[2]?.slice(at, at + 4), 'FAIL');
    assert.ok(t.includes('  b: Gate FAIL at fast (2 failed)'), 'why b did not pass');
    assert.match(t.at(-1) ?? '', /^applied: a \(codex gpt-5, run R1\)/);
    assert.equal(compareTable(cs, null).split('\n').at(-1), 'applied: none');
  });

  it('the answer names a passing side (a/b/1/2) or none; anything else asks again', () => {
    assert.equal(parseAnswer(' A ', cs), 0);
    assert.equal(parseAnswer('1', cs), 0);
    assert.equal(parseAnswer('none', cs), null);
    assert.equal(parseAnswer('b', cs), undefined, 'b did not pass');
    assert.equal(parseAnswer('2', cs), undefined);
    assert.equal(parseAnswer('c', cs), undefined);
  });

  it('flags: two names, auto or ask; ask without a terminal is a usage error that says to pass --pick auto', async () => {
    assert.deepEqual((await compareCli('codex, claude-code:claude-sonnet-4-5', 'auto', io)).compare, { agents: ['codex', 'claude-code:claude-sonnet-4-5'], pick: 'auto' });
    assert.equal(await codeOf(compareCli('codex', 'auto', io)), 'compare.invalid');
    assert.equal(await codeOf(compareCli('codex,claude-code,aider', 'auto', io)), 'compare.invalid');
    assert.equal(await codeOf(compareCli('codex,claude-code', 'best', io)), 'usage');
    const tty = process.stdin.isTTY;
    try {
      process.stdin.isTTY = false;
      await assert.rejects(compareCli('codex,claude-code', 'ask', io), (e: unknown) => e instanceof FactoryError && e.code === 'usage' && /--pick auto/.test(e.message));
    } finally {
      process.stdin.isTTY = tty;
    }
  });
});
