import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { commitPaths, headCommit, trackedFiles } from '../../../src/core/cycle/git-ops';
import { streamLog } from '../../../src/core/plan/scope/history-source';
import { exportTree, hostChanges } from '../../../src/core/sandbox/staging';
import { FactoryError } from '../../../src/core/util/errors';
import { requireRoot } from '../../support/engines';
import { isolateGlobalConfig, plainGit } from './hostile-fixture';

/**
 * safe.directory (SEC-10, issue 17 item 8): git refuses a repository another user owns. The
 * Controller says so with the exact command that trusts it, never passes safe.directory itself,
 * and works once the user has trusted it in their global config.
 */
describe('SEC-10 a repository owned by another user (safe.directory)', function () {
  this.timeout(60_000);
  let tmp: string;
  let repo: string;
  let restore: () => void;

  before(function () {
    // chown needs root: a failure in CI, a skip with its reason elsewhere.
    requireRoot(this);
    tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'factory-unsafe-')));
    repo = path.join(tmp, 'other user');
    plainGit(tmp, ['init', '-q', '-b', 'main', repo]);
    fs.writeFileSync(path.join(repo, 'a.txt'), 'a\n');
    plainGit(repo, ['add', 'a.txt']);
    plainGit(repo, ['commit', '-q', '-m', 'first']);
    fs.chownSync(repo, 12345, 12345);
    for (const f of fs.readdirSync(repo, { recursive: true, encoding: 'utf8' })) fs.lchownSync(path.join(repo, f), 12345, 12345);
  });
  afterEach(() => restore?.());
  after(() => {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  const refusal = (e: unknown): boolean => {
    assert.ok(e instanceof FactoryError, String(e));
    assert.equal(e.code, 'git-unsafe-directory');
    assert.ok(e.message.includes(`git config --global --add safe.directory '${repo}'`), e.message);
    return true;
  };

  it('every kind of git call refuses with git-unsafe-directory and the command to trust it', async () => {
    restore = isolateGlobalConfig(path.join(tmp, 'global.gitconfig'));
    await assert.rejects(headCommit(repo), refusal);
    await assert.rejects(trackedFiles(repo), refusal);
    await assert.rejects(hostChanges(repo, ['**']), refusal);
    fs.writeFileSync(path.join(repo, 'a.txt'), 'b\n');
    await assert.rejects(commitPaths(repo, ['a.txt'], 'msg'), refusal);
    await assert.rejects(streamLog(repo, ['X1'], () => undefined), refusal);
    const dest = fs.mkdtempSync(path.join(tmp, 'export-'));
    await assert.rejects(exportTree(repo, 'HEAD', dest), refusal);
  });

  it('with the folder in the user\'s global safe.directory list, the same calls work', async () => {
    restore = isolateGlobalConfig(path.join(tmp, 'global.gitconfig'), `[safe]\n\tdirectory = ${repo}\n`);
    assert.match((await headCommit(repo)) ?? '', /^[0-9a-f]{40}$/);
    assert.deepEqual(await trackedFiles(repo), ['a.txt']);
    fs.writeFileSync(path.join(repo, 'a.txt'), 'c\n');
    assert.deepEqual((await hostChanges(repo, ['**'])).paths, ['a.txt']);
    const c = await commitPaths(repo, ['a.txt'], 'trusted');
    assert.equal(await headCommit(repo), c);
  });
});
