import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildVerifiedTree, prefetchVerifiedTree } from '../../../src/core/evidence/verified-tree';

function git(repo: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'core.hooksPath=/dev/null', '-c', 'user.name=T', '-c', 'user.email=t@localhost', '-C', repo, ...args], { encoding: 'utf8' });
}

describe('the verified tree built ahead (while the Gate runs) and taken over by ADJUST', () => {
  let tmp: string;
  let repo: string;
  let ws: string;
  let base: string;
  const changes = [{ path: 'a.txt', kind: 'modified' }];
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'verified-early-'));
    repo = path.join(tmp, 'repo');
    fs.mkdirSync(repo);
    git(repo, 'init', '-q');
    fs.writeFileSync(path.join(repo, 'a.txt'), 'one\n');
    git(repo, 'add', '-A');
    git(repo, 'commit', '-q', '-m', 'base');
    base = git(repo, 'rev-parse', 'HEAD').trim();
    ws = path.join(tmp, 'staging');
    fs.mkdirSync(ws);
    fs.writeFileSync(path.join(ws, 'a.txt'), 'two\n');
  });
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('is taken over when nothing changed (git is not asked again)', async () => {
    await prefetchVerifiedTree(repo, base, ws, changes);
    const expected = git(repo, 'hash-object', '--no-filters', path.join(ws, 'a.txt')).trim();
    // Without the repository, a computation now would fail: the result must be the one built ahead.
    fs.renameSync(path.join(repo, '.git'), path.join(tmp, 'git-away'));
    try {
      const v = await buildVerifiedTree(repo, base, ws, changes);
      assert.equal(v.changes[0]?.blob, expected);
      assert.deepEqual([v.linesAdded, v.linesRemoved], [1, 1]);
    } finally {
      fs.renameSync(path.join(tmp, 'git-away'), path.join(repo, '.git'));
    }
  });

  it('is computed afresh when a changed file changed after it was built ahead, and for other inputs', async () => {
    await prefetchVerifiedTree(repo, base, ws, changes);
    fs.writeFileSync(path.join(ws, 'a.txt'), 'three, longer\n');
    const v = await buildVerifiedTree(repo, base, ws, changes);
    assert.equal(v.changes[0]?.blob, git(repo, 'hash-object', '--no-filters', path.join(ws, 'a.txt')).trim());
    // Built ahead for one changeset, asked for another: not mixed up.
    fs.writeFileSync(path.join(ws, 'b.txt'), 'b\n');
    await prefetchVerifiedTree(repo, base, ws, changes);
    const both = await buildVerifiedTree(repo, base, ws, [...changes, { path: 'b.txt', kind: 'added' }]);
    assert.deepEqual(both.changes.map((c) => c.path), ['a.txt', 'b.txt']);
    assert.equal(git(repo, 'ls-tree', '--name-only', both.tree).trim().split('\n').sort().join(','), 'a.txt,b.txt');
  });
});
