import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { appendHistory, readHistory } from '../../../src/core/history/history';
import { lastPushError, markNotPushed, pushError, pushState, pushToUpstream, retryPendingPush } from '../../../src/core/cycle/push';

const ID = ['-c', 'user.name=T', '-c', 'user.email=t@localhost', '-c', 'commit.gpgsign=false'];

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', [...ID, ...args], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

/** A bare remote and a clone whose `main` tracks `origin/main`, with one pushed commit. */
function repoWithRemote(tmp: string): { remote: string; work: string } {
  const remote = path.join(tmp, 'remote.git');
  const work = path.join(tmp, 'work');
  git(tmp, 'init', '-q', '--bare', '-b', 'main', remote);
  git(tmp, 'init', '-q', '-b', 'main', work);
  git(work, 'remote', 'add', 'origin', remote);
  fs.writeFileSync(path.join(work, 'a.txt'), 'a\n');
  git(work, 'add', 'a.txt');
  git(work, 'commit', '-q', '-m', 'first');
  git(work, 'push', '-q', '-u', 'origin', 'main');
  return { remote, work };
}

function runCommit(work: string, runId: string, file = `${runId}.txt`): string {
  fs.writeFileSync(path.join(work, file), `${runId}\n`);
  git(work, 'add', file);
  git(work, 'commit', '-q', '-m', `factory: ${runId}\n\nFactory-Run: ${runId}\n`);
  return git(work, 'rev-parse', 'HEAD');
}

const remoteHead = (remote: string): string => git(remote, 'rev-parse', 'refs/heads/main');

describe('git.push: push, not pushed, retry (real git, local bare remote)', function () {
  this.timeout(30_000);
  let tmp: string;
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-push-'));
  });
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('pushes the current branch to its upstream: the remote has the commit, nothing is left ahead', async () => {
    const { remote, work } = repoWithRemote(tmp);
    const head = runCommit(work, 'r1');
    const before = await pushState(work);
    assert.deepEqual(before, { upstream: 'origin/main', ahead: 1, runIds: ['r1'] });
    const r = await pushToUpstream(work);
    assert.deepEqual(r, { pushed: true, commits: 1, upstream: 'origin/main' });
    assert.equal(remoteHead(remote), head);
    assert.deepEqual(await pushState(work), { upstream: 'origin/main', ahead: 0, runIds: [] });
  });

  it('a broken remote: the commit is kept, the failure is reported and remembered; the retry pushes once it is fixed', async () => {
    const { remote, work } = repoWithRemote(tmp);
    const pushedBefore = remoteHead(remote);
    const moved = `${remote}.away`;
    fs.renameSync(remote, moved);
    const head = runCommit(work, 'r1');
    const r = await pushToUpstream(work);
    assert.equal(r.pushed, false);
    assert.equal(r.commits, 1);
    assert.match(r.error ?? '', /remote\.git|repository/);
    assert.equal(git(work, 'rev-parse', 'HEAD'), head, 'the commit is kept');
    const s = await pushState(work);
    assert.equal(s.ahead, 1);
    assert.deepEqual(s.runIds, ['r1']);
    assert.equal(s.lastError, r.error);
    // The next run, remote still broken: reported again, nothing lost.
    runCommit(work, 'r2');
    const again = await retryPendingPush(work);
    assert.equal(again?.pushed, false);
    assert.equal(again?.commits, 2);
    assert.deepEqual((await pushState(work)).runIds, ['r2', 'r1']);
    // Fixed: the retry pushes both commits and the remembered failure is gone.
    fs.renameSync(moved, remote);
    assert.equal(remoteHead(remote), pushedBefore);
    const fixed = await retryPendingPush(work);
    assert.deepEqual(fixed, { pushed: true, commits: 2, upstream: 'origin/main' });
    assert.equal(remoteHead(remote), git(work, 'rev-parse', 'HEAD'));
    assert.equal(await lastPushError(work), undefined);
    assert.equal(await retryPendingPush(work), null, 'nothing left: no push at all');
  });

  it('a non-fast-forward is a failure with git\'s reason; the local commit stays', async () => {
    const { remote, work } = repoWithRemote(tmp);
    const other = path.join(tmp, 'other');
    git(tmp, 'clone', '-q', remote, other);
    runCommit(other, 'theirs');
    git(other, 'push', '-q', 'origin', 'main');
    const theirs = remoteHead(remote);
    const head = runCommit(work, 'r1');
    const r = await pushToUpstream(work);
    assert.equal(r.pushed, false);
    assert.match(r.error ?? '', /rejected|fetch first|non-fast-forward/);
    assert.equal(remoteHead(remote), theirs, 'the remote is untouched');
    assert.equal(git(work, 'rev-parse', 'HEAD'), head);
    assert.equal((await pushState(work)).lastError, r.error);
  });

  it('no upstream: nothing to retry, the push says so, status-facing state has no upstream', async () => {
    const work = path.join(tmp, 'solo');
    git(tmp, 'init', '-q', '-b', 'main', work);
    runCommit(work, 'r1');
    assert.deepEqual(await pushState(work), { upstream: null, ahead: 0, runIds: [] });
    assert.equal(await retryPendingPush(work), null);
    const r = await pushToUpstream(work);
    assert.equal(r.pushed, false);
    assert.match(r.error ?? '', /no upstream/);
  });

  it('runs no pre-push hook of the repository', async () => {
    const { remote, work } = repoWithRemote(tmp);
    const marker = path.join(tmp, 'hook-ran');
    const hook = path.join(work, '.git', 'hooks', 'pre-push');
    fs.writeFileSync(hook, `#!/bin/sh\ntouch ${marker}\nexit 1\n`, { mode: 0o755 });
    const head = runCommit(work, 'r1');
    const r = await pushToUpstream(work);
    assert.equal(r.pushed, true, r.error);
    assert.equal(fs.existsSync(marker), false);
    assert.equal(remoteHead(remote), head);
  });

  it('pushError: the rejected refs (porcelain or human form) and error lines, hints dropped', () => {
    assert.equal(
      pushError('To /r\n!\tHEAD:refs/heads/main\t[rejected] (fetch first)\nDone\n', "error: failed to push some refs to '/r'\nhint: Updates were rejected\n"),
      "HEAD:refs/heads/main [rejected] (fetch first); error: failed to push some refs to '/r'",
    );
    assert.equal(pushError('', 'To /r\n ! [rejected]  HEAD -> main (non-fast-forward)\nhint: pull first\n'), '! [rejected]  HEAD -> main (non-fast-forward)');
    assert.equal(pushError('', 'something odd\n'), 'something odd');
  });

  it('markNotPushed: the run\'s (last) history line gains pushed:false and the reason, the hash chain stays whole; another run\'s line is left alone', async () => {
    const file = path.join(tmp, 'history.jsonl');
    await appendHistory(file, { runId: 'r0', ticketId: 'T', status: 'FAIL' });
    await appendHistory(file, { runId: 'r1', ticketId: 'T', status: 'PASS', costUsd: 0.5 });
    assert.equal(await markNotPushed(file, 'r0', 'x'), false, 'not the last line: nothing rewritten');
    assert.equal(await markNotPushed(file, 'r1', 'remote gone'), true);
    const read = readHistory(file);
    assert.deepEqual(read.problems, []);
    assert.deepEqual(read.records.map((r) => [r.runId, (r as Record<string, unknown>).pushed, (r as Record<string, unknown>).pushError]), [['r0', undefined, undefined], ['r1', false, 'remote gone']]);
    await appendHistory(file, { runId: 'r2', ticketId: 'T', status: 'PASS' });
    assert.deepEqual(readHistory(file).problems, [], 'the next line chains to the rewritten one');
  });
});
