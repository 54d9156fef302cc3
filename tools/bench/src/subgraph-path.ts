import autocannon from 'autocannon';
import { startPlatform } from '@multipult/testing';
import { BENCH_NOTIFICATIONS_ENV, BENCH_PRODUCTION_ENV, expectSameAnswers, median, tenantOwnerWithDocuments } from './infrastructure';
import { cpuMicroseconds } from './process-cpu';

export type SubgraphPathTarget = 'fast path' | 'express';

export interface SubgraphPathQuery {
  name: string;
  query: string;
}

/** One query's load run against one content instance, or the median of its rounds. */
export interface SubgraphPathRun {
  query: string;
  target: SubgraphPathTarget;
  rounds: number;
  requests: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** The content process's user + system CPU time over the run divided by the requests completed. */
  cpuMicrosecondsPerRequest: number;
}

export interface SubgraphPathResult {
  queries: SubgraphPathQuery[];
  medians: SubgraphPathRun[];
  runs: SubgraphPathRun[];
}

const DOCUMENTS = 20;

const QUERIES: SubgraphPathQuery[] = [
  { name: 'typename', query: '{ __typename }' },
  { name: 'documents page', query: '{ documents(first: 10) { totalCount edges { node { id title type language } } } }' },
  {
    name: 'search (cached)',
    query: '{ searchDocuments(input: { query: "harbor", first: 10 }) { totalCount edges { node { rank language document { id title } } } } }',
  },
];


/**
 * What a subgraph's request path costs: two content instances on the same database, Redis and
 * Kafka, one serving GraphQL POSTs on the kit's fast path (the default) and one with
 * GRAPHQL_FAST_PATH=false (Express, Nest middleware, Apollo's Express integration), loaded in
 * interleaved rounds with the same token and queries. CPU per request is the measured instance's
 * user + system time from /proc over the run, so the load generator on the same cores does not
 * count; both instances must give the same answers before and after the load.
 */
export async function subgraphPath(options: { durationSeconds: number; connections: number; rounds: number }): Promise<SubgraphPathResult> {
  const platform = await startPlatform({
    env: BENCH_PRODUCTION_ENV,
    authEnv: { SIGNING_KEY_SECRET: 'benchmark-signing-key-secret-0123456789', FILE_LINK_SECRET: 'benchmark-file-link-secret-0123456789' },
    notificationsEnv: BENCH_NOTIFICATIONS_ENV,
    gatewayEnv: { RATE_LIMIT_PER_IP: '100000000', RATE_LIMIT_PER_USER: '100000000' },
  });
  try {
    const express = await platform.startServiceInstance('content', { GRAPHQL_FAST_PATH: 'false' });
    const token = await tenantOwnerWithDocuments(platform.gatewayUrl, 'subgraph-path', DOCUMENTS, 'Harbor document');
    const sameAnswerQueries = QUERIES.map(({ name, query }) => ({ name, query, token }));
    const targets = [
      { target: 'fast path' as const, url: platform.contentUrl, pid: platform.content.pid },
      { target: 'express' as const, url: `${express.url}/graphql`, pid: express.pid },
    ];
    await expectSameAnswers(targets, sameAnswerQueries);
    const runs: SubgraphPathRun[] = [];
    for (const query of QUERIES) {
      for (const { url } of targets) await load(url, query, token, Math.min(2, options.durationSeconds), options.connections);
      for (let round = 0; round < options.rounds; round++) {
        for (const { target, url, pid } of targets) {
          const before = cpuMicroseconds(pid);
          const result = await load(url, query, token, options.durationSeconds, options.connections);
          const cpuUsed = cpuMicroseconds(pid) - before;
          if (result.errors || result.non2xx || result.timeouts) {
            throw new Error(`${target}, ${query.name}: ${result.errors} errors, ${result.non2xx} non-2xx, ${result.timeouts} timeouts under load`);
          }
          runs.push({
            query: query.name,
            target,
            rounds: 1,
            requests: result.requests.total,
            requestsPerSecond: result.requests.average,
            p50Ms: result.latency.p50,
            p99Ms: result.latency.p99,
            cpuMicrosecondsPerRequest: cpuUsed / result.requests.total,
          });
        }
      }
    }
    await expectSameAnswers(targets, sameAnswerQueries);
    const medians = QUERIES.flatMap((query) =>
      targets.map(({ target }): SubgraphPathRun => {
        const of = runs.filter((run) => run.query === query.name && run.target === target);
        const medianOf = (key: 'requests' | 'requestsPerSecond' | 'p50Ms' | 'p99Ms' | 'cpuMicrosecondsPerRequest') => median(of.map((run) => run[key]));
        return {
          query: query.name,
          target,
          rounds: of.length,
          requests: medianOf('requests'),
          requestsPerSecond: medianOf('requestsPerSecond'),
          p50Ms: medianOf('p50Ms'),
          p99Ms: medianOf('p99Ms'),
          cpuMicrosecondsPerRequest: medianOf('cpuMicrosecondsPerRequest'),
        };
      }),
    );
    return { queries: QUERIES, medians, runs };
  } finally {
    await platform.stop();
  }
}

function load(url: string, query: SubgraphPathQuery, token: string, durationSeconds: number, connections: number): Promise<autocannon.Result> {
  return autocannon({
    url,
    method: 'POST',
    connections,
    duration: durationSeconds,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: query.query }),
  });
}
