import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseFeedback, readFeedbackFile } from '../../../src/core/cycle/feedback-file';
import { FactoryError } from '../../../src/core/util/errors';

const now = () => new Date('2026-11-25T10:00:00.000Z');

/** Asserts `fn` throws a FactoryError with `code` whose message matches every pattern. */
function refuses(fn: () => unknown, code: string, ...patterns: RegExp[]): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof FactoryError, String(err));
    assert.equal(err.code, code, err.message);
    for (const p of patterns) assert.match(err.message, p);
    return true;
  });
}

describe('factory run --feedback FILE: the parser', () => {
  it('plain text: `path:line: text` and `path:line text` lines are line comments (indented lines continue one), the rest is the comment', () => {
    const text = [
      '# Please redo',
      '',
      'Clamp the spread instead of raising.',
      'engine/pricing.py:42: use MAX_SPREAD_BPS here',
      '  and keep the docstring',
      'tests/test_pricing.py:7 add a case for 0',
      'See http://example.com:8080/x for the rule.',
      '```',
      'not/a/comment.py:3: inside a code block',
      '```',
    ].join('\n');
    const fb = parseFeedback('fb.md', text, { ticket: 'D201', now });
    assert.equal(fb.ticket_id, 'D201');
    assert.equal(fb.schema_version, 1);
    assert.equal(fb.created_at, '2026-11-25T10:00:00.000Z');
    assert.equal(fb.run_id, undefined);
    assert.deepEqual(fb.line_comments, [
      { path: 'engine/pricing.py', line: 42, body: 'use MAX_SPREAD_BPS here\nand keep the docstring' },
      { path: 'tests/test_pricing.py', line: 7, body: 'add a case for 0' },
    ]);
    assert.equal(fb.comment, '# Please redo\n\nClamp the spread instead of raising.\nSee http://example.com:8080/x for the rule.\n```\nnot/a/comment.py:3: inside a code block\n```');
  });

  it('JSON in the record\'s shape, with schema_version, created_at and ticket_id optional (ticket from --ticket)', () => {
    const fb = parseFeedback('fb.json', JSON.stringify({ comment: 'redo', line_comments: [{ path: 'a.py', line: 1, body: 'x' }] }), { ticket: 'D201', now });
    assert.deepEqual([fb.ticket_id, fb.comment, fb.line_comments.length, fb.created_at], ['D201', 'redo', 1, '2026-11-25T10:00:00.000Z']);
    const own = parseFeedback('fb.json', JSON.stringify({ ticket_id: 'D202', run_id: 'r1', comment: 'c' }), { now });
    assert.deepEqual([own.ticket_id, own.run_id], ['D202', 'r1']);
  });

  it('no ticket (neither in the file nor --ticket) is a usage error; two different ones are invalid', () => {
    refuses(() => parseFeedback('fb.md', 'redo it'), 'usage', /fb\.md/, /--ticket/);
    refuses(() => parseFeedback('fb.json', '{"ticket_id":"D202","comment":"c"}', { ticket: 'D201' }), 'feedback.invalid', /D202/, /D201/);
  });

  it('a path outside the repository is refused, naming the file and the line and what to write', () => {
    refuses(() => parseFeedback('fb.md', 'intro\n../secrets.txt:3: read this', { ticket: 'D201' }), 'feedback.invalid', /^fb\.md:2: /, /\.\.\/secrets\.txt/, /inside the repository/, /src\/app\.ts:12: text/);
    refuses(() => parseFeedback('fb.md', '/etc/passwd:1: x', { ticket: 'D201' }), 'feedback.invalid', /^fb\.md:1: /, /absolute/);
    const json = '{\n  "comment": "c",\n  "line_comments": [\n    { "path": "ok.py", "line": 1, "body": "x" },\n    { "path": "/abs.py", "line": 2, "body": "y" }\n  ]\n}';
    refuses(() => parseFeedback('fb.json', json, { ticket: 'D201' }), 'feedback.invalid', /^fb\.json:5: /, /absolute/);
  });

  it('broken JSON, a wrong field, line 0 or an empty file: feedback.invalid with the file (and line) and an example', () => {
    refuses(() => parseFeedback('fb.json', '{\n  "comment": "c",\n  oops\n}', { ticket: 'D201' }), 'feedback.invalid', /^fb\.json(:3)?: not valid JSON/, /"line_comments"/);
    refuses(() => parseFeedback('fb.json', '{\n  "comment": "c",\n  "line_comments": [{ "path": "a", "line": "one", "body": "x" }]\n}', { ticket: 'D201' }), 'feedback.invalid', /^fb\.json:3: line_comments\.0\.line: /);
    refuses(() => parseFeedback('fb.json', '{"comment": "c", "extra": 1}', { ticket: 'D201' }), 'feedback.invalid', /^fb\.json/, /extra|Unrecognized/);
    refuses(() => parseFeedback('fb.md', 'ok\na.py:0: x', { ticket: 'D201' }), 'feedback.invalid', /^fb\.md:2: /, /from 1/);
    refuses(() => parseFeedback('fb.md', '\n  \n', { ticket: 'D201' }), 'feedback.invalid', /no comment and no line comment/);
    refuses(() => parseFeedback('fb.json', '{"__proto__": {"x": 1}, "comment": "c"}', { ticket: 'D201' }), 'feedback.invalid', /__proto__/);
  });

  it('readFeedbackFile: a missing file, a folder or one over 1 MB is refused naming it', () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'feedback-file-'));
    try {
      refuses(() => readFeedbackFile(path.join(tmp, 'none.md'), { ticket: 'D201' }), 'feedback.invalid', /none\.md: no such file/);
      refuses(() => readFeedbackFile(tmp, { ticket: 'D201' }), 'feedback.invalid', /no such file/);
      const big = path.join(tmp, 'big.md');
      fs.writeFileSync(big, 'x'.repeat(1024 * 1024 + 1));
      refuses(() => readFeedbackFile(big, { ticket: 'D201' }), 'feedback.invalid', /big\.md: .*more than/);
      const ok = path.join(tmp, 'ok.md');
      fs.writeFileSync(ok, '\uFEFFredo\nsrc/a.ts:3: here\n');
      assert.deepEqual(readFeedbackFile(ok, { ticket: 'D201' }).line_comments, [{ path: 'src/a.ts', line: 3, body: 'here' }]);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});
