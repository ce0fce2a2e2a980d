/**
 * The parallel run's one in-process FIFO queue for everything that writes the Controller's shared
 * records or the host's tree (issue 18, item 3): choosing and marking a cycle's ACs, ADJUST with
 * its integration onto the current HEAD, a verdict's record, an abandoned cycle's roll-back. Each
 * job starts when the one before it has settled (resolved or rejected), in the order they came.
 */
export class MergeQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private waiting = 0;

  /** Run `job` after every job queued before it; its result (or error) is the caller's. */
  run<T>(job: () => Promise<T>): Promise<T> {
    this.waiting++;
    const result = this.tail.then(async () => {
      this.waiting--;
      return job();
    });
    this.tail = result.catch(() => undefined);
    return result;
  }

  /** Jobs queued and not yet started. */
  get pending(): number {
    return this.waiting;
  }
}
