import * as assert from 'node:assert/strict';
import { reviewFeedbackSchema } from '../../../src/core/contracts/review-feedback';
import type { CompareCandidate } from '../../../src/core/cycle/cycle-types';
import { candidateRows, diffPairs, shortCount, sideSpec, sidesProblem } from '../../../src/extension/cycle/compare-rows';
import { factoryRunOptions, runLabel } from '../../../src/extension/cycle/run-operation';
import { runSettings } from '../../../src/extension/cycle/run-settings';
import { buildFeedback, changesRequestedReason, lineCommentsOf, requestChangesProblem, reviewDocRef } from '../../../src/extension/cycle/request-changes';

const RUN = '20261206_070000_d201_abcdef0';
const after = (run = RUN) => `side=after&run=${encodeURIComponent(run)}&kind=modified`;

describe('Request Changes: thread → line comment, reason, feedback record (issue 20)', () => {
  it('a review document names its path, side and run; anything the path validator refuses names none', () => {
    assert.deepEqual(reviewDocRef('/engine/spread.py', after()), { path: 'engine/spread.py', side: 'after', runId: RUN });
    assert.equal(reviewDocRef('/engine/spread.py', 'side=base&run=x')?.side, 'base');
    assert.equal(reviewDocRef('/../etc/passwd', after()), undefined);
    assert.equal(reviewDocRef('/a/.git/config', after()), undefined);
    assert.equal(reviewDocRef('/a.py', 'side=left&run=x'), undefined);
    assert.equal(reviewDocRef('/a.py', 'side=after'), undefined);
  });

  it('only saved, non-empty comments on the after side of this run count; line is 1-based; sorted by path and line', () => {
    const got = lineCommentsOf(
      [
        { uriPath: '/tests/test_spread.py', query: after(), line0: 9, bodies: ['  cover the zero case  '] },
        { uriPath: '/engine/spread.py', query: after(), line0: 4, bodies: ['use MAX_SPREAD_BPS', '   ', 'and name it'] },
        { uriPath: '/engine/spread.py', query: after(), line0: 0, bodies: ['header'] },
        { uriPath: '/engine/spread.py', query: 'side=base&run=' + RUN, line0: 2, bodies: ['on the base side'] },
        { uriPath: '/engine/spread.py', query: after('20261206_060000_d201_0000000'), line0: 2, bodies: ['an older review'] },
      ],
      RUN,
    );
    assert.deepEqual(got, [
      { path: 'engine/spread.py', line: 1, body: 'header' },
      { path: 'engine/spread.py', line: 5, body: 'use MAX_SPREAD_BPS' },
      { path: 'engine/spread.py', line: 5, body: 'and name it' },
      { path: 'tests/test_spread.py', line: 10, body: 'cover the zero case' },
    ]);
  });

  it('caps what a person cannot reasonably send: 200 comments, 10,000 characters each', () => {
    const many = Array.from({ length: 250 }, (_, i) => ({ uriPath: '/a.py', query: after(), line0: i, bodies: ['x'.repeat(12_000)] }));
    const got = lineCommentsOf(many, RUN);
    assert.equal(got.length, 200);
    assert.equal(got[0]?.body.length, 10_000);
  });

  it('the reason is "changes requested: " and the comment\'s first line, else the first line comment', () => {
    assert.equal(changesRequestedReason('\n  Name the constant.\nAnd test it.', []), 'changes requested: Name the constant.');
    assert.equal(changesRequestedReason('', [{ path: 'engine/spread.py', line: 5, body: 'use MAX_SPREAD_BPS\nplease' }]), 'changes requested: engine/spread.py:5 use MAX_SPREAD_BPS');
    assert.ok(changesRequestedReason('y'.repeat(500), []).length < 200);
  });

  it('empty comment is refused only when there is no line comment', () => {
    assert.ok(requestChangesProblem('  ', 0));
    assert.equal(requestChangesProblem('', 1), undefined);
    assert.equal(requestChangesProblem('fix it', 0), undefined);
  });

  it('the feedback record is schema version 1 with ticket, run, comment, line comments, author and time', () => {
    const f = buildFeedback({ ticketId: 'D201', runId: RUN, comment: '  Name the constant. ', lineComments: [{ path: 'engine/spread.py', line: 5, body: 'here' }], author: ' Ada ', now: new Date('2026-12-06T07:00:00Z') });
    assert.deepEqual(f, { schema_version: 1, ticket_id: 'D201', run_id: RUN, comment: 'Name the constant.', line_comments: [{ path: 'engine/spread.py', line: 5, body: 'here' }], author: 'Ada', created_at: '2026-12-06T07:00:00.000Z' });
    assert.ok(reviewFeedbackSchema.safeParse(f).success);
    assert.equal(buildFeedback({ ticketId: 'D201', runId: RUN, comment: 'x', lineComments: [], now: new Date() }).author, undefined);
  });
});

function candidate(over: Partial<CompareCandidate>): CompareCandidate {
  return { runId: RUN, agent: 'replay', passed: true, reasons: [], gate: 'PASS', changes: [], diffLines: 10, tokens: { input: 12_345, output: 678 }, costUsd: 0.01, workspace: '/tmp/w', baseCommit: 'abc', ...over };
}

describe('Run With Two Agents: sides, rows and side-by-side files (issue 20)', () => {
  it('a side is agent or agent:model; the same spec twice is refused, one agent on two models is not', () => {
    assert.equal(sideSpec('codex'), 'codex');
    assert.equal(sideSpec('codex', 'gpt-5-mini'), 'codex:gpt-5-mini');
    assert.ok(sidesProblem('codex', 'codex'));
    assert.equal(sidesProblem('codex:a', 'codex:b'), undefined);
  });

  it('one row per candidate with Gate, files, diff lines, tokens and cost; only the cheapest passing one is marked; a FAIL is not pickable', () => {
    const rows = candidateRows([
      candidate({ agent: 'codex', model: 'gpt-5', costUsd: 0.05, changes: [{ path: 'a.py', kind: 'modified' }] }),
      candidate({ agent: 'claude-code', costUsd: 0.02, changes: [{ path: 'a.py', kind: 'modified' }, { path: 'b.py', kind: 'added' }], diffLines: 1 }),
      candidate({ agent: 'gemini', costUsd: 0.001, passed: false, gate: 'FAIL', reasons: ['gate failed at test'] }),
    ]);
    assert.equal(rows[0]?.label, '$(pass) codex · gpt-5');
    assert.equal(rows[0]?.description, 'Gate PASS · 1 file · 10 diff lines');
    assert.equal(rows[1]?.description, 'Gate PASS · 2 files · 1 diff line · ★ cheapest passing');
    assert.match(rows[1]?.detail ?? '', /^12\.3k tokens in \/ 678 out · \$0\.0200 · passed every check/);
    assert.equal(rows[2]?.label, '$(error) gemini');
    assert.match(rows[2]?.detail ?? '', /not applicable: gate failed at test/);
    assert.deepEqual(rows.map((r) => r.pickable), [true, true, false]);
    assert.ok(!rows[2]?.description.includes('cheapest'));
    assert.equal(shortCount(2_500_000), '2.5M');
  });

  it('side by side: every file either changed, with each side\'s kind (unchanged: the base file is in that tree)', () => {
    const a = candidate({ changes: [{ path: 'b.py', kind: 'modified' }, { path: 'a.py', kind: 'added' }] });
    const b = candidate({ changes: [{ path: 'b.py', kind: 'deleted' }, { path: 'c.py', kind: 'modified' }] });
    assert.deepEqual(diffPairs(a, b), [
      { path: 'a.py', a: 'added', b: 'unchanged' },
      { path: 'b.py', a: 'modified', b: 'deleted' },
      { path: 'c.py', a: 'unchanged', b: 'modified' },
    ]);
  });

  it('a compare run is one ticket, one cycle, the two sides and no window override of agent or model', () => {
    const settings = runSettings('/repo', (key) => (key === 'agent' ? { globalValue: 'codex' } : key === 'model' ? { globalValue: 'gpt-5' } : key === 'parallel' ? { globalValue: 4 } : undefined) as never);
    const compare = { agents: ['codex', 'replay'] as [string, string], pick: 'ask' as const };
    const o = factoryRunOptions('/repo', settings, { ticket: 'D201', compare }, {}, '/w.js');
    assert.deepEqual([o.parallel, o.maxCycles, o.compare, o.agent, o.model, o.overrideSource], [1, 1, compare, undefined, undefined, undefined]);
    const plain = factoryRunOptions('/repo', settings, { ticket: 'D201' }, {}, '/w.js');
    assert.deepEqual([plain.agent, plain.model, plain.compare], ['codex', 'gpt-5', undefined]);
    assert.equal(runLabel({ ticket: 'D201', compare }, 1), 'Run D201 with codex and replay');
  });
});
