import * as assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createStagingCopy } from '../../../src/core/sandbox/staging';
import { chooseStagingRoot, isOwnTempFolder, stagingRoots, type MachineFacts } from '../../../src/core/sandbox/staging-root';
import { TarUsageMeter } from '../../../src/core/sandbox/tar-usage';

const MIB = 1024 * 1024;
const TMPFS = 0x01021994;
const EXT4 = 0xef53;

/** A Linux machine with a roomy, writable, exec-able tmpfs and 8 GiB of free memory, unless told otherwise. */
function machine(over: Partial<MachineFacts> & { shmFreeMb?: number; memFreeMb?: number; shmType?: number } = {}): MachineFacts {
  return {
    env: {},
    platform: 'linux',
    tmpdir: '/var/tmp-x',
    shm: '/dev/shm',
    statfs: (p) => (p === '/dev/shm' ? { type: over.shmType ?? TMPFS, bavail: ((over.shmFreeMb ?? 8192) * MIB) / 4096, bsize: 4096 } : undefined),
    mountOptions: () => ['rw', 'nosuid', 'nodev'],
    freeMemBytes: () => (over.memFreeMb ?? 8192) * MIB,
    writable: () => true,
    ...over,
  };
}
const need = { workspaceMb: 1024, memoryMb: 2048 };

describe('sandbox: where the staging copy lives (RAM when it fits)', function () {
  this.timeout(30_000);

  it('picks /dev/shm with a budget of what is left after the growth allowance, the Worker memory and a reserve', () => {
    const c = chooseStagingRoot(need, machine());
    assert.equal(c.kind, 'tmpfs');
    assert.equal(c.root, '/dev/shm');
    // min(shm 8192 − 1024 − 512, mem 8192 − 1024 − 2048 − 512) MiB
    assert.equal(c.budgetBytes, (8192 - 1024 - 2048 - 512) * MIB);
    assert.equal(chooseStagingRoot(need, machine({ shmFreeMb: 3000 })).budgetBytes, (3000 - 1024 - 512) * MIB);
  });

  it('falls back to the temp folder, saying why, when RAM cannot take it', () => {
    const cases: Array<[Parameters<typeof machine>[0], RegExp]> = [
      [{ platform: 'darwin' }, /no \/dev\/shm on darwin/],
      [{ shmType: EXT4 }, /not a tmpfs/],
      [{ statfs: () => undefined }, /not a tmpfs/],
      [{ mountOptions: () => ['rw', 'noexec'] }, /noexec/],
      [{ writable: () => false }, /not writable/],
      [{ shmFreeMb: 1500 }, /no room for the copy and its 1024 MiB growth allowance/],
      [{ memFreeMb: 3500 }, /too little free memory .* 2048 MiB/],
    ];
    for (const [over, why] of cases) {
      const c = chooseStagingRoot(need, machine(over));
      assert.equal(c.kind, 'tmpdir', JSON.stringify(over));
      assert.equal(c.root, '/var/tmp-x');
      assert.match(c.reason, why);
      assert.equal(c.budgetBytes, undefined);
    }
  });

  it('FACTORY_STAGING_DIR from the environment pins the root', () => {
    const c = chooseStagingRoot(need, machine({ env: { FACTORY_STAGING_DIR: '/srv/stage/' } }));
    assert.deepEqual(c, { root: '/srv/stage', kind: 'override', reason: 'FACTORY_STAGING_DIR' });
  });

  it('only factory-* folders directly in a staging root may be deleted on the word of a label or a state file', () => {
    const m = machine();
    assert.deepEqual(stagingRoots(m), ['/var/tmp-x', '/dev/shm']);
    assert.equal(isOwnTempFolder('/dev/shm/factory-run-1', m), true);
    assert.equal(isOwnTempFolder('/var/tmp-x/factory-run-1', m), true);
    assert.equal(isOwnTempFolder('/dev/shm/other', m), false);
    assert.equal(isOwnTempFolder('/dev/shm/factory-x/../../../etc', m), false);
    assert.equal(isOwnTempFolder('/dev/shm/factory-x/sub', m), false);
    assert.equal(isOwnTempFolder('/srv/stage/factory-x', m), false);
    assert.equal(isOwnTempFolder('/srv/stage/factory-x', machine({ env: { FACTORY_STAGING_DIR: '/srv/stage' } })), true);
    assert.equal(isOwnTempFolder('/dev/shm/factory-x', machine({ platform: 'darwin' })), false);
  });

  describe('the tar meter', () => {
    let repo: string;
    before(() => {
      repo = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-tarmeter-'));
      const w = (p: string, bytes: number) => {
        fs.mkdirSync(path.dirname(path.join(repo, p)), { recursive: true });
        fs.writeFileSync(path.join(repo, p), Buffer.alloc(bytes, 120));
      };
      w('empty.txt', 0);
      w('one.txt', 1);
      w('a/page-and-one.bin', 4097);
      w('a/b/hundred-k.bin', 100_000);
      w(`long/${'n'.repeat(120)}/${'m'.repeat(120)}.txt`, 10); // a pax path record
      fs.symlinkSync('one.txt', path.join(repo, 'link'));
      const git = (...a: string[]) => execFileSync('git', ['-C', repo, '-c', 'user.email=t@example.invalid', '-c', 'user.name=t', ...a], { stdio: 'pipe' });
      git('init', '-q');
      git('add', '-A');
      git('commit', '-qm', 'base');
    });
    after(() => fs.rmSync(repo, { recursive: true, force: true }));

    const archive = () => execFileSync('git', ['-C', repo, 'archive', '--format=tar', 'HEAD'], { maxBuffer: 64 * MIB });
    // A page per entry (5 files, 1 symlink, 5 folders: a, a/b, long, long/nnn…, and none for the top)
    // plus each file's data in pages: 0 + 1 + 2 + 25 + 1.
    const expected = (5 + 1 + 4) * 4096 + (0 + 1 + 2 + 25 + 1) * 4096;

    async function meter(chunk: number, budget = Number.MAX_SAFE_INTEGER) {
      const tar = archive();
      const parts: Buffer[] = [];
      for (let i = 0; i < tar.length; i += chunk) parts.push(tar.subarray(i, i + chunk));
      let calls = 0;
      const m = new TarUsageMeter(budget, () => calls++);
      const out: Buffer[] = [];
      m.on('data', (c: Buffer) => out.push(c));
      await pipeline(Readable.from(parts), m);
      return { usage: m.usage, calls, passed: Buffer.concat(out), tar };
    }

    it('estimates the tmpfs pages of the extracted tree, whatever the chunking, and passes the bytes through untouched', async () => {
      const listing = spawnSync('tar', ['-t', '-f', '-'], { input: archive() }).stdout.toString().split('\n').filter(Boolean);
      assert.equal(listing.length, 10, listing.join(','));
      for (const chunk of [1, 7, 511, 513, 65536]) {
        const r = await meter(chunk);
        assert.equal(r.usage, Math.max(expected, r.tar.length), `chunk ${chunk}`);
        assert.ok(r.passed.equals(r.tar));
        assert.equal(r.calls, 0);
      }
    });

    it('calls onOver once when the estimate passes the budget', async () => {
      const r = await meter(4096, 50_000);
      assert.equal(r.calls, 1);
    });
  });

  describe('createStagingCopy', () => {
    let repo: string;
    let shm: string;
    let tmp: string;
    before(() => {
      repo = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-stageroot-'));
      for (let i = 0; i < 40; i++) fs.writeFileSync(path.join(repo, `f${i}.txt`), `row ${i}\n`);
      const git = (...a: string[]) => execFileSync('git', ['-C', repo, '-c', 'user.email=t@example.invalid', '-c', 'user.name=t', ...a], { stdio: 'pipe' });
      git('init', '-q');
      git('add', '-A');
      git('commit', '-qm', 'base');
    });
    beforeEach(() => {
      shm = fs.mkdtempSync(path.join(os.tmpdir(), 'fake-shm-'));
      tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fake-tmp-'));
      // Like the real ones (1777), the Worker user (tar runs as it under root) must get through.
      fs.chmodSync(shm, 0o1777);
      fs.chmodSync(tmp, 0o1777);
    });
    afterEach(() => {
      fs.rmSync(shm, { recursive: true, force: true });
      fs.rmSync(tmp, { recursive: true, force: true });
    });
    after(() => fs.rmSync(repo, { recursive: true, force: true }));

    const facts = (shmFreeBytes: number): MachineFacts =>
      machine({ shm, tmpdir: tmp, statfs: (p) => (p === shm ? { type: TMPFS, bavail: shmFreeBytes / 4096, bsize: 4096 } : undefined), writable: () => true });

    it('puts the copy in RAM when it fits', async () => {
      const s = await createStagingCopy({ root: repo, runId: 'r1', modify: [], workspaceMb: 8, memoryMb: 64, machine: facts((8 + 512) * MIB + 64 * MIB) });
      try {
        assert.equal(s.placement.kind, 'tmpfs');
        assert.equal(path.dirname(s.dir), shm);
        assert.equal(fs.readdirSync(s.workspace).length, 40);
      } finally {
        s.dispose();
      }
      assert.deepEqual(fs.readdirSync(shm), []);
    });

    it('moves to the disk when the tree turns out larger than the RAM budget, leaving nothing behind', async () => {
      // 16 MiB is the least budget worth trying; 40 files take 40 pages + 40 data pages, far less —
      // so shrink the budget under the tree by asking for a growth allowance that eats the rest.
      const tooSmall = facts((8 + 512) * MIB + 16 * MIB);
      const fits = await createStagingCopy({ root: repo, runId: 'r2', modify: [], workspaceMb: 8, memoryMb: 64, machine: tooSmall });
      fits.dispose();
      assert.equal(fits.placement.kind, 'tmpfs', 'a 16 MiB budget holds 40 small files');
      // A tree of 40 × 1 MiB files does not fit 16 MiB.
      for (let i = 0; i < 40; i++) fs.writeFileSync(path.join(repo, `f${i}.txt`), Buffer.alloc(MIB, i));
      execFileSync('git', ['-C', repo, '-c', 'user.email=t@example.invalid', '-c', 'user.name=t', 'commit', '-qam', 'big'], { stdio: 'pipe' });
      const s = await createStagingCopy({ root: repo, runId: 'r3', modify: [], workspaceMb: 8, memoryMb: 64, machine: tooSmall });
      try {
        assert.equal(s.placement.kind, 'tmpdir');
        assert.match(s.placement.reason, /more than the 16 MiB of RAM/);
        assert.equal(path.dirname(s.dir), tmp);
        assert.equal(fs.readdirSync(s.workspace).length, 40);
        assert.equal(fs.statSync(path.join(s.workspace, 'f39.txt')).size, MIB, 'the disk copy is whole');
      } finally {
        s.dispose();
      }
      assert.deepEqual(fs.readdirSync(shm), [], 'the partial RAM copy was deleted');
    });
  });
});
