import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runCycle } from '../../../src/core/cycle/orchestrator';
import { validateEvidence } from '../../../src/core/evidence/validator';
import { requireDocker } from '../../support/engines';
import { REPLAYS, build, cleanup, cli, exampleRepo, git, replayDir, treeDigest } from './helpers';

const FEEDBACK_DIR = 'logs/autopilot/feedback';
const read = (...p: string[]) => fs.readFileSync(path.join(...p), 'utf8');

/**
 * "Request changes" (issue 20): a person's comment and line comment on a verified changeset FAIL
 * the cycle, nothing applied, and reach the ticket's next attempt: its Worker's task and prompt
 * (the runtime's prompt.md, kept with a FAILed staging copy), its plan.json and evidence. The
 * CLI's `factory run --feedback FILE` does the same without a review.
 */
describe('Request changes: review feedback reaches the next attempt\'s Worker (real engine)', function () {
  this.timeout(600_000);
  before(function () {
    requireDocker(this);
    build();
  });
  after(cleanup);

  it('Request changes FAILs with nothing applied and stores the feedback; the next cycle\'s Worker gets it in its prompt, then it is used', async () => {
    const repo = exampleRepo();
    const before = treeDigest(repo);
    const head = git(repo, 'rev-parse', 'HEAD').trim();
    const first = await runCycle(
      { root: repo, agent: 'replay', replayDir: REPLAYS },
      {
        review: async (r) => ({
          approved: false,
          reason: 'changes requested',
          feedback: { schema_version: 1, ticket_id: r.ticketId, run_id: r.runId, created_at: new Date().toISOString(), comment: 'Clamp the spread to MAX_SPREAD_BPS instead of raising.', line_comments: [{ path: 'engine/pricing.py', line: 3, body: 'name this constant in the docstring' }], author: 'Reviewer' },
        }),
      },
    );
    assert.equal(first.status, 'FAIL');
    assert.match(first.reasons.join('\n'), /rejected in review: changes requested/);
    assert.equal(treeDigest(repo), before, 'nothing applied');
    assert.equal(git(repo, 'rev-parse', 'HEAD').trim(), head, 'nothing committed');
    const pending = JSON.parse(read(repo, FEEDBACK_DIR, 'D201.json'));
    assert.equal(pending.run_id, first.runId);
    assert.equal(pending.line_comments[0].path, 'engine/pricing.py');
    assert.equal(git(repo, 'status', '--porcelain', '--', 'engine', 'tests'), '', 'the pending file dirties nothing the next cycle checks');
    // The FAIL evidence: review.json and the README quoting the comment and the line comment.
    const ev1 = path.join(repo, first.evidencePath!);
    assert.equal(JSON.parse(read(ev1, 'review.json')).feedback.comment, 'Clamp the spread to MAX_SPREAD_BPS instead of raising.');
    const readme1 = read(ev1, 'README.md');
    assert.match(readme1, /> Clamp the spread to MAX_SPREAD_BPS instead of raising\./);
    assert.match(readme1, /- `engine\/pricing\.py`:3 — name this constant in the docstring/);
    assert.deepEqual(validateEvidence(ev1).problems, [], 'the FAIL evidence with review.json still validates');

    // The next attempt of D201 (its review rejects plainly, so its staging copy and agent output are kept).
    const second = await runCycle({ root: repo, agent: 'replay', replayDir: REPLAYS }, { review: async () => ({ approved: false, reason: 'still not it' }) });
    assert.equal(second.ticketId, 'D201');
    assert.equal(second.status, 'FAIL');
    assert.ok(second.stagingKept, 'the FAILed copy is kept');
    const prompt = read(second.stagingKept, 'agent', 'prompt.md');
    assert.match(prompt, /## Review comments from the previous attempt/);
    assert.ok(prompt.includes(`(run ${first.runId})`), 'the reviewed run is named');
    assert.match(prompt, /Clamp the spread to MAX_SPREAD_BPS instead of raising\./);
    assert.match(prompt, /^- engine\/pricing\.py:3 — name this constant in the docstring$/m);
    assert.ok(prompt.indexOf('## Review comments') < prompt.indexOf('## Project rules'), 'before the rules');
    const plan = JSON.parse(read(repo, 'logs/autopilot/plan.json'));
    assert.deepEqual(plan.review_feedback, { run_id: first.runId, comments: 2 });
    const given = JSON.parse(read(repo, second.evidencePath!, 'feedback.json'));
    assert.deepEqual([given.source, given.run_id], ['pending', first.runId]);
    assert.match(read(repo, second.evidencePath!, 'README.md'), /Review comments this attempt's Worker was given/);
    assert.deepEqual(validateEvidence(path.join(repo, second.evidencePath!)).problems, []);
    // Consumed with the verdict: renamed, not pending any more.
    assert.deepEqual(fs.readdirSync(path.join(repo, FEEDBACK_DIR)), [`D201.${second.runId}.used.json`]);
  });

  it('factory run --feedback FILE (plain text) gives the comments to the Worker; a path outside the repository is refused (exit 2)', async () => {
    const repo = exampleRepo();
    const file = path.join(repo, '..', 'feedback.md');
    fs.writeFileSync(file, 'Please keep the old behaviour for zero.\nengine/pricing.py:12: handle spread 0 here\n');
    // A Worker that writes outside D201's scope: the cycle FAILs before the Gate and keeps the agent's output.
    const replays = replayDir({ 'D201.json': { steps: [{ op: 'write', path: 'engine/__init__.py', content: '# out of scope\n' }] } });
    const run = await cli(['run', '--root', repo, '--agent', 'replay', '--replay', replays, '--ticket', 'D201', '--feedback', file, '--json']);
    assert.equal(run.code, 1, run.stderr);
    const outcome = JSON.parse(run.stdout.trim().split('\n').at(-1)!);
    assert.equal(outcome.ticketId, 'D201');
    const prompt = read(outcome.stagingKept, 'agent', 'prompt.md');
    assert.match(prompt, /## Review comments from the previous attempt/);
    assert.match(prompt, /Please keep the old behaviour for zero\./);
    assert.match(prompt, /^- engine\/pricing\.py:12 — handle spread 0 here$/m);
    assert.equal(JSON.parse(read(repo, outcome.evidencePath, 'feedback.json')).source, 'option');

    fs.writeFileSync(file, 'fine\n../../etc/passwd:1: look\n');
    const bad = await cli(['run', '--root', repo, '--agent', 'replay', '--replay', replays, '--ticket', 'D201', '--feedback', file]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /feedback\.md:2: .*\.\.\/\.\.\/etc\/passwd.*inside the repository/);
  });
});
