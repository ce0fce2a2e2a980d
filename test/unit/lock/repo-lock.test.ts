import * as assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { acquireRepoLock, repoLockPath } from '../../../src/core/lock/repo-lock';
import { FactoryError } from '../../../src/core/util/errors';
import type { Logger } from '../../../src/core/util/log';

const ROOT = path.resolve(__dirname, '..', '..', '..');
// Wide enough that a holder's refresh timer starved by a loaded CI machine still looks fresh
// right after its crash.
const STALE_MS = 6_000;
// proper-lockfile stamps the lock with the NEXT whole second on filesystems with second-precision
// mtimes (it probes), so a lock can look up to 1 s younger than it is: wait past that too.
const STALE_WAIT_MS = STALE_MS + 1_600;

describe('repo lock', function () {
  // Holders start through tsx: slow on a loaded machine (the takeover itself is timed on its own).
  this.timeout(120_000);
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

  /** A real second process that takes the lock and says so; the caller SIGKILLs it. */
  async function holder(): Promise<ChildProcess> {
    const script = `const { acquireRepoLock } = require(${JSON.stringify(path.join(ROOT, 'src/core/lock/repo-lock.ts'))});
      acquireRepoLock(${JSON.stringify(repo)}, { staleMs: ${STALE_MS} }).then(() => { process.stdout.write('held\\n'); setInterval(() => {}, 1000); });`;
    const child = spawn(process.execPath, ['--import', 'tsx', '-e', script], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(child);
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (c: Buffer) => c.toString().includes('held') && resolve());
      child.on('exit', (code) => reject(new Error(`holder exited early (${code})`)));
    });
    return child;
  }
  const kill = async (child: ChildProcess) => {
    child.kill('SIGKILL');
    if (child.exitCode === null && child.signalCode === null) await new Promise((r) => child.once('exit', r));
  };
  const children: ChildProcess[] = [];
  afterEach(() => children.splice(0).forEach((c) => c.kill('SIGKILL')));
  const ownerFile = () => `${repoLockPath(repo)}.owner`;
  const logger = () => {
    const lines: string[] = [];
    const add = (m: string) => void lines.push(m);
    const log: Logger = { trace: add, debug: add, info: add, warn: add, error: (m) => add(String(m)) };
    return { lines, log };
  };

  it('SEC-27 a live holder is refused at once; once it is SIGKILLed the next Controller takes the lock over at once, not after the stale time, and says so', async () => {
    const child = await holder();
    const owner = JSON.parse(fs.readFileSync(ownerFile(), 'utf8')) as { owner: string; pid: number };
    assert.equal(owner.pid, child.pid, 'the lock records its owner');
    assert.equal(owner.owner, `${os.hostname()}:${child.pid}`);
    await assert.rejects(acquireRepoLock(repo, { staleMs: STALE_MS }), /another Controller/);
    await kill(child);
    const { lines, log } = logger();
    const t0 = Date.now();
    const lock = await acquireRepoLock(repo, { staleMs: STALE_MS, logger: log });
    const took = Date.now() - t0;
    assert.ok(took < 2_000, `took ${took} ms: the dead holder's lock must not wait the stale time (${STALE_MS} ms)`);
    assert.equal(lock.compromised, false);
    assert.match(lines.join('\n'), new RegExp(`took over the repo lock .*its owner ${os.hostname()}:${child.pid} is gone \\(process ${child.pid} no longer exists\\)`));
    assert.equal((JSON.parse(fs.readFileSync(ownerFile(), 'utf8')) as { pid: number }).pid, process.pid, 'the new owner is recorded');
    await assert.rejects(acquireRepoLock(repo, { staleMs: STALE_MS }), /another Controller/, 'and it is held again');
    await lock.release();
    assert.equal(fs.existsSync(ownerFile()), false, 'a release removes the owner record');
  });

  it('SEC-27 two Controllers racing for a dead holder\'s lock: exactly one takes it over', async () => {
    await kill(await holder());
    const results = await Promise.allSettled([acquireRepoLock(repo, { staleMs: STALE_MS }), acquireRepoLock(repo, { staleMs: STALE_MS }), acquireRepoLock(repo, { staleMs: STALE_MS })]);
    const held = results.filter((r) => r.status === 'fulfilled');
    assert.equal(held.length, 1, results.map((r) => (r.status === 'rejected' ? String(r.reason) : 'held')).join('; '));
    await held[0].value.release();
  });

  it('SEC-27 a dead holder whose pid now runs another process (pid reuse) is taken over; another host\'s holder is not', async () => {
    const child = await holder();
    await kill(child);
    const rec = JSON.parse(fs.readFileSync(ownerFile(), 'utf8')) as Record<string, unknown>;
    // The record names a live process (a sleeper) that started at another time than the owner did.
    const sleeper = spawn('sleep', ['30']);
    children.push(sleeper);
    fs.writeFileSync(ownerFile(), JSON.stringify({ ...rec, pid: sleeper.pid, owner: `${os.hostname()}:${sleeper.pid}`, startTime: '1' }));
    const { lines, log } = logger();
    const lock = await acquireRepoLock(repo, { staleMs: STALE_MS, logger: log });
    assert.match(lines.join('\n'), new RegExp(`pid ${sleeper.pid} now belongs to another process`));
    await lock.release();

    await kill(await holder());
    const dead = JSON.parse(fs.readFileSync(ownerFile(), 'utf8')) as Record<string, unknown>;
    fs.writeFileSync(ownerFile(), JSON.stringify({ ...dead, host: 'another-host', owner: `another-host:${String(dead.pid)}` }));
    await assert.rejects(acquireRepoLock(repo, { staleMs: STALE_MS }), /another Controller/, 'another host\'s pid says nothing here');
  });

  it('SEC-27 a crashed holder without an owner record (or a record about an older lock) goes stale and is recoverable', async () => {
    const child = await holder();
    await kill(child);
    const rec = fs.readFileSync(ownerFile(), 'utf8');
    // A record left by a holder of an earlier lock folder is not about this one.
    fs.writeFileSync(ownerFile(), JSON.stringify({ ...JSON.parse(rec), lock: '1:1' }));
    await assert.rejects(acquireRepoLock(repo, { staleMs: STALE_MS }), /another Controller/, 'still fresh right after the crash');
    fs.rmSync(ownerFile());
    await assert.rejects(acquireRepoLock(repo, { staleMs: STALE_MS }), /another Controller/, 'no record: nobody can say the holder is dead');
    await new Promise((r) => setTimeout(r, STALE_WAIT_MS));
    const lock = await acquireRepoLock(repo, { staleMs: STALE_MS });
    assert.equal(lock.compromised, false);
    await lock.release();
  });
});
