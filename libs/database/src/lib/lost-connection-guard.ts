/**
 * PostgreSQL ends every session when it shuts down or restarts (57P01), and node-postgres then
 * emits 'error' on each client. A client nobody listens to at that moment (one a library holds
 * between statements, or is tearing down) turns that event into an uncaught exception, which ends
 * the process: a database restart took a whole service down with it in the soak. Such a client
 * is unusable already, and whoever holds it gets the failure from its next call, so this error is
 * logged instead. Every other uncaught exception still ends the process, as Node does by default.
 */

/** SQLSTATEs of a session the server ended: admin shutdown, crash shutdown, cannot connect now. */
const SESSION_ENDED_CODES = new Set(['57P01', '57P02', '57P03']);
const CONNECTION_ENDED_MESSAGES = new Set(['Connection terminated unexpectedly', 'Connection terminated']);

const INSTALLED = Symbol.for('multipult.lostConnectionGuard');

/** Whether an uncaught error is a PostgreSQL connection the server ended (see above). */
export function isLostPostgresConnection(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const { code, severity } = error as Error & { code?: unknown; severity?: unknown };
  if (typeof code === 'string' && SESSION_ENDED_CODES.has(code) && severity === 'FATAL') return true;
  return CONNECTION_ENDED_MESSAGES.has(error.message) && error.stack?.includes('/pg/lib/client.js') === true;
}

/** Installs the guard once per process; `log` hears each error it keeps from ending the process. */
export function guardAgainstLostPostgresConnections(log: (message: string) => void): void {
  const registry = process as unknown as { [INSTALLED]?: boolean };
  if (registry[INSTALLED]) return;
  registry[INSTALLED] = true;
  process.on('uncaughtException', (error) => {
    if (isLostPostgresConnection(error)) {
      log(`A PostgreSQL connection no one was listening to was ended by the server: ${(error as Error).message}`);
      return;
    }
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  });
}
