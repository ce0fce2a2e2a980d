import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { changesetDiff } from '../../../src/core/auditor/run-auditor';

describe('Auditor input: the changeset as a unified diff (real git)', () => {
  let repo: string;
  let ws: string;
  before(() => {
    repo = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-diff-test-'));
    const git = (...a: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@localhost', '-C', repo, ...a]);
    fs.mkdirSync(path.join(repo, 'engine'));
    fs.writeFileSync(path.join(repo, 'engine/a.py'), 'x = 1\ny = 2\n');
    fs.writeFileSync(path.join(repo, 'engine/gone.py'), 'old\n');
    git('init', '-q');
    git('add', '-A');
    git('commit', '-qm', 'base');
    ws = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-diff-ws-'));
    fs.mkdirSync(path.join(ws, 'engine'));
    fs.writeFileSync(path.join(ws, 'engine/a.py'), 'x = 1\ny = 3\n');
    fs.writeFileSync(path.join(ws, 'engine/new file.py'), 'z = 0\n');
  });
  after(() => {
    fs.rmSync(repo, { recursive: true, force: true });
    fs.rmSync(ws, { recursive: true, force: true });
  });

  it('shows modified, added and deleted files against the base commit with repo-relative names', async () => {
    const diff = await changesetDiff(repo, ws, [
      { path: 'engine/a.py', kind: 'modified' },
      { path: 'engine/new file.py', kind: 'added' },
      { path: 'engine/gone.py', kind: 'deleted' },
    ]);
    assert.match(diff, /^--- a\/engine\/a\.py$/m);
    assert.match(diff, /^\+\+\+ b\/engine\/a\.py$/m);
    assert.match(diff, /^-y = 2$/m);
    assert.match(diff, /^\+y = 3$/m);
    assert.match(diff, /new file mode[\s\S]*^\+z = 0$/m);
    assert.match(diff, /deleted file mode[\s\S]*^-old$/m);
    assert.doesNotMatch(diff, /^\+\+\+ b\/b\/|a\/a\//m);
    assert.match(diff, /^diff --git a\/engine\/a\.py b\/engine\/a\.py$/m);
  });

  it('is empty when nothing changed', async () => {
    assert.equal(await changesetDiff(repo, repo, [{ path: 'engine/a.py', kind: 'modified' }]), '');
  });
});
