import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Platform, ServiceProcess, eventually, graphql, workspaceRoot } from '@multipult/testing';
import { createTenantFor, registerAccount } from './support/accounts';
import { startGatewayFor } from './support/gateways';
import { readMetric } from './support/metrics';
import { usePlatform } from './support/platforms';

const run = promisify(execFile);

const AGENT_MODELS = '{ agentModels { id } }';

/**
 * A gateway of its own on the default platform's subgraphs, loading a supergraph file this file
 * rewrites (as a ConfigMap update does), checked every 200 ms: the shared gateway's file stays as is.
 */
describe('supergraph reload', () => {
  let platform: Platform;
  let dir: string;
  let supergraphPath: string;
  let gateway: ServiceProcess;
  let gatewayUrl: string;
  let token: string;
  let fullSupergraph: string;

  /** Replaces the file in one step, as the kubelet's symlink swap does (never a half-written file). */
  async function publish(content: string): Promise<void> {
    const staged = path.join(dir, 'staged.graphql');
    await writeFile(staged, content);
    await rename(staged, supergraphPath);
  }

  const reloads = (outcome: 'success' | 'failure') => readMetric(gateway.metricsUrl, 'gateway_supergraph_reloads_total', { outcome });
  const failing = () => readMetric(gateway.metricsUrl, 'gateway_supergraph_reload_failing', {});
  /** Whether the gateway's schema has the agents service's root field, asked as a client would. */
  const servesAgents = async () => {
    const result = await graphql<{ agentModels: { id: string }[] }>(gatewayUrl, AGENT_MODELS, { token });
    if (result.data?.agentModels) return true;
    if (result.errors?.[0]?.extensions?.code === 'GRAPHQL_VALIDATION_FAILED') return false;
    throw new Error(`unexpected answer: ${result.text.slice(0, 500)}`);
  };

  beforeAll(async () => {
    platform = await usePlatform('default');
    dir = await mkdtemp(path.join(os.tmpdir(), 'supergraph-reload-'));
    supergraphPath = path.join(dir, 'supergraph.graphql');
    await copyFile(platform.supergraphPath, supergraphPath);
    fullSupergraph = await readFile(supergraphPath, 'utf8');
    gateway = await startGatewayFor(platform, { SUPERGRAPH_PATH: supergraphPath, SUPERGRAPH_WATCH_SECONDS: '0.2' });
    gatewayUrl = `${gateway.url}/graphql`;
    const account = await registerAccount(gatewayUrl, 'supergraph-reload');
    token = (await createTenantFor(gatewayUrl, account)).accessToken;
  });

  afterAll(async () => {
    await gateway?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('swaps in a new supergraph without a restart: without a subgraph, then with it again', async () => {
    expect(await servesAgents()).toBe(true);
    const successes = await reloads('success');
    const withoutAgents = path.join(dir, 'without-agents.graphql');
    await run(process.execPath, [
      path.join(workspaceRoot(), 'tools/compose-supergraph/compose.mjs'),
      ...Object.entries(platform.urls)
        .filter(([name]) => name !== 'agents')
        .flatMap(([name, url]) => ['--subgraph', `${name}=${url}`]),
      '--out',
      withoutAgents,
    ]);

    await publish(await readFile(withoutAgents, 'utf8'));
    await eventually('the gateway to drop the agents fields', async () => (await servesAgents()) === false);
    expect(await reloads('success')).toBe(successes + 1);
    // The other subgraphs keep answering through the new supergraph.
    const me = await graphql<{ me: { id: string } }>(gatewayUrl, '{ me { id } }', { token });
    expect(me.data?.me.id).toEqual(expect.any(String));

    await publish(fullSupergraph);
    await eventually('the gateway to serve the agents fields again', () => servesAgents());
    expect(await reloads('success')).toBe(successes + 2);
    expect(await failing()).toBe(0);
  });

  it('refuses a file that is not a supergraph, keeps serving the old one, and clears the failure on a good file', async () => {
    const failures = await reloads('failure');
    const loadedAt = await readMetric(gateway.metricsUrl, 'gateway_supergraph_loaded_timestamp_seconds', {});

    await publish('this is not { a supergraph');
    await eventually('the refusal to be counted', async () => (await reloads('failure')) === failures + 1);
    expect(await failing()).toBe(1);
    expect(await servesAgents()).toBe(true);
    expect(gateway.output()).toContain('refused the supergraph file');

    // Valid GraphQL, but not a supergraph: refused before it reaches the gateway.
    await publish('type Query { agentModels: [String!]! }');
    await eventually('the second refusal to be counted', async () => (await reloads('failure')) === failures + 2);
    expect(await failing()).toBe(1);
    expect(await servesAgents()).toBe(true);
    expect(await readMetric(gateway.metricsUrl, 'gateway_supergraph_loaded_timestamp_seconds', {})).toBe(loadedAt);

    // A good file that differs from the one served (a trailing newline) is loaded and clears the failure.
    await publish(`${fullSupergraph}\n`);
    await eventually('the failure to clear', async () => (await failing()) === 0);
    expect(await servesAgents()).toBe(true);
    expect(await readMetric(gateway.metricsUrl, 'gateway_supergraph_loaded_timestamp_seconds', {})).toBeGreaterThan(loadedAt);
  });
});
