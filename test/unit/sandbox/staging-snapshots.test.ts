import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { applyChangeset } from '../../../src/core/changeset/apply';
import { diffSnapshots } from '../../../src/core/changeset/diff';
import { createStagingCopy, type StagingCopy } from '../../../src/core/sandbox/staging';
import { afterSnapshot, baseSnapshot, stagingTreeHash } from '../../../src/core/sandbox/staging-snapshots';

const sha = (b: Buffer | string) => crypto.createHash('sha256').update(b).digest('hex');

describe('sandbox: snapshots of a staging copy (lstat before, base content from the commit after)', function () {
  this.timeout(30_000);
  let repo: string;
  let s: StagingCopy;
  const git = (...a: string[]) => execFileSync('git', ['-C', repo, '-c', 'user.email=t@example.invalid', '-c', 'user.name=t', ...a], { stdio: 'pipe' });
  beforeEach(async () => {
    repo = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-stsnap-'));
    fs.mkdirSync(path.join(repo, 'src'));
    fs.writeFileSync(path.join(repo, 'src/a.py'), 'a\n');
    fs.writeFileSync(path.join(repo, 'src/b.py'), 'b\n');
    fs.writeFileSync(path.join(repo, 'src/odd *name?.py'), 'odd\n');
    // An export filter: the staging copy's bytes are not the blob's, and the base hash must be the copy's.
    fs.writeFileSync(path.join(repo, 'VERSION'), '$Format:%H$\n');
    fs.writeFileSync(path.join(repo, '.gitattributes'), 'VERSION export-subst\n');
    git('init', '-q');
    git('add', '-A');
    git('commit', '-qm', 'base');
    s = await createStagingCopy({ root: repo, runId: 'stsnap', modify: [] });
  });
  afterEach(() => {
    s.dispose();
    fs.rmSync(repo, { recursive: true, force: true });
  });

  it('hashes nothing before the run, then only what the Worker touched; touched-but-identical is no change', async () => {
    const before = await baseSnapshot(s);
    assert.ok([...before.values()].filter((e) => e.type === 'file').every((e) => e.hash === ''), 'no file read before the run');
    const ws = s.workspace;
    fs.writeFileSync(path.join(ws, 'src/a.py'), 'A\n'); // modified
    fs.writeFileSync(path.join(ws, 'src/b.py'), 'b\n'); // rewritten, same bytes
    fs.rmSync(path.join(ws, 'src/odd *name?.py')); // deleted (a name git would read as a pathspec glob)
    fs.writeFileSync(path.join(ws, 'VERSION'), fs.readFileSync(path.join(ws, 'VERSION'))); // touched, same substituted bytes
    fs.writeFileSync(path.join(ws, 'src/new.py'), 'n\n');
    const after = await afterSnapshot(s, before);
    const changes = diffSnapshots(before, after);
    assert.deepEqual(changes.map((c) => [c.path, c.kind]), [['src/a.py', 'modified'], ['src/new.py', 'added'], ['src/odd *name?.py', 'deleted']]);
    assert.equal(before.get('src/a.py')?.hash, sha('a\n'), 'the base content, read from the commit');
    assert.equal(before.get('src/odd *name?.py')?.hash, sha('odd\n'));
    assert.equal(before.get('VERSION')?.hash, sha(`${s.baseCommit}\n`), 'the exported bytes (export-subst applied), not the blob');
    assert.deepEqual(fs.readdirSync(s.dir).sort(), ['control', 'out', 'workspace'], 'the scratch export is gone');
  });

  it('hashes the scope.modify files up front (the ones the Worker is there to change), nothing else', async () => {
    const before = await baseSnapshot(s, ['src/a.py', 'tests/**']);
    assert.equal(before.get('src/a.py')?.hash, sha('a\n'));
    assert.equal(before.get('src/b.py')?.hash, '');
    fs.writeFileSync(path.join(s.workspace, 'src/a.py'), 'a\n'); // touched, same bytes: no change, no export needed
    fs.writeFileSync(path.join(s.workspace, 'src/b.py'), 'B\n');
    assert.deepEqual(diffSnapshots(before, await afterSnapshot(s, before)).map((c) => c.path), ['src/b.py']);
  });

  it('the base hashes it fills in make the conflict check work: an unchanged host applies, a changed one conflicts', async () => {
    const before = await baseSnapshot(s);
    fs.writeFileSync(path.join(s.workspace, 'src/a.py'), 'A\n');
    const after = await afterSnapshot(s, before);
    const changes = diffSnapshots(before, after);
    fs.writeFileSync(path.join(repo, 'src/a.py'), 'edited on the host\n');
    const r1 = await applyChangeset({ hostRoot: repo, stagingRoot: s.workspace, changes, base: before });
    assert.equal(r1.applied, false);
    assert.deepEqual(r1.conflicts.map((c) => c.path), ['src/a.py']);
    fs.writeFileSync(path.join(repo, 'src/a.py'), 'a\n');
    const r2 = await applyChangeset({ hostRoot: repo, stagingRoot: s.workspace, changes, base: before });
    assert.equal(r2.applied, true);
    assert.equal(fs.readFileSync(path.join(repo, 'src/a.py'), 'utf8'), 'A\n');
  });

  it('the tree identity for the Gate cache changes with any content or mode change and not with timestamps', async () => {
    const before = await baseSnapshot(s);
    const id = async () => {
      const after = await afterSnapshot(s, before);
      return stagingTreeHash(s, diffSnapshots(before, after), after);
    };
    const untouched = await id();
    fs.writeFileSync(path.join(s.workspace, 'src/b.py'), 'b\n');
    assert.equal(await id(), untouched, 'rewriting identical bytes is the same tree');
    fs.writeFileSync(path.join(s.workspace, 'src/a.py'), 'A\n');
    const edited = await id();
    assert.notEqual(edited, untouched);
    fs.chmodSync(path.join(s.workspace, 'src/a.py'), 0o755);
    assert.notEqual(await id(), edited, 'an exec bit is content to a test');
    assert.notEqual(stagingTreeHash({ ...s, baseCommit: '0'.repeat(40) }, [], before), stagingTreeHash(s, [], before), 'another base is another tree');
  });
});
