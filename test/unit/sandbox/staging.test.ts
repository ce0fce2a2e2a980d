import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createStagingCopy, dirtyPaths, globPrefixes, ignoredPaths, workerIdentity } from '../../../src/core/sandbox/staging';
import { FactoryError } from '../../../src/core/util/errors';
import { stagingDirsOf } from '../../support/staging';

describe('sandbox: staging copy of the base commit', function () {
  this.timeout(20_000);
  let repo: string;
  const git = (...a: string[]) => execFileSync('git', ['-C', repo, '-c', 'user.email=t@example.invalid', '-c', 'user.name=t', ...a], { stdio: 'pipe' });
  const write = (p: string, c: string) => {
    fs.mkdirSync(path.dirname(path.join(repo, p)), { recursive: true });
    fs.writeFileSync(path.join(repo, p), c);
  };
  beforeEach(() => {
    repo = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-staging-test-'));
    git('init', '-q');
    write('src/a.py', 'a\n');
    write('src/with space.py', 's\n');
    write('pkg/sub/b.py', 'b\n');
    write('run.sh', '#!/bin/sh\n');
    fs.chmodSync(path.join(repo, 'run.sh'), 0o755);
    write('.gitignore', '.env\n*.log\n');
    git('add', '-A');
    git('commit', '-qm', 'base');
    write('.env', 'SECRET=1\n');
    write('debug.log', 'x\n');
    write('untracked.txt', 'u\n');
  });
  afterEach(() => fs.rmSync(repo, { recursive: true, force: true }));

  it('exports tracked files of HEAD only (no .git, .env, ignored or untracked files), owned by the Worker user, exec bits kept', async () => {
    write('src/a.py', 'uncommitted but outside scope\n');
    const s = await createStagingCopy({ root: repo, runId: 'unit', modify: ['pkg/**'] });
    try {
      const list = execFileSync('find', ['.', '-mindepth', '1'], { cwd: s.workspace, encoding: 'utf8' }).split('\n').filter(Boolean).sort();
      assert.deepEqual(list, ['./.gitignore', './pkg', './pkg/sub', './pkg/sub/b.py', './run.sh', './src', './src/a.py', './src/with space.py']);
      assert.equal(fs.readFileSync(path.join(s.workspace, 'src/a.py'), 'utf8'), 'a\n', 'the base commit, not the working tree');
      assert.equal(fs.statSync(path.join(s.workspace, 'run.sh')).mode & 0o111, 0o111);
      const { uid } = workerIdentity();
      assert.equal(fs.statSync(path.join(s.workspace, 'pkg/sub/b.py')).uid, uid);
      assert.equal(s.baseCommit, execFileSync('git', ['-C', repo, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim());
    } finally {
      s.dispose();
    }
    assert.equal(fs.existsSync(s.dir), false);
  });

  it('refuses to start when scope.modify paths are dirty (modified, staged, untracked, renamed), naming them', async () => {
    write('src/a.py', 'changed\n');
    write('src/new file.py', 'n\n');
    git('mv', 'pkg/sub/b.py', 'pkg/sub/c.py');
    assert.deepEqual(await dirtyPaths(repo, ['src/**', 'pkg/**']), ['pkg/sub/b.py', 'pkg/sub/c.py', 'src/a.py', 'src/new file.py']);
    await assert.rejects(
      createStagingCopy({ root: repo, runId: 'unit', modify: ['src/**'] }),
      (e: unknown) => e instanceof FactoryError && e.code === 'scope-dirty' && e.message.includes('"src/a.py"') && e.message.includes('"src/new file.py"'),
    );
    assert.deepEqual(stagingDirsOf('unit'), [], 'nothing left behind');
  });

  it('the dirty check scans only the folders scope.modify can match, and still sees everything they match', async () => {
    assert.deepEqual(globPrefixes(['engine/**', 'src/*.py', 'a/b/c.txt', './x/y/**', 'docs/{a,b}/x', 'a/[bc]/d', '../up']), ['', 'a', 'a/b/c.txt', 'docs', 'engine', 'src', 'x/y']);
    assert.deepEqual(globPrefixes(['**/*.py']), ['']);
    write('src/new.py', 'n\n');
    write('pkg/sub/b.py', 'dirty\n');
    write('elsewhere/x.py', 'x\n');
    assert.deepEqual(await dirtyPaths(repo, ['src/*.py', 'pkg/sub/b.py']), ['pkg/sub/b.py', 'src/new.py']);
    assert.deepEqual(await dirtyPaths(repo, ['**/*.py']), ['elsewhere/x.py', 'pkg/sub/b.py', 'src/new.py']);
  });

  it('exports only the subtree when the root is a folder inside a larger repository', async () => {
    const s = await createStagingCopy({ root: path.join(repo, 'pkg'), runId: 'unit', modify: ['sub/**'] });
    try {
      assert.deepEqual(fs.readdirSync(s.workspace), ['sub']);
      write('pkg/sub/b.py', 'dirty\n');
      assert.deepEqual(await dirtyPaths(path.join(repo, 'pkg'), ['sub/**']), ['sub/b.py']);
    } finally {
      s.dispose();
    }
  });

  it('reads ignore rules from the host repository', async () => {
    assert.deepEqual([...(await ignoredPaths(repo, ['x.log', 'src/y.py', '.env']))].sort(), ['.env', 'x.log']);
  });

  it('fails clearly on a folder without commits', async () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-staging-empty-'));
    try {
      execFileSync('git', ['-C', empty, 'init', '-q']);
      await assert.rejects(createStagingCopy({ root: empty, runId: 'unit', modify: [] }), /has no commit HEAD/);
    } finally {
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });
});
