import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runCycle, type CycleEvent, type CycleOutcome } from '../../../src/core/cycle/orchestrator';
import { validateEvidence } from '../../../src/core/evidence/validator';
import type { HistoryEntry } from '../../../src/core/contracts/history-entry';
import { readHistory } from '../../../src/core/history/history';
import { requireDocker } from '../../support/engines';
import { REPLAYS, build, cleanup, exampleRepo, git } from './helpers';

const HISTORY = 'logs/autopilot/history.jsonl';
const POLICY = 'tests/test_spread_policy.py';
/** A host test D201's change breaks (quote() then refuses spreads ≥ 20000 bps) while HEAD alone passes it. */
const POLICY_TEST = 'from engine.pricing import quote\n\n\ndef test_any_spread_is_quoted():\n    # house policy: quote() takes any spread\n    quote(100.0, spread_bps=25_000)\n';

/** Commit exactly `files` on the host (the Controller's uncommitted IN_PROGRESS marks stay out of it). */
function commitOnHost(repo: string, files: Record<string, string | null>, message: string): string {
  for (const [rel, text] of Object.entries(files)) {
    if (text === null) git(repo, 'rm', '-q', '--', rel);
    else {
      fs.writeFileSync(path.join(repo, rel), text);
      git(repo, 'add', '--', rel);
    }
  }
  git(repo, 'commit', '-q', '-m', message, '--', ...Object.keys(files));
  return git(repo, 'rev-parse', 'HEAD').trim();
}

/** Anything on the host but the Controller's records (history, state, non-PASS evidence runs): must be nothing after a requeue. */
function hostChanges(repo: string, ...runIds: string[]): string[] {
  return git(repo, 'status', '--porcelain', '--untracked-files=all')
    .split('\n')
    .filter((l) => l && !l.slice(3).startsWith('logs/autopilot/') && !runIds.some((id) => l.slice(3).startsWith(`logs/evidence/${id}/`)));
}

/** One D201 cycle whose host gets `hostCommit` while the Worker runs (at DO, once the staging copy exists). */
async function cycleWithHostCommit(repo: string, hostCommit: () => string): Promise<{ o: CycleOutcome; events: CycleEvent[]; head: string }> {
  const events: CycleEvent[] = [];
  let head = '';
  let dos = 0;
  const onEvent = (e: CycleEvent) => {
    events.push(e);
    if (e.type === 'phase' && e.phase === 'DO' && ++dos === 2) head = hostCommit();
  };
  const o = await runCycle({ root: repo, ticket: 'D201', agent: 'replay', replayDir: REPLAYS, baseline: 'skip' }, { onEvent });
  assert.ok(head, 'the host committed during DO');
  return { o, events, head };
}

const mergeSteps = (events: CycleEvent[]) => events.flatMap((e) => (e.type === 'merge' ? [e.step] : []));
const lineOf = (repo: string, runId: string): HistoryEntry | undefined => readHistory(path.join(repo, HISTORY)).records.find((r) => r.runId === runId);
const gateTree = (log: string) => /Tree: sha256:([0-9a-f]{64})/.exec(log)?.[1];

/**
 * Issue 18 item 3 on one copy of the example, three D201 cycles, each with a commit on the host
 * while the Worker runs: (b) a commit to a changeset file → requeued, not counted; (c) a commit
 * that makes HEAD + changeset fail a test HEAD alone passes → requeued, counted; (a) a commit to
 * another file → integrated, the Gate on the integrated tree, PASS committed on top of it.
 */
describe('merge queue: integration onto a HEAD that moved during the cycle (real engine, replay agent)', function () {
  this.timeout(600_000);
  before(function () {
    requireDocker(this);
    build();
  });
  after(cleanup);

  it('conflict → requeued (not counted); integrated-Gate FAIL → requeued (counted), nothing on the host touched; another file → integrated and committed on top', async () => {
    const repo = exampleRepo();

    // (b) A person commits to engine/pricing.py, a file of D201's changeset.
    const b = await cycleWithHostCommit(repo, () => commitOnHost(repo, { 'engine/pricing.py': fs.readFileSync(path.join(repo, 'engine/pricing.py'), 'utf8') + '\n# reviewed by a person\n' }, 'host: pricing note'));
    assert.equal(b.o.status, 'FAIL', b.o.reasons.join('; '));
    assert.equal(b.o.commit, null);
    assert.equal(git(repo, 'rev-parse', 'HEAD').trim(), b.head, 'HEAD is the person\'s commit');
    assert.deepEqual(hostChanges(repo, b.o.runId), [], 'nothing on the host changed (ledger cells put back)');
    assert.deepEqual(mergeSteps(b.events), ['queued', 'integrating'], 'a conflict runs no Gate');
    const bLine = lineOf(repo, b.o.runId);
    assert.equal(bLine?.status, 'FAIL');
    assert.deepEqual(bLine?.requeue && { counts: bLine.requeue.countsAsRetry, head: bLine.requeue.head }, { counts: false, head: b.head });
    assert.match(bLine?.requeue?.reason ?? '', /^conflict: engine\/pricing\.py changed on HEAD/);
    const requeued = b.events.find((e) => e.type === 'requeued');
    assert.equal(requeued?.type === 'requeued' && requeued.countsAsRetry, false);
    const ev = validateEvidence(path.join(repo, bLine?.evidence ?? 'none'));
    assert.ok(ev.valid && ev.manifest?.status === 'FAIL', 'FAIL evidence, never committed');

    // (c) A person commits a test D201's change breaks; HEAD alone passes it.
    const c = await cycleWithHostCommit(repo, () => commitOnHost(repo, { [POLICY]: POLICY_TEST }, 'host: spread policy test'));
    assert.equal(c.o.status, 'FAIL', c.o.reasons.join('; '));
    assert.equal(git(repo, 'rev-parse', 'HEAD').trim(), c.head);
    assert.deepEqual(hostChanges(repo, b.o.runId, c.o.runId), [], 'nothing reverted or applied on the host');
    assert.match(fs.readFileSync(path.join(repo, 'engine/pricing.py'), 'utf8'), /^# reviewed by a person$/m);
    assert.doesNotMatch(fs.readFileSync(path.join(repo, 'engine/pricing.py'), 'utf8'), /MAX_SPREAD_BPS/, 'the changeset was not applied');
    assert.deepEqual(mergeSteps(c.events), ['queued', 'integrating', 'gate']);
    const cLine = lineOf(repo, c.o.runId);
    assert.equal(cLine?.requeue?.countsAsRetry, true, cLine?.requeue?.reason);
    assert.match(cLine?.requeue?.reason ?? '', /the Gate fails at fast on HEAD [0-9a-f]{7} \+ the changeset while HEAD [0-9a-f]{7} alone passes/);
    const cReadme = fs.readFileSync(path.join(repo, cLine?.evidence ?? 'none', 'README.md'), 'utf8');
    assert.match(cReadme, /went back to the queue\. It counts as a retry/);
    assert.match(fs.readFileSync(path.join(repo, cLine?.evidence ?? 'none', 'error.log'), 'utf8'), /test_any_spread_is_quoted/, 'the integrated Gate\'s failing test is in the evidence');

    // The person takes the policy test back; (a) then commits another file while the Worker runs.
    commitOnHost(repo, { [POLICY]: null }, 'host: drop the policy test');
    const a = await cycleWithHostCommit(repo, () => commitOnHost(repo, { 'README.md': fs.readFileSync(path.join(repo, 'README.md'), 'utf8') + '\nA note from a person.\n' }, 'host: readme note'));
    assert.equal(a.o.status, 'PASS', a.o.reasons.join('; '));
    assert.equal(a.o.escalated, false, 'one counted FAIL before it (the conflict did not count): no escalation');
    // Integrated while waiting for the queue; HEAD did not move again, so the queue took it as it was.
    assert.deepEqual(mergeSteps(a.events), ['queued', 'integrating', 'gate', 'committed']);
    assert.equal(git(repo, 'rev-parse', `${a.o.commit}^`).trim(), a.head, 'the PASS commit\'s parent is the person\'s commit');
    assert.equal(git(repo, 'show', '--name-only', '--format=', a.o.commit ?? 'HEAD').split('\n').includes('README.md'), false, 'the person\'s file is not in the PASS commit');
    assert.match(fs.readFileSync(path.join(repo, 'README.md'), 'utf8'), /A note from a person\./);
    const manifest = JSON.parse(fs.readFileSync(path.join(repo, a.o.evidencePath ?? 'none', 'manifest.json'), 'utf8')) as { git: { commit: string }; verified: { base_commit: string } };
    assert.equal(manifest.verified.base_commit, a.head, 'verified on the integrated HEAD');
    assert.notEqual(manifest.git.commit, a.head, 'the cycle started from the commit before');
    assert.match(fs.readFileSync(path.join(repo, a.o.evidencePath ?? 'none', 'README.md'), 'utf8'), new RegExp(`^Integrated: the Worker started from ${manifest.git.commit}; HEAD had moved to ${a.head}`, 'm'));
    const checkTree = gateTree(a.events.flatMap((e) => (e.type === 'output' && e.source === 'gate' ? [e.text] : [])).join('\n'));
    const integratedTree = gateTree(fs.readFileSync(path.join(repo, a.o.evidencePath ?? 'none', 'gate.log'), 'utf8'));
    assert.ok(checkTree && integratedTree);
    assert.notEqual(integratedTree, checkTree, 'the evidence\'s Gate ran on the integrated tree, not the cycle\'s own');
    const ledger = fs.readFileSync(path.join(repo, 'docs/v2/design/AC_LEDGER.md'), 'utf8');
    assert.match(ledger, new RegExp(`^\\| D201::AC-2 \\|.*\\| DONE \\|.*${a.head.slice(0, 7)}`, 'm'), 'the ledger names the integrated HEAD');
  });
});
