import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { changesetDiff } from '../../../src/core/auditor/run-auditor';
import { amendPaths, commitMessage, commitPaths, existsInCommit, headCommit, onAnyRemote, showFile, trackedFiles } from '../../../src/core/cycle/git-ops';
import { pushState, pushToUpstream } from '../../../src/core/cycle/push';
import { collectGitInfo } from '../../../src/core/evidence/git-info';
import { streamLog } from '../../../src/core/plan/scope/history-source';
import { createStagingCopy, dirtyPaths, exportTree, hostChanges, ignoredPaths, resolveCommit } from '../../../src/core/sandbox/staging';
import { findDeletedAcs } from '../../../src/core/ssot/invariants';
import { HOOKS, hostileRepo, isolateGlobalConfig, plainGit, plainGitAsync, trackRemote, unauthorizedServer, type Hostile } from './hostile-fixture';

/**
 * SEC-10 (issue 17 item 8): the Controller's git operations, through src/core/git, on a repository
 * whose config points every program-running setting at a marker program. No marker may run, and
 * every operation still does its job.
 */
describe('SEC-10 hostile repository: no program the repository configures runs on the host', function () {
  this.timeout(60_000);
  let h: Hostile;
  let restore: () => void;

  before(() => {
    h = hostileRepo();
    restore = isolateGlobalConfig(path.join(h.tmp, 'global.gitconfig'));
  });
  after(() => {
    restore();
    fs.rmSync(h.tmp, { recursive: true, force: true });
  });
  beforeEach(() => h.clear());

  it('the fixture is hostile: plain git runs its hooks, fsmonitor, filter driver, external diff and textconv', () => {
    const copy = path.join(h.tmp, 'control');
    fs.cpSync(h.work, copy, { recursive: true });
    fs.appendFileSync(path.join(copy, 'f.txt'), 'plain\n');
    fs.rmSync(path.join(copy, 'doc.s'));
    fs.appendFileSync(path.join(copy, '.gitignore'), 'plain/\n');
    const noProcess = ['-c', 'filter.x.process=', '-c', 'filter.x.required=false'];
    const attempts = [
      ['status', '--porcelain'],
      [...noProcess, 'commit', '--allow-empty', '-q', '-m', 'plain'],
      [...noProcess, 'checkout', '--', 'doc.s'],
      [...noProcess, 'add', '--renormalize', 'doc.s'],
      [...noProcess, 'diff', '--', 'f.txt', '.gitignore'],
      [...noProcess, 'diff', '--no-ext-diff', '--', 'f.txt'],
    ];
    for (const args of attempts) {
      try {
        plainGit(copy, args);
      } catch {
        // The markers fail on purpose (a filter that does not speak git's protocol, a refusing hook): what counts is that they ran.
      }
    }
    const ran = h.ran();
    for (const m of ['fsmonitor', 'filter-process', 'filter-s-clean', 'filter-s-smudge', 'hook-pre-commit', 'hook-post-checkout', 'diff-external', 'textconv']) assert.ok(ran.includes(m), `${m} should run under plain git; ran: ${ran.join(', ')}`);
    fs.rmSync(copy, { recursive: true, force: true });
  });

  it('commitPaths and amendPaths commit the bytes of the work tree, with no hook, filter, fsmonitor or gpg', async () => {
    fs.writeFileSync(path.join(h.work, 'f.txt'), 'changed by a cycle\n');
    fs.writeFileSync(path.join(h.work, 'new file.txt'), 'new\n');
    fs.writeFileSync(path.join(h.work, 'doc.s'), 'clean filter? no\n');
    const c = await commitPaths(h.work, ['f.txt', 'new file.txt', 'doc.s'], 'factory: D201 PASS\n\nFactory-Run: r1\n');
    assert.equal((await showFile(h.work, c, 'doc.s')).toString(), 'clean filter? no\n');
    assert.equal(c, await headCommit(h.work));
    assert.equal((await showFile(h.work, c, 'f.txt')).toString(), 'changed by a cycle\n');
    assert.match(await commitMessage(h.work, c), /Factory-Run: r1/);
    fs.writeFileSync(path.join(h.work, 'f.txt'), 'amended\n');
    const a = await amendPaths(h.work, ['f.txt']);
    assert.notEqual(a, c);
    assert.equal((await showFile(h.work, a, 'f.txt')).toString(), 'amended\n');
    assert.deepEqual(h.ran(), []);
  });

  it('status, tracked files, ignore rules and reads of commits run nothing', async () => {
    fs.writeFileSync(path.join(h.work, 'f.txt'), 'dirty\n');
    fs.mkdirSync(path.join(h.work, 'ignored'), { recursive: true });
    const changes = await hostChanges(h.work, ['**']);
    assert.ok(changes.paths.includes('f.txt'), JSON.stringify(changes));
    assert.deepEqual(await dirtyPaths(h.work, ['*.txt']), ['f.txt']);
    assert.ok((await trackedFiles(h.work)).includes('f.txt'));
    assert.deepEqual([...(await ignoredPaths(h.work, ['ignored/x', 'f.txt']))], ['ignored/x']);
    assert.equal(await existsInCommit(h.work, 'HEAD', 'f.txt'), true);
    assert.equal(await resolveCommit(h.work), await headCommit(h.work));
    assert.equal(await onAnyRemote(h.work, 'HEAD~1'), true);
    assert.deepEqual(await findDeletedAcs(h.work, 'f.txt'), []);
    const info = await collectGitInfo(h.work);
    assert.equal(info.status, 'dirty');
    assert.equal(info.branch, 'main');
    const seen: Parameters<Parameters<typeof streamLog>[2]>[0][] = [];
    await streamLog(h.work, ['D201'], (c) => seen.push(c));
    assert.ok(seen.some((c) => c.body.startsWith('first (D201)')), JSON.stringify(seen));
    fs.writeFileSync(path.join(h.work, 'f.txt'), (await showFile(h.work, 'HEAD', 'f.txt')).toString());
    assert.deepEqual(h.ran(), []);
  });

  it('the staging export (git archive) and the Auditor diff run no smudge filter, textconv or external diff', async () => {
    const staging = await createStagingCopy({ root: h.work, runId: 'hostile', modify: [], dirtyChecked: true });
    try {
      for (const f of ['f.txt', 'doc.s']) assert.equal(fs.readFileSync(path.join(staging.workspace, f), 'utf8'), (await showFile(h.work, 'HEAD', f)).toString());
      const dest = path.join(h.tmp, 'export');
      fs.mkdirSync(dest);
      await exportTree(h.work, 'HEAD', dest, { paths: ['f.txt'] });
      assert.ok(fs.existsSync(path.join(dest, 'f.txt')));
      fs.writeFileSync(path.join(staging.workspace, 'f.txt'), 'the worker wrote this\n');
      const diff = await changesetDiff(h.work, staging.workspace, [{ path: 'f.txt', kind: 'modified' }]);
      assert.match(diff, /^\+the worker wrote this$/m);
    } finally {
      staging.dispose();
    }
    assert.deepEqual(h.ran(), []);
  });

  it('a push to the local upstream runs no pre-push or reference-transaction hook and not the receive-pack the repository names', async () => {
    fs.writeFileSync(path.join(h.work, 'pushed.txt'), 'p\n');
    const c = await commitPaths(h.work, ['pushed.txt'], 'factory: D201 PASS\n\nFactory-Run: r2\n');
    const r = await pushToUpstream(h.work);
    assert.equal(r.pushed, true, r.error);
    assert.equal(plainGit(h.remote, ['rev-parse', 'refs/heads/main']), c);
    assert.equal((await pushState(h.work)).ahead, 0);
    assert.deepEqual(h.ran(), []);
  });

  it('the hooks the fixture installs are the ones the brief names', () => {
    for (const hook of ['pre-commit', 'commit-msg', 'post-commit', 'reference-transaction', 'pre-push', 'post-checkout', 'post-index-change']) assert.ok(HOOKS.includes(hook), hook);
  });
});

describe('SEC-10 hostile repository: credential helper, askPass and sshCommand of the repository never run on a push', function () {
  this.timeout(60_000);
  let h: Hostile;
  let restore: () => void;

  beforeEach(() => {
    h = hostileRepo();
  });
  afterEach(() => {
    restore();
    fs.rmSync(h.tmp, { recursive: true, force: true });
  });

  it('a push to an http upstream that answers 401: the user\'s global helper is asked, the repository\'s helper and askPass are not', async () => {
    const trustedHelper = h.marker('trusted-credential-helper');
    restore = isolateGlobalConfig(path.join(h.tmp, 'global.gitconfig'), `[credential]\n\thelper = ${trustedHelper}\n`);
    const server = await unauthorizedServer();
    try {
      trackRemote(h.work, 'h', server.url);
      plainGit(h.work, ['config', `credential.${server.url.replace(/\/repo\.git$/, '')}.helper`, h.marker('url-credential-helper')]);
      assert.notEqual(await plainGitAsync(h.work, ['-c', 'core.hooksPath=/dev/null', 'push', 'h', 'HEAD:refs/heads/main'], { ...process.env, GIT_TERMINAL_PROMPT: '0' }), 0);
      assert.deepEqual(h.ran(), ['askpass', 'credential-helper', 'trusted-credential-helper', 'url-credential-helper'], 'plain git asks the repository\'s helpers and askPass');
      h.clear();
      const r = await pushToUpstream(h.work);
      assert.equal(r.pushed, false);
      assert.ok(server.requests() > 0, 'git reached the server');
      assert.match(r.error ?? '', /401|[Aa]uthentication|Username|could not read/, r.error);
      assert.deepEqual(h.ran(), ['trusted-credential-helper']);
    } finally {
      await server.close();
    }
  });

  it('a push over ssh uses the user\'s ssh (global core.sshCommand), never the repository\'s', async () => {
    const trustedSsh = h.marker('trusted-ssh');
    restore = isolateGlobalConfig(path.join(h.tmp, 'global.gitconfig'), `[core]\n\tsshCommand = ${trustedSsh}\n`);
    trackRemote(h.work, 's', 'ssh://git@127.0.0.1:1/repo.git');
    assert.throws(() => plainGit(h.work, ['-c', 'core.hooksPath=/dev/null', 'push', 's', 'HEAD:refs/heads/main']));
    assert.deepEqual(h.ran(), ['ssh-command'], 'plain git runs the repository\'s sshCommand');
    h.clear();
    const r = await pushToUpstream(h.work);
    assert.equal(r.pushed, false);
    assert.deepEqual(h.ran(), ['trusted-ssh']);
  });

  it('without a user setting, the push over ssh runs plain ssh (it fails to connect), never the repository\'s command', async () => {
    restore = isolateGlobalConfig(path.join(h.tmp, 'global.gitconfig'));
    trackRemote(h.work, 's', 'ssh://git@127.0.0.1:1/repo.git');
    h.clear();
    const r = await pushToUpstream(h.work);
    assert.equal(r.pushed, false);
    assert.match(r.error ?? '', /ssh|connect|Could not read from remote/i, r.error);
    assert.deepEqual(h.ran(), []);
  });
});

describe('SEC-10 hostile submodule: the status reads of the Controller do not enter a submodule\'s work tree', function () {
  this.timeout(60_000);
  let h: Hostile;
  let restore: () => void;

  before(() => {
    h = hostileRepo();
    restore = isolateGlobalConfig(path.join(h.tmp, 'global.gitconfig'));
    const quiet = (cwd: string, args: string[]) => plainGit(cwd, ['-c', 'core.hooksPath=/dev/null', '-c', 'core.fsmonitor=false', '-c', 'protocol.file.allow=always', ...args]);
    const sub = path.join(h.tmp, 'sub-origin');
    quiet(h.tmp, ['init', '-q', '-b', 'main', sub]);
    fs.writeFileSync(path.join(sub, '.gitattributes'), '* filter=m\n');
    fs.writeFileSync(path.join(sub, 'm.txt'), 'm\n');
    quiet(sub, ['add', '.']);
    quiet(sub, ['commit', '-q', '-m', 'sub']);
    quiet(h.work, ['-c', 'filter.x.process=', '-c', 'filter.x.required=false', 'submodule', 'add', '-q', sub, 'sub']);
    quiet(h.work, ['-c', 'filter.x.process=', '-c', 'filter.x.required=false', 'commit', '-q', '-m', 'add sub']);
    // The submodule's own config (not the superproject's) names the filter; a file of its work tree
    // has a new mtime and the same size, so git must read its content (through the filter) to compare.
    quiet(path.join(h.work, 'sub'), ['config', 'filter.m.clean', h.marker('submodule-filter-clean')]);
    const later = new Date(Date.now() + 60_000);
    fs.utimesSync(path.join(h.work, 'sub', 'm.txt'), later, later);
  });
  after(() => {
    restore();
    fs.rmSync(h.tmp, { recursive: true, force: true });
  });

  it('plain git status runs the submodule\'s filter; hostChanges, collectGitInfo, commitPaths and amendPaths do not', async () => {
    h.clear();
    try {
      plainGit(h.work, ['-c', 'core.hooksPath=/dev/null', '-c', 'core.fsmonitor=false', '-c', 'filter.x.process=', '-c', 'filter.x.required=false', 'status', '--porcelain']);
    } catch {
      // what counts is that the marker ran
    }
    assert.ok(h.ran().includes('submodule-filter-clean'), `control: ${h.ran().join(', ')}`);
    h.clear();
    await hostChanges(h.work, ['**']);
    await collectGitInfo(h.work);
    assert.deepEqual(h.ran(), []);
    // A commit next to the dirty submodule (git commit computes the status too).
    fs.writeFileSync(path.join(h.work, 'f.txt'), 'next to a submodule\n');
    await commitPaths(h.work, ['f.txt'], 'factory: D201 PASS');
    fs.writeFileSync(path.join(h.work, 'f.txt'), 'amended next to a submodule\n');
    await amendPaths(h.work, ['f.txt']);
    assert.deepEqual(h.ran(), []);
  });
});
