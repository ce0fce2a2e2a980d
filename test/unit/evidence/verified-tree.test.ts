import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildVerifiedTree, differingPaths } from '../../../src/core/evidence/verified-tree';

function git(repo: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'core.hooksPath=/dev/null', '-c', 'user.name=T', '-c', 'user.email=t@localhost', '-C', repo, ...args], { encoding: 'utf8' });
}

function write(root: string, rel: string, content: string, mode = 0o644): void {
  fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
  fs.writeFileSync(path.join(root, rel), content, { mode });
  fs.chmodSync(path.join(root, rel), mode);
}

describe('the verified tree (base commit + changeset, in a temporary index)', () => {
  let tmp: string;
  let repo: string;
  let base: string;
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'verified-tree-'));
    repo = path.join(tmp, 'repo');
    fs.mkdirSync(repo);
    git(repo, 'init', '-q');
    write(repo, 'a.txt', 'one\ntwo\nthree\n');
    write(repo, 'gone.txt', 'bye\n');
    write(repo, 'dir/keep.py', 'x = 1\n');
    git(repo, 'add', '-A');
    git(repo, 'commit', '-q', '-m', 'base');
    base = git(repo, 'rev-parse', 'HEAD').trim();
  });
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  /** A staging copy: the base's files exported, then the Worker's changes. */
  function stagingWithChanges(): string {
    const ws = path.join(tmp, 'staging');
    fs.mkdirSync(ws);
    execFileSync('sh', ['-c', `git -C "${repo}" archive HEAD | tar -x -C "${ws}"`]);
    write(ws, 'a.txt', 'one\nTWO\nthree\nfour\n');
    fs.rmSync(path.join(ws, 'gone.txt'));
    write(ws, 'new/run.sh', '#!/bin/sh\necho hi\n', 0o755);
    fs.symlinkSync('../a.txt', path.join(ws, 'new/link'));
    return ws;
  }
  const changes = [
    { path: 'a.txt', kind: 'modified' },
    { path: 'gone.txt', kind: 'deleted' },
    { path: 'new/link', kind: 'added' },
    { path: 'new/run.sh', kind: 'added' },
  ];

  it('equals the tree of a commit made of the base plus the same changes, and leaves the user index alone', async () => {
    const ws = stagingWithChanges();
    const indexBefore = fs.readFileSync(path.join(repo, '.git', 'index'));
    const v = await buildVerifiedTree(repo, base, ws, changes);
    assert.deepEqual(fs.readFileSync(path.join(repo, '.git', 'index')), indexBefore, 'the user index is untouched');
    assert.equal(git(repo, 'status', '--porcelain'), '', 'the work tree is untouched');

    // The same changes committed the ordinary way.
    write(repo, 'a.txt', 'one\nTWO\nthree\nfour\n');
    fs.rmSync(path.join(repo, 'gone.txt'));
    write(repo, 'new/run.sh', '#!/bin/sh\necho hi\n', 0o755);
    fs.symlinkSync('../a.txt', path.join(repo, 'new/link'));
    git(repo, 'add', '-A');
    git(repo, 'commit', '-q', '-m', 'change');
    assert.equal(v.tree, git(repo, 'rev-parse', 'HEAD^{tree}').trim());
    assert.equal(v.prefix, '');
    assert.deepEqual({ added: v.linesAdded, removed: v.linesRemoved }, { added: 2 + 2 + 1, removed: 1 + 1 });
    const run = v.changes.find((c) => c.path === 'new/run.sh');
    assert.equal(run?.mode, '100755');
    assert.equal(run?.blob, git(repo, 'rev-parse', 'HEAD:new/run.sh').trim());
    assert.deepEqual(v.changes.find((c) => c.path === 'gone.txt'), { path: 'gone.txt', kind: 'deleted', blob: null, mode: null });
    assert.equal(v.changes.find((c) => c.path === 'new/link')?.mode, '120000');
  });

  it('differs from a commit whose changed file is not the verified one, and names that file', async () => {
    const v = await buildVerifiedTree(repo, base, stagingWithChanges(), changes);
    write(repo, 'a.txt', 'one\nTWO\nthree\nfive\n');
    fs.rmSync(path.join(repo, 'gone.txt'));
    write(repo, 'new/run.sh', '#!/bin/sh\necho hi\n', 0o755);
    fs.symlinkSync('../a.txt', path.join(repo, 'new/link'));
    git(repo, 'add', '-A');
    git(repo, 'commit', '-q', '-m', 'change');
    const head = git(repo, 'rev-parse', 'HEAD^{tree}').trim();
    assert.notEqual(v.tree, head);
    assert.deepEqual(await differingPaths(repo, v.tree, head), ['a.txt']);
  });

  it('is cancellable: an aborted signal stops it with an interrupted error', async () => {
    const ctl = new AbortController();
    ctl.abort();
    await assert.rejects(buildVerifiedTree(repo, base, stagingWithChanges(), changes, ctl.signal), (err: Error & { code?: string }) => err.code === 'interrupted');
  });

  it('works from a workspace in a sub-folder of the repository (paths under its prefix)', async () => {
    const sub = path.join(repo, 'dir');
    const ws = path.join(tmp, 'sub-staging');
    fs.mkdirSync(ws);
    write(ws, 'keep.py', 'x = 2\n');
    const v = await buildVerifiedTree(sub, base, ws, [{ path: 'keep.py', kind: 'modified' }]);
    assert.equal(v.prefix, 'dir/');
    write(repo, 'dir/keep.py', 'x = 2\n');
    git(repo, 'commit', '-q', '-am', 'sub change');
    assert.equal(v.tree, git(repo, 'rev-parse', 'HEAD^{tree}').trim());
  });
});
