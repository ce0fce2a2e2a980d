import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { appendHistory } from '../../../src/core/history/history';
import { loadRunsData } from '../../../src/extension/views/runs/runs-data';
import { buildRunRows } from '../../../src/extension/views/runs/runs-rows';

const ID = ['-c', 'user.name=T', '-c', 'user.email=t@localhost', '-c', 'commit.gpgsign=false'];
const git = (cwd: string, ...args: string[]): string => execFileSync('git', [...ID, ...args], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();

const RUN_PUSHED = '20261125_100000_d201_abcdef0';
const RUN_LOCAL = '20261125_110000_d202_abcdef0';
const RUN_FAIL = '20261125_120000_d301_abcdef0';

/** A cycle's commit: its history line and the `Factory-Run:` trailer, as commitPass writes them. */
async function cycleCommit(root: string, runId: string, ticketId: string): Promise<void> {
  await appendHistory(path.join(root, 'logs/autopilot/history.jsonl'), { runId, ticketId, status: 'PASS', endedAt: '2026-11-25T12:00:00Z', costUsd: 0.1 });
  git(root, 'add', '-A');
  git(root, 'commit', '-q', '-m', `factory: ${ticketId} PASS\n\nFactory-Run: ${runId}\n`);
}

describe('Runs view: runs whose commit is not on the upstream are marked "not pushed" (real git)', function () {
  this.timeout(30_000);
  let tmp: string;
  let root: string;
  beforeEach(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-runs-push-'));
    root = path.join(tmp, 'work');
    const remote = path.join(tmp, 'remote.git');
    git(tmp, 'init', '-q', '--bare', '-b', 'main', remote);
    git(tmp, 'init', '-q', '-b', 'main', root);
    git(root, 'remote', 'add', 'origin', remote);
    await cycleCommit(root, RUN_PUSHED, 'D201');
    git(root, 'push', '-q', '-u', 'origin', 'main');
    await cycleCommit(root, RUN_LOCAL, 'D202');
    // A FAIL commits nothing: only its history line (left uncommitted here).
    await appendHistory(path.join(root, 'logs/autopilot/history.jsonl'), { runId: RUN_FAIL, ticketId: 'D301', status: 'FAIL', endedAt: '2026-11-25T12:10:00Z', costUsd: 0.2 });
  });
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('git.push on: only the run whose commit is ahead of origin/main says so, in description, tooltip and context', async () => {
    const data = await loadRunsData(root, 'logs/evidence', 'logs/autopilot', { push: true });
    assert.deepEqual(data.notPushed, [RUN_LOCAL]);
    const rows = buildRunRows(data.evidence, data.history, { timeZone: 'UTC', notPushed: new Set(data.notPushed) });
    const row = (id: string) => rows.find((r) => r.runId === id)!;
    assert.match(row(RUN_LOCAL).description, /^PASS · not pushed · /);
    assert.match(row(RUN_LOCAL).tooltip, /Not pushed: its commit is not on the upstream/);
    assert.ok(row(RUN_LOCAL).contextValue.split(';').includes('notPushed'));
    for (const id of [RUN_PUSHED, RUN_FAIL]) {
      assert.doesNotMatch(row(id).description, /not pushed/);
      assert.doesNotMatch(row(id).tooltip, /Not pushed/);
      assert.equal(row(id).notPushed, undefined);
    }
    // Pushed since (by the next run's retry or by hand): the mark goes, read from git again.
    git(root, 'push', '-q');
    assert.deepEqual((await loadRunsData(root, 'logs/evidence', 'logs/autopilot', { push: true })).notPushed, []);
  });

  it('git.push off: git is not asked and no row is marked', async () => {
    const data = await loadRunsData(root, 'logs/evidence', 'logs/autopilot');
    assert.equal(data.notPushed, undefined);
    assert.ok(buildRunRows(data.evidence, data.history).every((r) => !/not pushed/.test(r.description)));
  });

  it('outside git (or no upstream): nothing marked, nothing thrown', async () => {
    git(root, 'branch', '--unset-upstream');
    assert.deepEqual((await loadRunsData(root, 'logs/evidence', 'logs/autopilot', { push: true })).notPushed, []);
    const plain = fs.mkdtempSync(path.join(tmp, 'plain-'));
    const data = await loadRunsData(plain, 'logs/evidence', 'logs/autopilot', { push: true });
    assert.deepEqual(data.notPushed, []);
    assert.deepEqual(data.problems, []);
  });
});
