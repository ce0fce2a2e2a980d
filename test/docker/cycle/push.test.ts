import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadConfigStrict } from '../../../src/core/config/load';
import type { FactoryConfig } from '../../../src/core/config/schema';
import { runCycle, type CycleEvent } from '../../../src/core/cycle/orchestrator';
import { readHistory } from '../../../src/core/history/history';
import { requireDocker } from '../../support/engines';
import { REPLAYS, build, cleanup, cli, exampleRepo, git } from './helpers';

type PushEvent = Extract<CycleEvent, { type: 'push' }>;

/** The example repository whose branch tracks a local bare remote, and its config with `git.push` on. */
async function repoWithRemote(): Promise<{ repo: string; remote: string; config: FactoryConfig }> {
  const repo = exampleRepo();
  const remote = path.join(path.dirname(repo), 'remote.git');
  git(path.dirname(repo), 'init', '-q', '--bare', remote);
  // git.push on in the committed config, so `factory status` sees it too.
  const file = path.join(repo, '.factory/config.json');
  const raw = JSON.parse(fs.readFileSync(file, 'utf8')) as { git?: object };
  fs.writeFileSync(file, JSON.stringify({ ...raw, git: { ...raw.git, push: true } }, null, 2) + '\n');
  git(repo, 'commit', '-q', '-am', 'git.push on');
  git(repo, 'remote', 'add', 'origin', remote);
  git(repo, 'push', '-q', '-u', 'origin', 'HEAD');
  const { config } = await loadConfigStrict(repo);
  assert.equal(config.git.push, true);
  return { repo, remote, config };
}

const branch = (repo: string): string => git(repo, 'symbolic-ref', '--short', 'HEAD').trim();
const remoteHead = (remote: string, name: string): string => git(remote, 'rev-parse', `refs/heads/${name}`).trim();

async function statusPush(repo: string): Promise<{ push?: { ahead: number; upstream: string | null; lastError?: string }; human: string }> {
  const j = await cli(['status', '--root', repo, '--json']);
  assert.equal(j.code, 0, j.stderr);
  const h = await cli(['status', '--root', repo]);
  assert.equal(h.code, 0, h.stderr);
  return { ...(JSON.parse(j.stdout) as { push?: { ahead: number; upstream: string | null; lastError?: string } }), human: h.stdout };
}

describe('git.push on a full cycle (replay agent, real sandbox and Gate, local bare remote)', function () {
  this.timeout(600_000);
  before(function () {
    requireDocker(this);
    build();
  });
  after(cleanup);

  it('PASS: the commit is pushed to the upstream; nothing is left not pushed', async () => {
    const { repo, remote, config } = await repoWithRemote();
    const events: PushEvent[] = [];
    const o = await runCycle({ root: repo, agent: 'replay', replayDir: REPLAYS, config }, { onEvent: (e) => e.type === 'push' && events.push(e) });
    assert.equal(o.status, 'PASS', o.reasons.join('; '));
    assert.ok(o.commit);
    assert.equal(o.pushed, true);
    assert.equal(o.pushRetry, undefined, 'nothing was left to retry');
    assert.equal(remoteHead(remote, branch(repo)), o.commit, 'the remote has the PASS commit');
    assert.deepEqual(events.map((e) => [e.when, e.pushed, e.commits]), [['commit', true, 1]]);
    const s = await statusPush(repo);
    assert.equal(s.push?.ahead, 0);
    assert.doesNotMatch(s.human, /not pushed/);
  });

  it('remote broken: the commit is kept and shown not pushed; the next run retries (still broken: reported, the cycle runs; fixed: pushed)', async () => {
    const { repo, remote, config } = await repoWithRemote();
    const base = remoteHead(remote, branch(repo));
    fs.renameSync(remote, `${remote}.away`);

    const first = await runCycle({ root: repo, agent: 'replay', replayDir: REPLAYS, config });
    assert.equal(first.status, 'PASS', first.reasons.join('; '));
    assert.equal(first.pushed, false);
    assert.ok(first.pushError);
    assert.ok(first.reasons.some((r) => /git push failed \(the commit is kept/.test(r)), first.reasons.join('; '));
    assert.equal(git(repo, 'rev-parse', 'HEAD').trim(), first.commit, 'the commit is kept');
    // The run's history line says so, in the commit itself (amended: it was never published), chain intact.
    const history = readHistory(path.join(repo, 'logs/autopilot/history.jsonl'));
    assert.deepEqual(history.problems, []);
    const line = history.records.find((r) => r.runId === first.runId) as Record<string, unknown> | undefined;
    assert.equal(line?.pushed, false);
    assert.equal(line?.pushError, first.pushError);
    assert.equal(git(repo, 'status', '--porcelain', '--', 'logs/autopilot/history.jsonl').trim(), '', 'committed, not left dirty');
    assert.match(git(repo, 'show', 'HEAD:logs/autopilot/history.jsonl'), /"pushed":false/);
    assert.match(git(repo, 'log', '-1', '--format=%B'), new RegExp(`Factory-Run: ${first.runId}`));
    assert.equal(git(repo, 'rev-list', '--count', `${base}..HEAD`).trim(), '1', 'one commit, amended, not two');
    const shown = await statusPush(repo);
    assert.deepEqual(shown.push, { ahead: 1, upstream: `origin/${branch(repo)}`, lastError: first.pushError });
    assert.match(shown.human, /^Push +1 commit\(s\) not pushed to origin\/\S+ \(last push failed: /m);

    // The next run, remote still broken: the retry fails, is reported again, and the cycle still runs.
    const events: PushEvent[] = [];
    const second = await runCycle({ root: repo, agent: 'replay', replayDir: REPLAYS, config, ticket: 'D202' }, { onEvent: (e) => e.type === 'push' && events.push(e) });
    assert.equal(second.ticketId, 'D202');
    assert.ok(second.timings.phases.CHECK !== undefined, 'the cycle ran through CHECK');
    assert.deepEqual(events.map((e) => [e.when, e.pushed, e.commits]).slice(0, 1), [['retry', false, 1]]);
    assert.equal(second.pushRetry?.pushed, false);
    assert.ok(second.reasons.some((r) => /earlier commit\(s\) still not pushed/.test(r)), second.reasons.join('; '));

    // Fixed: the next run pushes what was left before its cycle (here the run ends at PLAN: D201 is done).
    fs.renameSync(`${remote}.away`, remote);
    assert.equal(remoteHead(remote, branch(repo)), base);
    const retried: PushEvent[] = [];
    await assert.rejects(runCycle({ root: repo, agent: 'replay', replayDir: REPLAYS, config, ticket: 'D201' }, { onEvent: (e) => e.type === 'push' && retried.push(e) }), /no OPEN AC|nothing/i);
    assert.deepEqual(retried.map((e) => [e.when, e.pushed]), [['retry', true]]);
    assert.equal(remoteHead(remote, branch(repo)), git(repo, 'rev-parse', 'HEAD').trim(), 'the remote has every commit now');
    const after = await statusPush(repo);
    assert.deepEqual(after.push, { ahead: 0, upstream: `origin/${branch(repo)}` });
    assert.doesNotMatch(after.human, /not pushed/);
  });
});
