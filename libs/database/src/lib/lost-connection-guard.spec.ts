import { spawn } from 'node:child_process';
import path from 'node:path';
import { isLostPostgresConnection } from './lost-connection-guard';

jest.setTimeout(30_000);

/**
 * A process holding a PostgreSQL client nobody listens to, whose session the server then ends (as
 * a restart does): it runs as its own Node process (type stripping loads the guard's source), so
 * an uncaught exception ends that process and not jest's.
 */
function runOrphanedClient(guarded: boolean): Promise<{ code: number | null; output: string }> {
  const guard = path.join(__dirname, 'lost-connection-guard.ts');
  const script = `
    const { Client } = require('pg');
    (async () => {
      // Guarded, the guard's log says the error came and went; unguarded, the error ends the process first.
      let logged;
      const guardLogged = new Promise((resolve) => (logged = resolve));
      ${guarded ? `(await import(${JSON.stringify(guard)})).guardAgainstLostPostgresConnections((message) => { console.log('logged: ' + message); logged(); });` : ''}
      const orphan = new Client({ connectionString: process.env.DATABASE_URL });
      await orphan.connect();
      const { rows: [{ pid }] } = await orphan.query('SELECT pg_backend_pid() AS pid');
      const admin = new Client({ connectionString: process.env.DATABASE_URL });
      await admin.connect();
      await admin.query('SELECT pg_terminate_backend($1)', [pid]);
      await admin.end();
      await guardLogged;
      console.log('still running');
      process.exit(0);
    })();
  `;
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['-e', script], { cwd: path.resolve(__dirname, '../../../..'), env: process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) => resolve({ code, output }));
  });
}

describe('the lost PostgreSQL connection guard', () => {
  it('keeps a process running when the server ends a connection nobody listens to, and logs it', async () => {
    const { code, output } = await runOrphanedClient(true);
    expect(output).toContain('logged: A PostgreSQL connection no one was listening to was ended by the server: terminating connection due to administrator command');
    expect(output).toContain('still running');
    expect(code).toBe(0);
  });

  it('is what keeps it running: without it the same process dies', async () => {
    const { code, output } = await runOrphanedClient(false);
    expect(output).toContain('terminating connection due to administrator command');
    expect(output).not.toContain('still running');
    expect(code).toBe(1);
  });

  it('lets any other uncaught error end the process, with its stack', async () => {
    const guard = path.join(__dirname, 'lost-connection-guard.ts');
    const script = `(async () => {
      (await import(${JSON.stringify(guard)})).guardAgainstLostPostgresConnections(() => undefined);
      // Immediates run in order: the second runs only if the process outlived the first's error.
      setImmediate(() => { throw new Error('a bug'); });
      setImmediate(() => console.log('still running'));
    })();`;
    const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve) => {
      const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
      let text = '';
      child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString()));
      child.once('exit', (exitCode) => resolve({ code: exitCode, output: text }));
    });
    expect(output).toContain('Error: a bug');
    expect(output).not.toContain('still running');
    expect(code).toBe(1);
  });

  it('tells a session the server ended from other errors', () => {
    const fatal = Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01', severity: 'FATAL' });
    expect(isLostPostgresConnection(fatal)).toBe(true);
    expect(isLostPostgresConnection(Object.assign(new Error('duplicate key'), { code: '23505', severity: 'ERROR' }))).toBe(false);
    expect(isLostPostgresConnection(new TypeError('Connection terminated unexpectedly'))).toBe(false);
    expect(isLostPostgresConnection('57P01')).toBe(false);
  });
});
