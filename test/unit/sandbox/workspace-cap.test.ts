import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fsUsedBytes, watchWorkspace } from '../../../src/core/sandbox/workspace-cap';

/** The workspace watchdog: statfs first, a walk of the tree only when the file system grew past the allowance. */
describe('sandbox: workspace growth watchdog', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-wcap-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** Poll until `cond` or `ms` pass. */
  async function within(ms: number, cond: () => boolean): Promise<boolean> {
    for (const end = Date.now() + ms; Date.now() < end; await sleep(10)) if (cond()) return true;
    return cond();
  }
  const fill = (mb: number) => {
    for (let i = 0; i < mb; i++) fs.writeFileSync(path.join(dir, `f${i}`), Buffer.alloc(1024 * 1024, 1));
  };

  it('stops a Worker that writes past the allowance (real statfs, then the walk confirms)', async () => {
    let stops = 0;
    const w = await watchWorkspace(dir, { baseBytes: 0, growthMb: 2, onOver: () => stops++ });
    try {
      fill(4);
      assert.ok(await within(3_000, () => w.over), 'stopped within 3 s');
      assert.equal(stops, 1);
    } finally {
      w.stop();
    }
    assert.ok(fsUsedBytes(dir) > 0);
  });

  it('while the file system has not grown past the allowance the tree is not walked; once it has, it is', async () => {
    let fsUsed = 1_000_000;
    let asked = 0;
    let stops = 0;
    const w = await watchWorkspace(dir, { baseBytes: 0, growthMb: 2, onOver: () => stops++, fsUsed: () => (asked++, fsUsed) });
    try {
      fill(4); // the tree is over, but the (stubbed) file system says nothing grew: no walk, no stop
      assert.equal(await within(400, () => w.over), false);
      assert.ok(asked >= 3, `statfs polled (${asked})`);
      fsUsed += 4 * 1024 * 1024; // now it has: the walk runs and finds the tree over the cap
      assert.ok(await within(3_000, () => w.over));
      assert.equal(stops, 1);
    } finally {
      w.stop();
    }
  });

  it('a file system statfs cannot read falls back to walking every poll; the after-snapshot verdict stands on its own', async () => {
    const w = await watchWorkspace(dir, { baseBytes: 0, growthMb: 2, onOver: () => undefined, fsUsed: () => { throw new Error('ENOSYS'); } });
    try {
      fill(4);
      assert.ok(await within(3_000, () => w.over));
    } finally {
      w.stop();
    }
    const quiet = await watchWorkspace(dir, { baseBytes: 0, growthMb: 2, onOver: () => undefined, fsUsed: () => 0 });
    quiet.stop();
    const bytes = 5 * 1024 * 1024;
    assert.equal(await quiet.exceeded(new Map([['big', { type: 'file', mode: 0o644, size: bytes, hash: '', ino: 1, mtimeNs: 0n, ctimeNs: 0n, allocated: bytes }]])), true);
  });

  it('the other folders the Worker may write count too: growth there stops it, and the verdict after the run adds them', async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-wcap-out-'));
    try {
      fs.writeFileSync(path.join(out, 'prompt.md'), 'x'.repeat(10_000)); // there before the run: part of the base
      const w = await watchWorkspace(dir, { baseBytes: 0, growthMb: 2, extraDirs: [out], onOver: () => undefined });
      try {
        for (let i = 0; i < 4; i++) fs.writeFileSync(path.join(out, `f${i}`), Buffer.alloc(1024 * 1024, 1));
        assert.ok(await within(3_000, () => w.over), 'stopped for what it wrote outside the workspace');
      } finally {
        w.stop();
      }
      const quiet = await watchWorkspace(dir, { baseBytes: 0, growthMb: 2, extraDirs: [out], onOver: () => undefined, fsUsed: () => 0 });
      quiet.stop();
      // The workspace snapshot is empty, yet the output folder alone is over the allowance.
      assert.equal(await quiet.exceeded(new Map()), false, 'what was there when the watch began is the base');
      for (let i = 4; i < 8; i++) fs.writeFileSync(path.join(out, `f${i}`), Buffer.alloc(1024 * 1024, 1));
      assert.equal(await quiet.exceeded(new Map()), true);
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  });
});
