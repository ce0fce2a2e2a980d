import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { defaultConfig } from '../../../src/core/config/schema';
import { reviewFeedbackSchema, type ReviewFeedback } from '../../../src/core/contracts/review-feedback';
import { controllerRecordFilter } from '../../../src/core/evidence/records';
import { cyclePaths } from '../../../src/core/cycle/cycle-paths';
import { feedbackNote, pendingFeedbackFile, readPendingFeedback, settleFeedback, storeFeedback, takeFeedback, usedFeedbackFile } from '../../../src/core/cycle/feedback';
import { nullLogger, type Logger } from '../../../src/core/util/log';

const fb = (over: Partial<ReviewFeedback> = {}): ReviewFeedback =>
  reviewFeedbackSchema.parse({ schema_version: 1, ticket_id: 'D201', run_id: 'run-1', created_at: '2026-11-25T10:00:00.000Z', comment: 'clamp it', line_comments: [{ path: 'engine/pricing.py', line: 3, body: 'here' }], ...over });

function warnings(): Logger & { lines: string[] } {
  const lines: string[] = [];
  return { ...nullLogger, lines, warn: (m: string) => void lines.push(m) };
}

describe('review feedback: pending per ticket, taken by the next attempt, consumed once it records a verdict', () => {
  let root: string;
  let dir: string;
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'feedback-'));
    dir = cyclePaths(root, defaultConfig()).feedback;
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  it('the feedback folder is <ap>/feedback, and a pending file there is a Controller record (never a dirty tree)', async () => {
    assert.equal(dir, path.join(root, 'logs/autopilot/feedback'));
    const file = await storeFeedback(dir, fb());
    assert.equal(file, path.join(dir, 'D201.json'));
    assert.equal(controllerRecordFilter(root, defaultConfig())('logs/autopilot/feedback/D201.json'), true);
  });

  it('store → take (pending) → a crash before the verdict keeps it → the verdict consumes it as <ticket>.<run>.used.json', async () => {
    await storeFeedback(dir, fb());
    const taken = takeFeedback(dir, 'D201', {});
    assert.equal(taken?.source, 'pending');
    assert.equal(taken?.feedback.comment, 'clamp it');
    assert.equal(takeFeedback(dir, 'D202', {}), null, 'another ticket has none');
    // A crash (or an abort) between taking and recording: nothing was settled, the next attempt takes it again.
    assert.deepEqual(takeFeedback(dir, 'D201', {})?.feedback, taken?.feedback);
    await settleFeedback(dir, { run_id: 'run-2', ticket_id: 'D201' }, taken, undefined, nullLogger);
    assert.equal(fs.existsSync(pendingFeedbackFile(dir, 'D201')), false);
    assert.equal(JSON.parse(fs.readFileSync(usedFeedbackFile(dir, 'D201', 'run-2'), 'utf8')).comment, 'clamp it');
    assert.equal(takeFeedback(dir, 'D201', {}), null, 'used once');
  });

  it('an attempt that took the pending feedback and was asked for changes again: the old one is used, the new one pending with run_id = that attempt', async () => {
    await storeFeedback(dir, fb());
    const taken = takeFeedback(dir, 'D201', {});
    const again = fb({ run_id: undefined, ticket_id: 'whatever', comment: 'still wrong', line_comments: [] });
    await settleFeedback(dir, { run_id: 'run-2', ticket_id: 'D201' }, taken, { approved: false, reason: 'changes requested', feedback: again }, nullLogger);
    assert.ok(fs.existsSync(usedFeedbackFile(dir, 'D201', 'run-2')));
    const pending = readPendingFeedback(dir, 'D201');
    assert.equal(pending?.comment, 'still wrong');
    assert.equal(pending?.run_id, 'run-2');
    assert.equal(pending?.ticket_id, 'D201');
  });

  it('only the feedback it took is consumed: a pending file replaced meanwhile stays pending', async () => {
    await storeFeedback(dir, fb());
    const taken = takeFeedback(dir, 'D201', {});
    await storeFeedback(dir, fb({ run_id: 'run-9', comment: 'newer' }));
    await settleFeedback(dir, { run_id: 'run-2', ticket_id: 'D201' }, taken, undefined, nullLogger);
    assert.equal(readPendingFeedback(dir, 'D201')?.comment, 'newer');
  });

  it('the caller\'s feedback (--feedback, the BLOCKED hand-off) wins for its ticket and leaves the pending file alone', async () => {
    await storeFeedback(dir, fb());
    const mine = fb({ run_id: undefined, comment: 'from the CLI' });
    const taken = takeFeedback(dir, 'D201', { feedback: mine });
    assert.equal(taken?.source, 'option');
    assert.equal(taken?.feedback.comment, 'from the CLI');
    assert.equal(takeFeedback(dir, 'D202', { feedback: mine }), null, 'not for another ticket');
    await settleFeedback(dir, { run_id: 'run-2', ticket_id: 'D201' }, taken, undefined, nullLogger);
    assert.equal(readPendingFeedback(dir, 'D201')?.comment, 'clamp it');
    assert.throws(() => takeFeedback(dir, 'D201', { feedback: fb({ line_comments: [{ path: '../etc/passwd', line: 1, body: 'x' }] }) }), /dot-dot/);
  });

  it('a pending file that is a symlink, for another ticket, malformed or naming a path outside the repository is ignored with a warning', async () => {
    fs.mkdirSync(dir, { recursive: true });
    const target = path.join(root, 'elsewhere.json');
    fs.writeFileSync(target, JSON.stringify(fb()));
    const cases: [string, () => void][] = [
      ['symlink', () => fs.symlinkSync(target, pendingFeedbackFile(dir, 'D201'))],
      ['other ticket', () => fs.writeFileSync(pendingFeedbackFile(dir, 'D201'), JSON.stringify(fb({ ticket_id: 'D999' })))],
      ['malformed', () => fs.writeFileSync(pendingFeedbackFile(dir, 'D201'), '{"schema_version": 1,')],
      ['outside', () => fs.writeFileSync(pendingFeedbackFile(dir, 'D201'), JSON.stringify(fb({ line_comments: [{ path: '/etc/passwd', line: 1, body: 'x' }] })))],
    ];
    for (const [name, make] of cases) {
      fs.rmSync(pendingFeedbackFile(dir, 'D201'), { force: true });
      make();
      const log = warnings();
      assert.equal(takeFeedback(dir, 'D201', {}, log), null, name);
      assert.equal(log.lines.length, 1, name);
    }
  });

  it('storing refuses a path outside the repository; settling never throws (the verdict stands), it warns', async () => {
    await assert.rejects(storeFeedback(dir, fb({ line_comments: [{ path: '/etc/passwd', line: 1, body: 'x' }] })), /feedback\.invalid|is absolute/);
    const log = warnings();
    await settleFeedback(dir, { run_id: 'run-2', ticket_id: 'D201' }, null, { approved: false, reason: 'r', feedback: fb({ line_comments: [{ path: 'a/../../b', line: 1, body: 'x' }] }) }, log);
    assert.equal(log.lines.length, 1);
    assert.equal(readPendingFeedback(dir, 'D201'), null);
  });

  it('a ticket id that is no plain file name is hashed into one; plan.json\'s note counts the comments', async () => {
    const odd = fb({ ticket_id: '../D 201/x' });
    const file = await storeFeedback(dir, odd);
    assert.equal(path.dirname(file), dir);
    assert.match(path.basename(file), /^t-[0-9a-f]{24}\.json$/);
    assert.equal(readPendingFeedback(dir, '../D 201/x')?.comment, 'clamp it');
    assert.deepEqual(feedbackNote(fb()), { run_id: 'run-1', comments: 2 });
    assert.deepEqual(feedbackNote(fb({ run_id: undefined, comment: ' ' })), { comments: 1 });
  });
});
