import { AsyncQueue } from './async-queue';

describe('AsyncQueue', () => {
  it('hands pushed items to the consumer in order, whether it waits first or reads later', async () => {
    const queue = new AsyncQueue<number>(() => undefined);
    const waiting = queue.next();
    queue.push(1);
    queue.push(2);
    queue.push(3);
    expect(await waiting).toEqual({ value: 1, done: false });
    expect(queue.length).toBe(2);
    expect(await queue.next()).toEqual({ value: 2, done: false });
    expect(await queue.next()).toEqual({ value: 3, done: false });
  });

  it('ends on return(): waiting readers finish, later pushes are dropped, cleanup runs once', async () => {
    const cleanup = jest.fn();
    const queue = new AsyncQueue<string>(cleanup);
    const waiting = queue.next();
    await queue.return();
    await queue.throw();
    queue.push('late');
    expect(await waiting).toEqual({ value: undefined, done: true });
    expect(await queue.next()).toEqual({ value: undefined, done: true });
    expect(queue.done).toBe(true);
    expect(queue.length).toBe(0);
    expect(cleanup).toHaveBeenCalledTimes(1);
  });

  it('is consumed by for await until it ends', async () => {
    const queue = new AsyncQueue<string>(() => undefined);
    queue.push('a');
    queue.push('b');
    const seen: string[] = [];
    for await (const item of queue) {
      seen.push(item);
      if (seen.length === 2) break;
    }
    expect(seen).toEqual(['a', 'b']);
    expect(queue.done).toBe(true);
  });

  it('end() lets the consumer take what was pushed, then finishes and cleans up', async () => {
    const cleanup = jest.fn();
    const queue = new AsyncQueue<string>(cleanup);
    queue.push('last state');
    queue.end();
    const seen: string[] = [];
    for await (const item of queue) seen.push(item);
    expect(seen).toEqual(['last state']);
    expect(cleanup).toHaveBeenCalledTimes(1);

    const empty = new AsyncQueue<string>(cleanup);
    const waiting = empty.next();
    empty.end();
    expect(await waiting).toEqual({ value: undefined, done: true });
  });
});
