import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { DeadLetterHeaders, UserRegistered, buildEnvelope, deadLetterTopic, envelopeHeaders } from '@multipult/events';
import { Platform, eventually, graphqlData, workspaceRoot } from '@multipult/testing';
import { PASSWORD, registerAccount } from './support/accounts';
import { signIn } from './support/admin';
import { inbox } from './support/notifications';
import { PlatformOf, usePlatform } from './support/platforms';

const run = promisify(execFile);
const CLI = path.join(workspaceRoot(), 'dist/apps/cli/apps/cli/src/main.js');

/** The platform's connection settings, as an operator's shell would have them. */
function operatorEnv(platform: Platform): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    DATABASE_URL: platform.databaseUrl,
    REDIS_URL: process.env.REDIS_URL,
    REDIS_KEY_PREFIX: platform.redisKeyPrefix,
    KAFKA_BROKERS: process.env.KAFKA_BROKERS,
    KAFKA_TOPIC_PREFIX: platform.kafkaTopicPrefix,
    GATEWAY_URL: platform.gatewayUrl,
  };
}

/** Runs `multipult …` as an operator does; answers the JSON lines it printed. */
async function multipult(platform: Platform, ...args: string[]): Promise<Record<string, unknown>[]> {
  const { stdout } = await run(process.execPath, [CLI, ...args], { env: operatorEnv(platform) });
  return stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** A run expected to fail: its exit code and what it printed on stderr. */
async function refused(platform: Platform, ...args: string[]): Promise<{ code: number; stderr: string }> {
  const outcome = await run(process.execPath, [CLI, ...args], { env: operatorEnv(platform) }).then(
    () => ({ code: 0, stderr: '' }),
    (error: { code: number; stderr: string }) => ({ code: error.code, stderr: error.stderr }),
  );
  expect(outcome.code).toBe(1);
  expect(outcome.stderr).toMatch(/^multipult: [^\n]+\n$/);
  return outcome;
}

const USERS = `query($filter: UsersFilter) { adminUsers(filter: $filter, first: 5) { edges { node { email emailVerified platformRoles } } } }`;
const SEARCH = `query($input: SearchDocumentsInput!) {
  searchDocuments(input: $input) { totalCount fuzzy edges { node { language document { id } } } facets { languages { value count } } }
}`;

describe('the multipult operator CLI', () => {
  let platform: PlatformOf<'default'>;

  beforeAll(async () => {
    platform = await usePlatform('default');
  });

  it('creates a user who signs in, with platform roles, and refuses a taken address or a weak password in one line', async () => {
    const email = `operator-${randomUUID()}@example.com`;
    const username = `op_${randomUUID().slice(0, 8)}`;
    const [created] = await multipult(platform, 'user', 'create', '--email', email, '--password', PASSWORD, '--display-name', 'Operator', '--username', username, '--platform-role', 'support');
    expect(created).toMatchObject({ created: true, email, username, platformRoles: ['support'] });

    const token = await signIn(platform, email);
    const me = await graphqlData<{ me: { id: string; displayName: string } }>(platform.gatewayUrl, '{ me { id displayName } }', { token });
    expect(me.me).toEqual({ id: created.userId, displayName: 'Operator' });
    const users = await graphqlData<{ adminUsers: { edges: { node: { email: string; emailVerified: boolean; platformRoles: string[] } }[] } }>(
      platform.gatewayUrl,
      USERS,
      { token, variables: { filter: { search: email } } },
    );
    expect(users.adminUsers.edges.map((edge) => edge.node)).toEqual([{ email, emailVerified: true, platformRoles: ['SUPPORT'] }]);

    expect((await refused(platform, 'user', 'create', '--email', email, '--password', PASSWORD, '--display-name', 'Again')).stderr).toBe(
      `multipult: auth: a user with the email ${email} exists already\n`,
    );
    const weak = await refused(platform, 'user', 'create', '--email', `weak-${randomUUID()}@example.com`, '--password', 'password', '--display-name', 'Weak');
    expect(weak.stderr).toContain('password: Password is too weak');
  });

  it('grants a platform role that admin queries then show', async () => {
    const account = await registerAccount(platform.gatewayUrl, 'auditor');
    const [granted] = await multipult(platform, 'role', 'grant', account.email, 'auditor');
    expect(granted).toEqual({ granted: 'auditor', userId: account.userId });

    const support = `support-${randomUUID()}@example.com`;
    await multipult(platform, 'user', 'create', '--email', support, '--password', PASSWORD, '--display-name', 'Support', '--platform-role', 'support');
    const users = await graphqlData<{ adminUsers: { edges: { node: { email: string; platformRoles: string[] } }[] } }>(platform.gatewayUrl, USERS, {
      token: await signIn(platform, support),
      variables: { filter: { search: account.email } },
    });
    expect(users.adminUsers.edges.map((edge) => edge.node)).toEqual([expect.objectContaining({ email: account.email, platformRoles: ['AUDITOR'] })]);
    expect((await refused(platform, 'role', 'grant', `nobody-${randomUUID()}@example.com`, 'auditor')).stderr).toBe('multipult: auth: User not found\n');
  });

  it('seeds demo users, tenants, documents in three languages and comments through the gateway; reindexes; announces to a tenant', async () => {
    const [report] = (await multipult(platform, 'seed', 'demo', '--users', '4', '--documents', '12')) as unknown as [
      {
        password: string;
        users: { email: string; username: string; tenantSlug: string }[];
        tenants: { id: string; slug: string }[];
        documents: { id: string; language: string }[];
        comments: number;
      },
    ];
    expect(report.users).toHaveLength(4);
    expect(report.tenants).toHaveLength(2);
    expect(report.documents).toHaveLength(12);
    expect(report.comments).toBe(12);

    // The owner of the first tenant signs in with the demo password and finds its documents.
    const [tenant] = report.tenants;
    const login = await graphqlData<{ login: { accessToken: string } }>(
      platform.gatewayUrl,
      `mutation($input: LoginInput!) { login(input: $input) { accessToken } }`,
      { variables: { input: { email: report.users[0].email, password: report.password } } },
    );
    const switched = await graphqlData<{ switchTenant: { accessToken: string } }>(
      platform.gatewayUrl,
      `mutation($input: SwitchTenantInput!) { switchTenant(input: $input) { accessToken } }`,
      { token: login.login.accessToken, variables: { input: { tenantId: tenant.id } } },
    );
    const token = switched.switchTenant.accessToken;
    const search = async () =>
      (await graphqlData<{ searchDocuments: { totalCount: number; fuzzy: boolean; facets: { languages: { value: string; count: number }[] } } }>(
        platform.gatewayUrl,
        SEARCH,
        { token, variables: { input: { query: 'Multipult' } } },
      )).searchDocuments;
    const found = await search();
    expect(found).toMatchObject({ totalCount: 6, fuzzy: false });
    expect(found.facets.languages).toEqual(expect.arrayContaining(['en', 'ru', 'tt'].map((value) => ({ value, count: 2 }))));
    const documentId = report.documents[0].id;
    const thread = await graphqlData<{ document: { comments: { html: string }[] } }>(platform.gatewayUrl, `query($id: ID!) { document(id: $id) { comments { html } } }`, {
      token,
      variables: { id: documentId },
    });
    // The first document's comment comes from the tenant's other member and mentions its owner.
    expect(thread.document.comments).toEqual([{ html: expect.stringContaining('Thanks for writing this up!') }]);
    expect(thread.document.comments[0].html).toContain(`@${report.users[0].username}`);

    const [reindexed] = await multipult(platform, 'search', 'reindex');
    expect(reindexed).toMatchObject({ reindexed: true });
    expect(reindexed.documents).toBeGreaterThanOrEqual(12);
    expect(await search()).toMatchObject({ totalCount: 6, fuzzy: false });

    const [announced] = await multipult(platform, 'announce', '--title', 'Maintenance tonight', '--body', 'From 22:00 UTC', '--tenant', tenant.id);
    expect(announced).toMatchObject({ announced: true, recipients: 2 });
    const announcements = await inbox(platform.gatewayUrl, token, { types: ['announcement'] });
    expect(announcements.nodes).toEqual([expect.objectContaining({ title: 'Maintenance tonight', body: 'From 22:00 UTC' })]);
  });

  it('lists a dead-lettered event and replays it to the consumers, once', async () => {
    const userId = randomUUID();
    const email = `dead-letter-${userId}@example.com`;
    const envelope = buildEnvelope(UserRegistered, {
      aggregateId: userId,
      payload: { userId, email, displayName: 'Dead Letter', username: `dl_${userId.slice(0, 8)}`, tenantId: null, locale: 'en' },
      tenantId: null,
      actorId: userId,
    });
    // As a consumer that gave up on it would have left it.
    const producer = new Kafka({ brokers: (process.env.KAFKA_BROKERS as string).split(','), logLevel: logLevel.NOTHING }).producer();
    await producer.connect();
    try {
      await producer.send({
        topic: `${platform.kafkaTopicPrefix}${deadLetterTopic(UserRegistered.topic)}`,
        messages: [
          {
            key: userId,
            value: JSON.stringify(envelope),
            headers: {
              ...envelopeHeaders(envelope),
              [DeadLetterHeaders.error]: 'connection terminated unexpectedly',
              [DeadLetterHeaders.originalTopic]: UserRegistered.topic,
              [DeadLetterHeaders.originalPartition]: '0',
              [DeadLetterHeaders.originalOffset]: '41',
              [DeadLetterHeaders.attempts]: '6',
            },
          },
        ],
      });
    } finally {
      await producer.disconnect();
    }

    const listed = await multipult(platform, 'dlq', 'inspect', UserRegistered.topic);
    expect(listed).toContainEqual(
      expect.objectContaining({
        key: userId,
        eventId: envelope.id,
        eventType: 'user.registered',
        error: 'connection terminated unexpectedly',
        attempts: 6,
        originalTopic: UserRegistered.topic,
        originalOffset: '41',
        replayed: false,
      }),
    );

    const replayed = await multipult(platform, 'dlq', 'replay', UserRegistered.topic);
    expect(replayed.map((line) => line.eventId)).toContain(envelope.id);
    expect(replayed.at(-1)).toMatchObject({ remaining: 0 });
    // The notifications service handles the replayed registration: the welcome email goes out.
    const welcome = await platform.smtp.waitFor((message) => message.to.includes(email));
    expect(welcome.text).toContain('Dead Letter');

    expect(await multipult(platform, 'dlq', 'replay', UserRegistered.topic)).toEqual([expect.objectContaining({ replayed: 0, remaining: 0 })]);
    expect(await multipult(platform, 'dlq', 'inspect', UserRegistered.topic)).toContainEqual(expect.objectContaining({ eventId: envelope.id, replayed: true }));
  });

  it('names what is missing from the environment in one line', async () => {
    const outcome = await run(process.execPath, [CLI, 'seed', 'demo'], { env: { PATH: process.env.PATH } }).catch((error: { code: number; stderr: string }) => error);
    expect(outcome).toMatchObject({ code: 1, stderr: 'multipult: Invalid configuration: GATEWAY_URL is required\n' });
  });
});

describe('multipult keys rotate', () => {
  let platform: Platform;

  beforeAll(async () => {
    // A rotation is platform-wide (see platforms.ts): its own platform.
    platform = await usePlatform('key-rotation');
  });

  it('publishes a new signing key in the JWKS and signs new tokens with it', async () => {
    const jwksKids = async () => ((await (await fetch(`${platform.auth.url}/.well-known/jwks.json`)).json()) as { keys: { kid: string }[] }).keys.map((key) => key.kid);
    const before = await jwksKids();
    const [rotated] = await multipult(platform, 'keys', 'rotate');
    expect(rotated).toMatchObject({ rotated: true });
    expect(before).not.toContain(rotated.kid);
    await eventually('the JWKS to publish the new key', async () => (await jwksKids()).includes(rotated.kid as string));
    expect(await jwksKids()).toEqual(expect.arrayContaining([...before, rotated.kid]));
    // Instances reload their keys every second here: new sign-ups get tokens of the new key.
    await eventually('a token signed with the new key', async () => {
      const account = await registerAccount(platform.gatewayUrl, 'after-cli-rotation');
      return JSON.parse(Buffer.from(account.accessToken.split('.')[0], 'base64url').toString('utf8')).kid === rotated.kid;
    });
  });
});
