import { Client } from 'pg';
import { databaseConfig } from './config';
import { CliError } from './errors';

const CONNECT_TIMEOUT_MS = 5_000;

/**
 * DATABASE_URL, once a connection to it has succeeded: a service's entry point would otherwise
 * retry for half a minute before giving up, and say so in a log rather than in one line.
 */
export async function reachableDatabaseUrl(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const { DATABASE_URL } = databaseConfig(env);
  const client = new Client({ connectionString: DATABASE_URL, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  try {
    await client.connect();
  } catch (error) {
    throw new CliError(`cannot reach the database at ${new URL(DATABASE_URL).host}: ${(error as Error).message}`);
  }
  await client.end();
  return DATABASE_URL;
}
