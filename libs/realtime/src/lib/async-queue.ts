/**
 * A push-to-pull bridge for subscription resolvers: producers push, graphql-ws pulls. `return()`
 * (the client completed or disconnected) ends it and runs the cleanup once.
 */
export class AsyncQueue<T> implements AsyncIterableIterator<T> {
  private readonly items: T[] = [];
  private readonly waiting: ((result: IteratorResult<T>) => void)[] = [];
  private finished = false;
  private ending = false;

  constructor(private readonly cleanup: () => void) {}

  get length(): number {
    return this.items.length;
  }

  get done(): boolean {
    return this.finished;
  }

  push(item: T): void {
    if (this.finished) return;
    const waiter = this.waiting.shift();
    if (waiter) waiter({ value: item, done: false });
    else this.items.push(item);
  }

  /** Ends the stream once what was pushed has been pulled (a subscription whose subject is finished). */
  end(): void {
    this.ending = true;
    if (!this.items.length) void this.return();
  }

  next(): Promise<IteratorResult<T>> {
    if (this.items.length) return Promise.resolve({ value: this.items.shift() as T, done: false });
    if (this.ending) void this.return();
    if (this.finished) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  return(): Promise<IteratorResult<T>> {
    if (!this.finished) {
      this.finished = true;
      this.items.length = 0;
      for (const waiter of this.waiting.splice(0)) waiter({ value: undefined, done: true });
      this.cleanup();
    }
    return Promise.resolve({ value: undefined, done: true });
  }

  throw(): Promise<IteratorResult<T>> {
    return this.return();
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }
}
