import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { defaultConfig } from '../../../../src/core/config/schema';
import type { SpendEntry } from '../../../../src/core/contracts/history-entry';
import { bothReasons, candidateOf, checkPick, compareSides, parseSide, pickAuto, secondRunId, tokensOf, type CandidateInput } from '../../../../src/core/cycle/compare/pick';
import { notPickedStatus } from '../../../../src/core/cycle/compare/settle';
import { cycleRecords } from '../../../../src/core/cycle/cycle-paths';
import type { CompareCandidate } from '../../../../src/core/cycle/cycle-types';
import { evaluateKillSwitches, type CycleRecord } from '../../../../src/core/cycle/kill-switches';
import { FactoryError } from '../../../../src/core/util/errors';
import { appendHistory } from '../../../../src/core/history/history';
import { RUN_ID_RE } from '../../../../src/core/evidence/run-id';

const cand = (costUsd: number, diffLines: number, passed = true, agent = 'replay'): CompareCandidate => ({
  runId: `r-${agent}-${costUsd}-${diffLines}`,
  agent,
  passed,
  reasons: passed ? [] : ['Gate FAIL at fast'],
  gate: passed ? 'PASS' : 'FAIL',
  changes: [],
  diffLines,
  tokens: { input: 0, output: 0 },
  costUsd,
  workspace: '/tmp/ws',
  baseCommit: 'abc',
});

const codeOf = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof FactoryError, String(err));
    return err.code;
  }
  assert.fail('no error thrown');
};

describe('compare run: the pure rules (issue 20 item 2)', () => {
  describe('pickAuto: the cheaper passing candidate; tie → fewer diff lines → A', () => {
    it('the cheaper passing one, whichever side it is on', () => {
      assert.equal(pickAuto([cand(0.2, 10), cand(0.1, 50)]), 1);
      assert.equal(pickAuto([cand(0.1, 50), cand(0.2, 10)]), 0);
    });
    it('a cheaper candidate that did not pass is never picked', () => {
      assert.equal(pickAuto([cand(0.01, 1, false), cand(0.5, 100)]), 1);
      assert.equal(pickAuto([cand(0.5, 100), cand(0.01, 1, false)]), 0);
    });
    it('equal cost (within a millionth of a USD): fewer diff lines; equal lines: side A', () => {
      assert.equal(pickAuto([cand(0.1, 30), cand(0.1000004, 12)]), 1);
      assert.equal(pickAuto([cand(0.1, 12), cand(0.1, 30)]), 0);
      assert.equal(pickAuto([cand(0, 7), cand(0, 7)]), 0);
    });
    it('none passed: null', () => {
      assert.equal(pickAuto([cand(0.1, 1, false), cand(0.2, 1, false)]), null);
      assert.equal(pickAuto([]), null);
    });
  });

  describe('checkPick: a person\'s answer', () => {
    const cs = [cand(0.1, 1), cand(0.2, 1, false)];
    it('a passing candidate\'s index is taken', () => assert.deepEqual(checkPick(cs, 0), { picked: 0 }));
    it('null is "no candidate picked"', () => assert.deepEqual(checkPick(cs, null), { picked: null, reason: 'no candidate picked' }));
    it('a candidate that did not pass, or an index that names none, applies nothing', () => {
      const failed = checkPick(cs, 1);
      assert.equal(failed.picked, null);
      assert.match(failed.reason ?? '', /did not pass its checks and cannot be applied/);
      for (const bad of [2, -1, 0.5, '0']) assert.equal(checkPick(cs, bad).picked, null, String(bad));
    });
  });

  describe('compareSides: the options, checked before the lock', () => {
    const ok = { compare: { agents: ['codex', 'claude-code'] as [string, string], pick: 'auto' as const } };
    it('two known agents, each agent or agent:model', () => {
      const [a, b] = compareSides({ compare: { agents: ['replay:gpt-5-mini', 'replay:claude-sonnet-4-5'], pick: 'ask' } });
      assert.deepEqual([a.side, a.agent, a.model, b.side, b.agent, b.model], ['a', 'replay', 'gpt-5-mini', 'b', 'replay', 'claude-sonnet-4-5']);
      assert.deepEqual(compareSides(ok).map((s) => [s.agent, s.model]), [['codex', undefined], ['claude-code', undefined]]);
      assert.deepEqual(parseSide(' codex : gpt-5 ', 'a'), { side: 'a', agent: 'codex', model: 'gpt-5', spec: 'codex : gpt-5' });
    });
    it('--parallel > 1, --agent or --model with it → compare.invalid', () => {
      assert.equal(codeOf(() => compareSides({ ...ok, parallel: 2 })), 'compare.invalid');
      assert.equal(codeOf(() => compareSides({ ...ok, agent: 'codex' })), 'compare.invalid');
      assert.equal(codeOf(() => compareSides({ ...ok, model: 'gpt-5' })), 'compare.invalid');
      assert.doesNotThrow(() => compareSides({ ...ok, parallel: 1 }));
    });
    it('the same side twice, an empty side or a bad pick → compare.invalid; an unknown agent → agent_unknown', () => {
      assert.equal(codeOf(() => compareSides({ compare: { agents: ['codex', 'codex'], pick: 'auto' } })), 'compare.invalid');
      assert.equal(codeOf(() => compareSides({ compare: { agents: ['codex', ''], pick: 'auto' } })), 'compare.invalid');
      assert.equal(codeOf(() => compareSides({ compare: { agents: ['codex', 'replay:'], pick: 'auto' } })), 'compare.invalid');
      assert.equal(codeOf(() => compareSides({ compare: { agents: ['codex', 'claude-code'], pick: 'best' as 'auto' } })), 'compare.invalid');
      assert.equal(codeOf(() => compareSides({ compare: { agents: ['codex', 'claud'], pick: 'auto' } })), 'agent_unknown');
      assert.doesNotThrow(() => compareSides({ compare: { agents: ['codex:gpt-5', 'codex:gpt-5-mini'], pick: 'auto' } }));
    });
  });

  describe('the candidate\'s facts', () => {
    const spend: SpendEntry[] = [
      { role: 'worker', agent: 'codex', model: 'gpt-5', tokens: { in: 1000, out: 200 }, costUsd: 0.01 },
      { role: 'worker', agent: 'codex', model: 'gpt-5-mini', tokens: { in: 50, out: 5 }, costUsd: 0.001 },
      { role: 'auditor', agent: 'replay', costUsd: 0 },
    ];
    const input: CandidateInput = { runId: 'R', side: parseSide('codex:gpt-5', 'a'), model: 'gpt-5', status: 'PASS', reasons: [], gate: 'PASS', changes: [{ path: 'a.py', kind: 'added' }], diffLines: 12, spend, costUsd: 0.011, workspace: '/ws', baseCommit: 'c0ffee' };
    it('tokens are the sum over the side\'s spend entries (an entry without tokens adds none)', () => assert.deepEqual(tokensOf(spend), { input: 1050, output: 205 }));
    it('passed only on a PASS verdict; the Gate "not run" when it did not run', () => {
      const c = candidateOf(input);
      assert.deepEqual({ ...c, changes: c.changes.length }, { runId: 'R', agent: 'codex', model: 'gpt-5', passed: true, reasons: [], gate: 'PASS', changes: 1, diffLines: 12, tokens: { input: 1050, output: 205 }, costUsd: 0.011, workspace: '/ws', baseCommit: 'c0ffee' });
      const failed = candidateOf({ ...input, status: 'FAIL', reasons: ['scope violation'], gate: undefined });
      assert.deepEqual([failed.passed, failed.gate, failed.reasons], [false, 'not run', ['scope violation']]);
      assert.equal(candidateOf({ ...input, status: 'TIMEOUT' }).passed, false);
    });
    it('no candidate passed: the reasons name each side', () => {
      const r = bothReasons([cand(0.1, 1, false, 'codex'), cand(0.2, 1, false, 'claude-code')], [parseSide('codex', 'a'), parseSide('claude-code', 'b')]);
      assert.equal(r[0], 'no candidate of the compare passed');
      assert.match(r[1] ?? '', /^a \(codex, r-codex-0\.1-1\): Gate FAIL at fast$/);
      assert.match(r[2] ?? '', /^b \(claude-code, /);
    });
    it('side b\'s run id: the next free second of the same ticket and commit, in the evidence format', () => {
      const a = '20261206_065300_d302_abc1234';
      assert.equal(secondRunId(a, () => false), '20261206_065301_d302_abc1234');
      assert.equal(secondRunId(a, (id) => id === '20261206_065301_d302_abc1234'), '20261206_065302_d302_abc1234');
      assert.ok(RUN_ID_RE.test(secondRunId(a, () => false)));
      assert.equal(secondRunId('not-a-run-id', () => false), 'not-a-run-id-b');
    });
    it('a side not picked counts as FAIL when it passed, as its own FAIL/TIMEOUT, never BLOCKED', () => {
      assert.equal(notPickedStatus({ status: 'PASS', cause: 'PASS', reasons: [] }), 'FAIL');
      assert.equal(notPickedStatus({ status: 'TIMEOUT', cause: 'TIMEOUT', reasons: [] }), 'TIMEOUT');
      assert.equal(notPickedStatus({ status: 'BLOCKED', cause: 'TIMEOUT', reasons: [], blockReason: 'time cap' }), 'TIMEOUT');
      assert.equal(notPickedStatus({ status: 'BLOCKED', cause: 'FAIL', reasons: [], blockReason: 'retry cap' }), 'FAIL');
    });
  });

  describe('the kill switches count a compare once', () => {
    const config = defaultConfig();
    let seq = 0;
    const line = (compare?: { picked: boolean; with: string }): CycleRecord => ({ runId: `r${seq++}`, ticketId: 'T', status: 'FAIL', endedAt: '2026-12-06T04:00:00Z', costUsd: 0.1, ...(compare ? { compare } : {}) });
    it('a side not picked is no attempt; the compare\'s counted line is', () => {
      const d = evaluateKillSwitches([line(), line({ picked: false, with: 'r3' }), line()], 'T', config);
      assert.deepEqual([d.attempts, d.consecutiveFails, d.escalate], [2, 2, true]);
      const caps = evaluateKillSwitches([line(), line({ picked: false, with: 'x' }), line(), line({ picked: false, with: 'y' }), line({ picked: false, with: 'z' })], 'T', config);
      assert.deepEqual([caps.attempts, caps.block], [2, false]);
      // picked: true counts like any line.
      assert.equal(evaluateKillSwitches([line({ picked: true, with: 'x' })], 'T', config).attempts, 1);
    });
    it('the history line\'s compare field reaches the kill switches (history.jsonl round trip)', async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-ks-compare-'));
      try {
        const file = path.join(dir, 'history.jsonl');
        await appendHistory(file, { runId: 'a', ticketId: 'T', status: 'FAIL' });
        await appendHistory(file, { runId: 'b', ticketId: 'T', status: 'FAIL', compare: { picked: false, with: 'a' } });
        const records = cycleRecords(file);
        assert.deepEqual(records[1]?.compare, { picked: false, with: 'a' });
        assert.equal(evaluateKillSwitches(records, 'T', config).attempts, 1);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
