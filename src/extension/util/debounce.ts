import type { DisposableLike } from './disposable-store';

/** A debounced call: `trigger()` coalesces bursts, `flush()` runs now, `dispose()` cancels. */
export interface Debounced extends DisposableLike {
  trigger(): void;
  flush(): void;
}

/**
 * Runs `fn` once, `delayMs` after the last of a burst of triggers. Saving a document fires several
 * file-system events (write, rename of the atomic temp file, …); re-indexing once per burst keeps
 * the views from flickering and the extension host idle.
 */
export function debounce(fn: () => void, delayMs: number, timers: Pick<typeof globalThis, 'setTimeout' | 'clearTimeout'> = globalThis): Debounced {
  let handle: ReturnType<typeof setTimeout> | undefined;
  let disposed = false;
  const cancel = (): void => {
    if (handle !== undefined) timers.clearTimeout(handle);
    handle = undefined;
  };
  return {
    trigger() {
      if (disposed) return;
      cancel();
      handle = timers.setTimeout(() => {
        handle = undefined;
        fn();
      }, delayMs);
    },
    flush() {
      if (disposed || handle === undefined) return;
      cancel();
      fn();
    },
    dispose() {
      disposed = true;
      cancel();
    },
  };
}
