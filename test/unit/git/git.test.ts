import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { gitOrThrow, runGit, runGitGroup, unsafeDirectoryError } from '../../../src/core/git/git';
import { FactoryError } from '../../../src/core/util/errors';
import { plainGit } from './hostile-fixture';

describe('src/core/git: running git through simple-git', function () {
  this.timeout(30_000);
  let tmp: string;
  let repo: string;

  before(() => {
    tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'factory-git-')));
    repo = path.join(tmp, 'repo');
    plainGit(tmp, ['init', '-q', '-b', 'main', repo]);
    fs.writeFileSync(path.join(repo, 'bin.dat'), Buffer.from([0, 255, 1, 254, 10, 13]));
    plainGit(repo, ['add', 'bin.dat']);
    plainGit(repo, ['commit', '-q', '-m', 'first']);
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('returns exit code, stdout as bytes (binary intact) and stderr; a non-zero exit is a result, not an error', async () => {
    const blob = await runGit(repo, ['cat-file', 'blob', 'HEAD:bin.dat']);
    assert.equal(blob.code, 0);
    assert.deepEqual([...blob.stdout], [0, 255, 1, 254, 10, 13]);
    const missing = await runGit(repo, ['cat-file', '-e', 'HEAD:nope']);
    assert.notEqual(missing.code, 0);
    const outside = await runGit(path.join(tmp, 'no such folder'), ['status']);
    assert.equal(outside.code, 128);
  });

  it('feeds stdin', async () => {
    const r = await runGit(repo, ['hash-object', '--stdin'], { input: 'hello\n' });
    assert.equal(r.stdout.toString().trim(), 'ce013625030ba8dba906f756967f9e9ca394464a'); // git's id of the blob "hello\n"
  });

  it('gitOrThrow names the command, the folder and git\'s stderr', async () => {
    await assert.rejects(gitOrThrow(repo, ['show', 'HEAD:nope']), (e: FactoryError) => {
      assert.equal(e.code, 'git-failed');
      assert.ok(e.message.includes(repo) && e.message.includes('git show HEAD:nope') && /does not exist/.test(e.message), e.message);
      return true;
    });
    await assert.rejects(gitOrThrow(repo, ['-c', 'user.name=X', 'commit', '-q', '-m', 'nothing']), (e: FactoryError) => e.message.startsWith(`git commit failed in ${repo}`));
  });

  it('stdin always ends: a command reading it without input gets an empty stdin, never waits', async () => {
    const r = await runGit(repo, ['hash-object', '--stdin']);
    assert.equal(r.stdout.toString().trim(), 'e69de29bb2d1d6434b8b29ae775ad8c2e48c5391'); // the empty blob
    assert.equal((await runGit(repo, ['hash-object', '--stdin'], { input: '' })).code, 0);
  });

  it('an abort stops the git process: the call rejects with `interrupted` at once', async () => {
    // A loopback server that accepts and never answers: git ls-remote waits until the abort.
    // Its connections are destroyed at the end: git's HTTP helper outlives the killed git while it
    // waits on the network, and an open socket would keep this test process alive.
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((socket) => {
      sockets.add(socket);
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as net.AddressInfo).port;
    try {
      const ac = new AbortController();
      const t0 = Date.now();
      const call = runGit(repo, ['ls-remote', `http://127.0.0.1:${port}/x.git`], { signal: ac.signal });
      setTimeout(() => ac.abort(), 500);
      await assert.rejects(call, (e: FactoryError) => e.code === 'interrupted');
      assert.ok(Date.now() - t0 < 10_000);
      await assert.rejects(runGit(repo, ['status'], { signal: AbortSignal.abort() }), (e: FactoryError) => e.code === 'interrupted');
    } finally {
      for (const socket of sockets) socket.destroy();
      silent.close();
    }
  });

  it('a stopped push ends git and its transport helper (git-remote-http): nothing is left waiting on the network', async function () {
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((socket) => {
      sockets.add(socket);
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as net.AddressInfo).port;
    const url = `http://127.0.0.1:${port}/push-${process.pid}.git`;
    const helpers = () => fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
      try {
        return fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(url);
      } catch {
        return false;
      }
    });
    try {
      const ac = new AbortController();
      const call = runGitGroup(repo, ['push', '--porcelain', url, 'HEAD:refs/heads/main'], ac.signal);
      // Wait until the helper is connected and waiting, then stop.
      for (let i = 0; i < 100 && sockets.size === 0; i++) await new Promise((r) => setTimeout(r, 50));
      assert.ok(helpers().length > 0, 'the push started a transport helper that waits on the silent server');
      ac.abort();
      await assert.rejects(call, (e: FactoryError) => e.code === 'interrupted');
      for (let i = 0; i < 40 && helpers().length; i++) await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(helpers(), [], 'no git process of the push is left');
    } finally {
      for (const socket of sockets) socket.destroy();
      silent.close();
    }
  });

  it('reads git\'s dubious-ownership refusal, quoting the path for the shell', () => {
    const e = unsafeDirectoryError("fatal: detected dubious ownership in repository at '/srv/it's here'\nTo add an exception…", '/x');
    assert.ok(e);
    assert.equal(e.code, 'git-unsafe-directory');
    assert.ok(e.message.includes(`git config --global --add safe.directory '/srv/it'\\''s here'`), e.message);
    assert.equal(unsafeDirectoryError('fatal: not a git repository', '/x'), null);
  });
});
