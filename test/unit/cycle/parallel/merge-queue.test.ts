import { strict as assert } from 'node:assert';
import { MergeQueue } from '../../../../src/core/cycle/parallel/merge-queue';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('merge queue (parallel run: one writer at a time, FIFO)', () => {
  it('runs jobs one at a time in the order they came, whatever their durations', async () => {
    const q = new MergeQueue();
    const log: string[] = [];
    let inside = 0;
    const job = (name: string, ms: number) => q.run(async () => {
      inside++;
      assert.equal(inside, 1, `${name} ran beside another job`);
      log.push(`${name}>`);
      await tick(ms);
      log.push(`<${name}`);
      inside--;
      return name;
    });
    const results = await Promise.all([job('a', 30), job('b', 1), job('c', 10)]);
    assert.deepEqual(results, ['a', 'b', 'c']);
    assert.deepEqual(log, ['a>', '<a', 'b>', '<b', 'c>', '<c']);
  });

  it('a failing job fails its caller only; the next job still runs', async () => {
    const q = new MergeQueue();
    const first = q.run(async () => {
      await tick(5);
      throw new Error('boom');
    });
    const second = q.run(async () => 'after');
    assert.equal(q.pending, 2);
    await assert.rejects(first, /boom/);
    assert.equal(await second, 'after');
    assert.equal(q.pending, 0);
  });
});
