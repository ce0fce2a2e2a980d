import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { renderPush } from '../../../src/cli/commands/status-push';
import { pushToUpstream } from '../../../src/core/cycle/push';
import { buildCli, copyDemo, runCli, tempDirs } from './cli-process';

const ID = ['-c', 'user.name=T', '-c', 'user.email=t@localhost', '-c', 'commit.gpgsign=false'];
const git = (cwd: string, ...args: string[]): string => execFileSync('git', [...ID, ...args], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();

interface PushJson {
  push?: { ahead: number; upstream: string | null; lastError?: string };
}

/** The example with `git.push` on (or off), committed, its `main` tracking a local bare remote. */
function demoWithRemote(tmp: ReturnType<typeof tempDirs>, name: string, push = true): { root: string; remote: string } {
  const root = copyDemo(tmp.make(name));
  const cfgFile = path.join(root, '.factory/config.json');
  const cfg = JSON.parse(fs.readFileSync(cfgFile, 'utf8')) as Record<string, unknown>;
  cfg.git = { ...(cfg.git as object | undefined), push };
  fs.writeFileSync(cfgFile, JSON.stringify(cfg, null, 2));
  const remote = path.join(path.dirname(root), 'remote.git');
  git(path.dirname(root), 'init', '-q', '--bare', '-b', 'main', remote);
  git(root, 'init', '-q', '-b', 'main');
  git(root, 'add', '-A');
  git(root, 'commit', '-q', '-m', 'base');
  git(root, 'remote', 'add', 'origin', remote);
  git(root, 'push', '-q', '-u', 'origin', 'main');
  return { root, remote };
}

function factoryCommit(root: string, runId: string): void {
  fs.writeFileSync(path.join(root, `${runId}.txt`), runId);
  git(root, 'add', `${runId}.txt`);
  git(root, 'commit', '-q', '-m', `factory: x PASS\n\nFactory-Run: ${runId}\n`);
}

function status(root: string): { json: PushJson; human: string } {
  const j = runCli(['status', '--root', root, '--json']);
  assert.equal(j.code, 0, j.stderr);
  const h = runCli(['status', '--root', root]);
  assert.equal(h.code, 0, h.stderr);
  return { json: JSON.parse(j.stdout) as PushJson, human: h.stdout };
}

describe('factory status: commits not pushed (git.push; real git, local bare remote)', function () {
  this.timeout(60_000);
  const tmp = tempDirs();
  before(() => buildCli());
  after(() => tmp.cleanup());

  it('counts the commits not on the upstream from git and names the last push failure; nothing once pushed', async () => {
    const { root, remote } = demoWithRemote(tmp, 'push-status');
    assert.deepEqual(status(root).json.push, { ahead: 0, upstream: 'origin/main' });
    assert.doesNotMatch(status(root).human, /^Push/m, 'all pushed: no line');

    fs.renameSync(remote, `${remote}.away`);
    factoryCommit(root, 'run-1');
    factoryCommit(root, 'run-2');
    const failed = await pushToUpstream(root);
    assert.equal(failed.pushed, false);
    const s = status(root);
    assert.deepEqual(s.json.push, { ahead: 2, upstream: 'origin/main', lastError: failed.error });
    const line = s.human.split('\n').find((l) => l.startsWith('Push'));
    assert.equal(line, `Push       2 commit(s) not pushed to origin/main (last push failed: ${failed.error})`);

    fs.renameSync(`${remote}.away`, remote);
    assert.equal((await pushToUpstream(root)).pushed, true);
    assert.deepEqual(status(root).json.push, { ahead: 0, upstream: 'origin/main' });
  });

  it('counts from git even without a recorded failure (a crash before the push): no reason, still not pushed', () => {
    const { root } = demoWithRemote(tmp, 'push-crash');
    factoryCommit(root, 'run-1');
    const s = status(root);
    assert.deepEqual(s.json.push, { ahead: 1, upstream: 'origin/main' });
    assert.match(s.human, /^Push +1 commit\(s\) not pushed to origin\/main$/m);
  });

  it('no upstream configured: said once, exit 0; git.push off: no push field at all', () => {
    const { root } = demoWithRemote(tmp, 'push-noup');
    git(root, 'branch', '--unset-upstream');
    const s = status(root);
    assert.deepEqual(s.json.push, { ahead: 0, upstream: null });
    assert.equal(s.human.split('\n').filter((l) => /no upstream/.test(l)).length, 1);

    const off = demoWithRemote(tmp, 'push-off', false);
    factoryCommit(off.root, 'run-1');
    const o = status(off.root);
    assert.equal(o.json.push, undefined);
    assert.doesNotMatch(o.human, /^Push/m);
  });

  it('renderPush: nothing when off or all pushed', () => {
    assert.deepEqual(renderPush(undefined), []);
    assert.deepEqual(renderPush({ ahead: 0, upstream: 'origin/main' }), []);
    assert.deepEqual(renderPush({ ahead: 3, upstream: 'up/dev' }), ['Push       3 commit(s) not pushed to up/dev']);
  });
});
