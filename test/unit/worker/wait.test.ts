import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { waitForFile } from '../../../src/worker/wait';

/** The runtime waits for plan.json: the cycle writes it only once its base snapshot is complete. */
describe('worker runtime: waiting for plan.json', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-wait-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('returns at once when the file is there, and wakes when it is renamed into place later', async () => {
    const file = path.join(dir, 'plan.json');
    fs.writeFileSync(file, '{}');
    assert.equal(await waitForFile(file, 10), true);
    fs.rmSync(file);
    const t = Date.now();
    setTimeout(() => {
      fs.writeFileSync(path.join(dir, '.plan.json.tmp'), '{}');
      fs.renameSync(path.join(dir, '.plan.json.tmp'), file);
    }, 50);
    assert.equal(await waitForFile(file, 5_000), true);
    const waited = Date.now() - t;
    assert.ok(waited >= 40 && waited < 1_000, `woke after ${waited} ms`);
  });

  it('gives up after the timeout when no file comes (a temp name does not count)', async () => {
    const file = path.join(dir, 'plan.json');
    fs.writeFileSync(path.join(dir, '.plan.json.tmp'), '{}');
    assert.equal(await waitForFile(file, 80), false);
  });
});
