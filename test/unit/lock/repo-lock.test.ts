import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { acquireRepoLock, repoLockPath } from '../../../src/core/lock/repo-lock';
import { FactoryError } from '../../../src/core/util/errors';

const ROOT = path.resolve(__dirname, '..', '..', '..');
// Wide enough that a holder's refresh timer starved by a loaded CI machine still looks fresh
// right after its crash.
const STALE_MS = 6_000;
// proper-lockfile stamps the lock with the NEXT whole second on filesystems with second-precision
// mtimes (it probes), so a lock can look up to 1 s younger than it is: wait past that too.
const STALE_WAIT_MS = STALE_MS + 1_600;

describe('repo lock', function () {
  this.timeout(40_000);
  let repo: string;
  beforeEach(() => {
    repo = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-lock-test-'));
    fs.mkdirSync(path.join(repo, '.git'));
  });
  afterEach(() => fs.rmSync(repo, { recursive: true, force: true }));

  it('lives inside .git, never in the tracked tree', () => {
    assert.equal(repoLockPath(repo), path.join(fs.realpathSync(repo), '.git', 'factory-cycle'));
  });

  it('SEC-27 two Controllers on one repo: exactly one holds the lock', async () => {
    const results = await Promise.allSettled([acquireRepoLock(repo), acquireRepoLock(repo)]);
    const held = results.filter((r) => r.status === 'fulfilled');
    const refused = results.filter((r) => r.status === 'rejected');
    assert.equal(held.length, 1);
    assert.equal(refused.length, 1);
    assert.ok((refused[0]).reason instanceof FactoryError);
    assert.match(String((refused[0]).reason.message), /another Controller/);
    await (held[0]).value.release();
    const again = await acquireRepoLock(repo);
    await again.release();
  });

  it('SEC-27 a crashed holder\'s lock goes stale and is recoverable', async () => {
    // A real second process takes the lock, then dies by SIGKILL without releasing it.
    const script = `const { acquireRepoLock } = require(${JSON.stringify(path.join(ROOT, 'src/core/lock/repo-lock.ts'))});
      acquireRepoLock(${JSON.stringify(repo)}, { staleMs: ${STALE_MS} }).then(() => { process.stdout.write('held\\n'); setInterval(() => {}, 1000); });`;
    const child = spawn(process.execPath, ['--import', 'tsx', '-e', script], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (c: Buffer) => c.toString().includes('held') && resolve());
        child.on('exit', (code) => reject(new Error(`holder exited early (${code})`)));
      });
      await assert.rejects(acquireRepoLock(repo, { staleMs: STALE_MS }), /another Controller/);
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      await assert.rejects(acquireRepoLock(repo, { staleMs: STALE_MS }), /another Controller/, 'still fresh right after the crash');
      await new Promise((r) => setTimeout(r, STALE_WAIT_MS));
      const lock = await acquireRepoLock(repo, { staleMs: STALE_MS });
      assert.equal(lock.compromised, false);
      await lock.release();
    } finally {
      child.kill('SIGKILL');
    }
  });
});
