import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { takeSnapshot } from '../../../src/core/changeset/snapshot';
import { diffSnapshots } from '../../../src/core/changeset/diff';
import { checkScope } from '../../../src/core/changeset/scope';
import { applyChangeset } from '../../../src/core/changeset/apply';

function mk(root: string, files: Record<string, string>): void {
  for (const [p, c] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, p)), { recursive: true });
    fs.writeFileSync(path.join(root, p), c);
  }
}

describe('changeset: snapshot, diff, scope, apply', () => {
  let tmp: string;
  let ws: string;
  let host: string;
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-cs-'));
    ws = path.join(tmp, 'ws');
    host = path.join(tmp, 'host');
    const base = { 'src/a.py': 'a\n', 'src/b.py': 'b\n', 'lib/ro.py': 'ro\n', 'D_ROADMAP.md': '# r\n', 'run.sh': '#!/bin/sh\n' };
    mk(ws, base);
    mk(host, { ...base, '.env': 'SECRET=1\n' });
  });
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));
  const scope = { modify: ['src/**', 'tests/**', 'run.sh'], readonly: ['lib/**'], forbidden: ['D_ROADMAP.md', '.env'] };

  it('reports added, modified (content and exec bit), deleted and type-changed paths', () => {
    const before = takeSnapshot(ws);
    fs.writeFileSync(path.join(ws, 'src/a.py'), 'A\n');
    fs.rmSync(path.join(ws, 'src/b.py'));
    mk(ws, { 'tests/t.py': 't\n' });
    fs.chmodSync(path.join(ws, 'run.sh'), 0o755);
    fs.rmSync(path.join(ws, 'lib/ro.py'));
    fs.mkdirSync(path.join(ws, 'lib/ro.py'));
    fs.mkdirSync(path.join(ws, 'empty-dir'));
    const changes = diffSnapshots(before, takeSnapshot(ws, { previous: before }));
    assert.deepEqual(
      changes.map((c) => [c.path, c.kind]),
      [['lib/ro.py', 'type-changed'], ['run.sh', 'modified'], ['src/a.py', 'modified'], ['src/b.py', 'deleted'], ['tests/t.py', 'added']],
    );
    assert.deepEqual(checkScope(changes, scope), [{ path: 'lib/ro.py', rule: 'type-change' }]);
  });

  it('reuses hashes of untouched files but sees a same-size rewrite', () => {
    const before = takeSnapshot(ws);
    fs.writeFileSync(path.join(ws, 'src/a.py'), 'z\n'); // same size, new content
    const changes = diffSnapshots(before, takeSnapshot(ws, { previous: before }));
    assert.deepEqual(changes.map((c) => c.path), ['src/a.py']);
  });

  it('SEC-09 a new symlink is rejected and never followed', () => {
    const before = takeSnapshot(ws);
    fs.symlinkSync('/root/.ssh/id_rsa', path.join(ws, 'src/a_link'));
    fs.symlinkSync('../../../../etc', path.join(ws, 'src/etc'));
    const after = takeSnapshot(ws);
    assert.equal(after.get('src/a_link')?.type, 'symlink');
    assert.equal(after.has('src/etc/passwd'), false, 'the snapshot must not descend into a symlinked folder');
    const v = checkScope(diffSnapshots(before, after), scope);
    assert.deepEqual(v, [{ path: 'src/a_link', rule: 'symlink' }, { path: 'src/etc', rule: 'symlink' }]);
  });

  it('SEC-11 readonly, forbidden and out-of-scope changes are listed by path', () => {
    const before = takeSnapshot(ws);
    mk(ws, { 'lib/ro.py': 'x', 'D_ROADMAP.md': 'hacked', 'setup.py': 'x', 'src/ok.py': 'ok' });
    const v = checkScope(diffSnapshots(before, takeSnapshot(ws)), scope);
    assert.deepEqual(v, [{ path: 'D_ROADMAP.md', rule: 'forbidden' }, { path: 'lib/ro.py', rule: 'readonly' }, { path: 'setup.py', rule: 'out-of-scope' }]);
  });

  it('SEC-12 a rename from an allowed path to a disallowed one is rejected (and the reverse)', () => {
    const before = takeSnapshot(ws);
    fs.renameSync(path.join(ws, 'src/a.py'), path.join(ws, 'lib/a.py'));
    fs.renameSync(path.join(ws, 'lib/ro.py'), path.join(ws, 'src/ro.py'));
    const v = checkScope(diffSnapshots(before, takeSnapshot(ws)), scope);
    assert.deepEqual(v, [{ path: 'lib/a.py', rule: 'readonly' }, { path: 'lib/ro.py', rule: 'readonly' }]);
  });

  it('SEC-10 .git (any case), .gitmodules, .gitattributes, .vscode and workflow files are rejected even inside modify', () => {
    const before = takeSnapshot(ws);
    mk(ws, { 'src/.git/hooks/post-checkout': 'x', 'src/.GIT/config': 'x', 'src/.gitattributes': '* filter=evil', '.gitmodules': 'x', 'src/.vscode/tasks.json': '{}', '.github/workflows/ci.yml': 'x' });
    const v = checkScope(diffSnapshots(before, takeSnapshot(ws)), { ...scope, modify: ['**'] });
    assert.deepEqual(v.map((x) => x.rule).sort(), ['git-dir', 'git-dir', 'gitattributes', 'gitmodules', 'vscode', 'workflows']);
  });

  it('SEC-14 names with spaces, newlines, quotes, non-ASCII and NFC/NFD variants are detected and matched exactly', () => {
    const before = takeSnapshot(ws);
    const nfc = 'src/caf\u00e9.py';
    const nfd = 'src/cafe\u0301.py';
    mk(ws, { 'src/with space.py': '1', 'src/new\nline.py': '2', [`src/q'"uote.py`]: '3', 'src/한글.py': '4', [nfc]: '5', [nfd]: '6' });
    const changes = diffSnapshots(before, takeSnapshot(ws));
    const paths = changes.map((c) => c.path);
    for (const p of ['src/with space.py', 'src/new\nline.py', `src/q'"uote.py`, 'src/한글.py', nfc, nfd]) assert.ok(paths.includes(p), JSON.stringify(p));
    const v = checkScope(changes, scope);
    assert.deepEqual(v, [{ path: 'src/cafe\u0301.py', rule: 'not-nfc' }, { path: 'src/new\nline.py', rule: 'control-char' }]);
    // Matching is exact: an NFD spelling does not match an NFC glob.
    assert.deepEqual(checkScope([{ path: nfc, kind: 'added', after: 'file' }], { modify: [nfc], readonly: [], forbidden: [] }), []);
    assert.equal(checkScope([{ path: 'src/CAFÉ.py', kind: 'added', after: 'file' }], { modify: [nfc], readonly: [], forbidden: [] })[0]?.rule, 'out-of-scope');
  });

  it('applies a clean changeset to the host, atomically per file, and leaves everything else byte-identical', async () => {
    const before = takeSnapshot(ws);
    mk(ws, { 'src/a.py': 'A\n', 'tests/new.py': 'n\n' });
    fs.rmSync(path.join(ws, 'src/b.py'));
    const changes = diffSnapshots(before, takeSnapshot(ws));
    assert.deepEqual(checkScope(changes, scope), []);
    const r = await applyChangeset({ hostRoot: host, stagingRoot: ws, changes, base: before });
    assert.equal(r.applied, true);
    assert.equal(fs.readFileSync(path.join(host, 'src/a.py'), 'utf8'), 'A\n');
    assert.equal(fs.readFileSync(path.join(host, 'tests/new.py'), 'utf8'), 'n\n');
    assert.equal(fs.existsSync(path.join(host, 'src/b.py')), false);
    assert.equal(fs.readFileSync(path.join(host, '.env'), 'utf8'), 'SECRET=1\n');
  });

  it('SEC-15 a path the user changed on the host since the base is a conflict and nothing is written', async () => {
    const before = takeSnapshot(ws);
    mk(ws, { 'src/a.py': 'worker\n', 'src/b.py': 'worker\n' });
    fs.writeFileSync(path.join(host, 'src/b.py'), 'user edit\n');
    const r = await applyChangeset({ hostRoot: host, stagingRoot: ws, changes: diffSnapshots(before, takeSnapshot(ws)), base: before });
    assert.equal(r.applied, false);
    assert.deepEqual(r.conflicts, [{ path: 'src/b.py', reason: 'changed-on-host' }]);
    assert.equal(fs.readFileSync(path.join(host, 'src/a.py'), 'utf8'), 'a\n', 'nothing of the cycle is written');
    assert.equal(fs.readFileSync(path.join(host, 'src/b.py'), 'utf8'), 'user edit\n');
  });

  it('refuses to write through a host folder that became a symlink', async () => {
    const before = takeSnapshot(ws);
    mk(ws, { 'tests/x.py': 'x' });
    const outside = path.join(tmp, 'outside');
    fs.mkdirSync(outside);
    fs.symlinkSync(outside, path.join(host, 'tests'));
    const r = await applyChangeset({ hostRoot: host, stagingRoot: ws, changes: diffSnapshots(before, takeSnapshot(ws)), base: before });
    assert.deepEqual(r.conflicts, [{ path: 'tests/x.py', reason: 'host-symlink' }]);
    assert.deepEqual(fs.readdirSync(outside), []);
  });

  it('special files (FIFO) in the changeset are rejected', () => {
    const before = takeSnapshot(ws);
    execFileSync('mkfifo', [path.join(ws, 'src/pipe')]);
    assert.deepEqual(checkScope(diffSnapshots(before, takeSnapshot(ws)), scope), [{ path: 'src/pipe', rule: 'special-file' }]);
  });
});
