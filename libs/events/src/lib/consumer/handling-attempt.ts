import { EntityManager, QueryRunner } from 'typeorm';

/** A handler sent a statement after its attempt had ended (it returned, threw, or was abandoned). */
export class HandlingAttemptEndedError extends Error {
  constructor() {
    super('the handling attempt has ended: a statement sent now would run outside its transaction');
    this.name = 'HandlingAttemptEndedError';
  }
}

/**
 * The handling transaction as one attempt of a handler sees it. Once the attempt ends, every
 * statement sent through its manager is refused: the consumer is about to send COMMIT or ROLLBACK
 * on that connection, and a statement queued behind it would run on its own and commit (an
 * abandoned handler's write would land although its attempt rolled back, and the retry writes again).
 */
export class HandlingAttempt {
  readonly manager: EntityManager;
  private endedBy: Error | undefined;

  constructor(transactionManager: EntityManager) {
    const runner = transactionManager.queryRunner;
    if (!runner) throw new TypeError('a handling attempt runs in a transaction: its manager needs the query runner');
    // Methods run with the proxy as `this`, so the statements they send themselves (a savepoint) are gated too.
    const gated: QueryRunner = new Proxy(runner, {
      get: (target, property) => {
        if (property === 'manager') return this.manager;
        const value: unknown = Reflect.get(target, property);
        if ((property === 'query' || property === 'stream') && typeof value === 'function') {
          return (...args: unknown[]) => (this.endedBy ? Promise.reject(this.endedBy) : value.apply(gated, args));
        }
        return value;
      },
    });
    this.manager = transactionManager.connection.createEntityManager(gated);
  }

  /** Refuses statements from now on, with `reason` (the first reason given stays). */
  end(reason: Error = new HandlingAttemptEndedError()): void {
    this.endedBy ??= reason;
  }
}
