/** Anything with a `dispose()`: vscode.Disposable, our own stores, test doubles. */
export interface DisposableLike {
  dispose(): unknown;
}

/**
 * Owns a set of disposables and disposes them together, newest first (later registrations may
 * depend on earlier ones). Classes that own registrations extend this so every disposable has an
 * owner. Adding to a disposed store disposes the item at once instead of leaking it.
 */
export class DisposableStore implements DisposableLike {
  private readonly items: DisposableLike[] = [];
  private disposed = false;

  /** Takes ownership of `item` and returns it, so `this.add(x.onDidY(...))` reads naturally. */
  add<T extends DisposableLike>(item: T): T {
    if (this.disposed) {
      item.dispose();
    } else {
      this.items.push(item);
    }
    return item;
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    const errors: unknown[] = [];
    for (const item of this.items.splice(0).reverse()) {
      try {
        item.dispose();
      } catch (err) {
        // One failing dispose must not leak the others.
        errors.push(err);
      }
    }
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) throw new AggregateError(errors, 'several disposables failed');
  }
}
