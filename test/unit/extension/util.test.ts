import * as assert from 'node:assert/strict';
import { debounce } from '../../../src/extension/util/debounce';
import { DisposableStore } from '../../../src/extension/util/disposable-store';

/** A clock we advance by hand, so debounce is tested without sleeping. */
function fakeTimers(): { timers: Pick<typeof globalThis, 'setTimeout' | 'clearTimeout'>; advance(ms: number): void } {
  let now = 0;
  let seq = 0;
  const pending = new Map<number, { at: number; fn: () => void }>();
  const timers = {
    setTimeout: ((fn: () => void, ms: number) => {
      const id = ++seq;
      pending.set(id, { at: now + ms, fn });
      return id;
    }) as unknown as typeof setTimeout,
    clearTimeout: ((id: number) => pending.delete(id)) as unknown as typeof clearTimeout,
  };
  return {
    timers,
    advance(ms) {
      now += ms;
      for (const [id, t] of [...pending]) {
        if (t.at <= now) {
          pending.delete(id);
          t.fn();
        }
      }
    },
  };
}

describe('debounce', () => {
  it('runs once per burst, delay after the last trigger', () => {
    const clock = fakeTimers();
    let calls = 0;
    const d = debounce(() => calls++, 300, clock.timers);
    d.trigger();
    clock.advance(200);
    d.trigger();
    clock.advance(200);
    assert.equal(calls, 0, 'the second trigger restarted the delay');
    clock.advance(100);
    assert.equal(calls, 1);
    clock.advance(1000);
    assert.equal(calls, 1);
  });

  it('flush runs a pending call now; dispose cancels it and ignores later triggers', () => {
    const clock = fakeTimers();
    let calls = 0;
    const d = debounce(() => calls++, 300, clock.timers);
    d.flush();
    assert.equal(calls, 0, 'nothing pending, nothing to flush');
    d.trigger();
    d.flush();
    assert.equal(calls, 1);
    d.trigger();
    d.dispose();
    d.trigger();
    clock.advance(1000);
    assert.equal(calls, 1);
  });
});

describe('DisposableStore', () => {
  it('disposes its items newest first, once', () => {
    const order: string[] = [];
    const store = new DisposableStore();
    store.add({ dispose: () => order.push('a') });
    store.add({ dispose: () => order.push('b') });
    store.dispose();
    store.dispose();
    assert.deepEqual(order, ['b', 'a']);
    assert.equal(store.isDisposed, true);
  });

  it('disposes an item added after it was disposed at once (no leak)', () => {
    const store = new DisposableStore();
    store.dispose();
    let disposed = false;
    store.add({ dispose: () => (disposed = true) });
    assert.equal(disposed, true);
  });

  it('a throwing item does not keep the others from being disposed', () => {
    const store = new DisposableStore();
    let other = false;
    store.add({ dispose: () => (other = true) });
    store.add({
      dispose: () => {
        throw new Error('boom');
      },
    });
    assert.throws(() => store.dispose(), /boom/);
    assert.equal(other, true);
  });
});
