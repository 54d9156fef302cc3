import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { Platform, graphqlData, workspaceRoot } from '@multipult/testing';
import { PASSWORD } from './accounts';

const run = promisify(execFile);

/** Gives a platform role the way an operator does: the auth CLI against the auth database. */
export async function grantPlatformRole(platform: Platform, email: string, role: string): Promise<void> {
  const cli = path.join(workspaceRoot(), 'dist/apps/auth/apps/auth/src/cli.js');
  await run(process.execPath, [cli, 'grant-platform-role', email, role], {
    env: { PATH: process.env.PATH, DATABASE_URL: platform.databaseUrl },
  });
}

/** A fresh sign-in, so the access token carries the account's current roles. */
export async function signIn(platform: Platform, email: string, headers: Record<string, string> = {}): Promise<string> {
  const data = await graphqlData<{ login: { accessToken: string } }>(
    platform.gatewayUrl,
    `mutation($input: LoginInput!) { login(input: $input) { accessToken } }`,
    { variables: { input: { email, password: PASSWORD } }, headers },
  );
  return data.login.accessToken;
}
