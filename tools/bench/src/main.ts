import 'reflect-metadata';
import { agentsOrchestration } from './agents-orchestration';
import { loginThroughput, tokenVerificationCost } from './auth-cost';
import { ensureInfrastructure } from './infrastructure';
import { exportBulk } from './export-bulk';
import { exportJira } from './export-jira';
import { gatewayOverhead } from './gateway-overhead';
import { mentionCpu } from './mention-cpu';
import { outboxThroughput } from './outbox-throughput';
import { pdfRender } from './pdf-render';
import { realtimeFanout } from './realtime-fanout';
import { SearchLatencyRun, searchLatency } from './search-latency';
import { subgraphPath } from './subgraph-path';

const format = (value: number, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');

/** A search run against the same query's run of the baseline commit (BENCH_SEARCH_BASELINE_ROOT), as ratios. */
function againstBaseline(current: SearchLatencyRun | undefined, baseline: SearchLatencyRun): string {
  if (!current) return 'n/a';
  const ratio = (now: number, before: number) => `${format(now / before, 2)}x`;
  const cpu = (run: SearchLatencyRun, name: string) => run.cpuMsPerRequest[name] ?? Number.NaN;
  const total = (run: SearchLatencyRun) => Object.values(run.cpuMsPerRequest).reduce((sum, ms) => sum + ms, 0);
  return (
    `p95 ${ratio(current.p95Ms, baseline.p95Ms)}, one client ${ratio(current.serialP50Ms, baseline.serialP50Ms)}, req/s ${ratio(current.requestsPerSecond, baseline.requestsPerSecond)}, ` +
    `CPU per request: content ${ratio(cpu(current, 'content'), cpu(baseline, 'content'))}, engine ${ratio(cpu(current, 'engine'), cpu(baseline, 'engine'))}, ` +
    `postgresql ${ratio(cpu(current, 'postgresql'), cpu(baseline, 'postgresql'))}, all ${ratio(total(current), total(baseline))}`
  );
}

/** `npm run bench`: every benchmark on real infrastructure, results as tables and ratios. */
async function main(): Promise<void> {
  const which = new Set(process.argv.slice(2));
  const all = which.size === 0;
  // PDF rendering runs in process and needs no servers: `-- export` alone starts none.
  const infrastructure = await ensureInfrastructure();
  try {
    if (all || which.has('gateway')) {
      const durationSeconds = Number(process.env.BENCH_DURATION_SECONDS ?? 10);
      const connections = Number(process.env.BENCH_CONNECTIONS ?? 16);
      const rounds = Number(process.env.BENCH_GATEWAY_ROUNDS ?? 3);
      const { queries, medians, runs } = await gatewayOverhead({ durationSeconds, connections, rounds });
      console.log(
        `\nGateway: stock @apollo/gateway (on @apollo/server, forwarding authorization) vs ours, same supergraph and subgraphs, ` +
          `${connections} connections, ${durationSeconds} s per run, medians of ${rounds} interleaved rounds; CPU = gateway process user+system time per request`,
      );
      console.table(queries.map(({ name, description }) => ({ query: name, description })));
      console.table(
        medians.map((run) => ({
          query: run.query,
          target: run.target,
          rounds: run.rounds,
          requestsPerSecond: Math.round(run.requestsPerSecond),
          p50Ms: run.p50Ms,
          p99Ms: run.p99Ms,
          cpuMicrosecondsPerRequest: format(run.cpuMicrosecondsPerRequest, 0),
        })),
      );
      console.log('Every run, in the order it ran (the spread behind the medians)');
      console.table(
        runs.map((run) => ({
          query: run.query,
          target: run.target,
          requests: run.requests,
          requestsPerSecond: Math.round(run.requestsPerSecond),
          p50Ms: run.p50Ms,
          p99Ms: run.p99Ms,
          cpuMicrosecondsPerRequest: format(run.cpuMicrosecondsPerRequest, 0),
        })),
      );
      for (const { name } of queries) {
        const median = (target: string) => medians.find((run) => run.query === name && run.target === target);
        const [stock, ours] = [median('stock'), median('ours')];
        if (!stock || !ours) continue;
        const cpuRatio = ours.cpuMicrosecondsPerRequest / stock.cpuMicrosecondsPerRequest;
        console.log(
          `${name}: ours/stock throughput ${format(ours.requestsPerSecond / stock.requestsPerSecond, 2)}x, p50 ${format(ours.p50Ms / stock.p50Ms, 2)}x, ` +
            `p99 ${format(ours.p99Ms / stock.p99Ms, 2)}x, CPU per request ${format(cpuRatio, 2)}x ` +
            `(goal CPU <= 0.5x: ${cpuRatio <= 0.5 ? 'met' : 'missed'}; p99 no worse: ${ours.p99Ms <= stock.p99Ms ? 'met' : 'missed'})`,
        );
      }
    }
    if (all || which.has('auth')) {
      const durationSeconds = Number(process.env.BENCH_DURATION_SECONDS ?? 10);
      const connections = Number(process.env.BENCH_LOGIN_CONNECTIONS ?? 8);
      const memoryKib = Number(process.env.ARGON2_MEMORY_KIB ?? 19_456);
      const timeCost = Number(process.env.ARGON2_TIME_COST ?? 2);
      const login = await loginThroughput({ durationSeconds, connections, memoryKib, timeCost });
      console.log(`\nLogin through the gateway, argon2id m=${memoryKib} KiB t=${timeCost} p=1, ${connections} concurrent accounts, ${durationSeconds} s`);
      console.table([{ ...login, loginsPerSecond: format(login.loginsPerSecond), p50Ms: format(login.p50Ms), p99Ms: format(login.p99Ms), argon2VerificationsPerSecond: format(login.argon2VerificationsPerSecond) }]);
      console.log(`login/bare argon2 verification throughput: ${format(login.loginsPerSecond / login.argon2VerificationsPerSecond, 2)}x`);
      const verification = await tokenVerificationCost({ iterations: Number(process.env.BENCH_VERIFICATIONS ?? 20_000), redisUrl: process.env.REDIS_URL as string });
      console.log('\nAccess token verification per request, in process, best of 3 interleaved rounds');
      console.table(verification.map((run) => ({ path: run.path, verificationsPerSecond: Math.round(run.verificationsPerSecond), microsecondsEach: format(run.microsecondsEach) })));
      console.log(
        `full verification / signature only: memory ${format(verification[1].verificationsPerSecond / verification[0].verificationsPerSecond, 2)}x, ` +
          `Redis ${format(verification[2].verificationsPerSecond / verification[0].verificationsPerSecond, 2)}x, ` +
          `Redis with 32 in flight ${format(verification[3].verificationsPerSecond / verification[0].verificationsPerSecond, 2)}x`,
      );
    }
    if (all || which.has('outbox')) {
      const events = Number(process.env.BENCH_EVENTS ?? 20_000);
      const writers = Number(process.env.BENCH_WRITERS ?? 16);
      const [direct, outbox] = await outboxThroughput({ events, writers });
      console.log(`\nOutbox throughput: ${events} events, ${writers} concurrent writers, commit -> Kafka consumer`);
      console.table(
        [direct, outbox].map((run) => ({
          ...run,
          writeRate: Math.round(run.writeRate),
          endToEndRate: Math.round(run.endToEndRate),
          p50Ms: format(run.p50Ms),
          p99Ms: format(run.p99Ms),
        })),
      );
      console.log(`outbox/direct end-to-end throughput: ${format(outbox.endToEndRate / direct.endToEndRate, 2)}x`);
    }
    if (all || which.has('search')) {
      const documents = Number(process.env.BENCH_SEARCH_DOCUMENTS ?? 100_000);
      const durationSeconds = Number(process.env.BENCH_DURATION_SECONDS ?? 10);
      const connections = Number(process.env.BENCH_CONNECTIONS ?? 16);
      // The content service's DATABASE_POOL_MAX: its own default unless BENCH_SEARCH_POOL_MAX says otherwise.
      const contentPoolMax = process.env.BENCH_SEARCH_POOL_MAX ? Number(process.env.BENCH_SEARCH_POOL_MAX) : undefined;
      const result = await searchLatency({ documents, durationSeconds, connections, contentPoolMax });
      const { seeding } = result;
      console.log(
        `\nSearch corpus: ${seeding.documents} documents (${Object.entries(seeding.byLanguage).map(([language, count]) => `${language} ${count}`).join(', ')}), ` +
          `${seeding.tags} tags, ${seeding.authors} authors, ${seeding.documentTags} tag links, ${seeding.documentAuthors} author links, ` +
          `${format(seeding.documentsTableBytes / 1024 ** 2, 0)} MiB`,
      );
      console.log(
        `seeded in ${format(seeding.totalMs / 1000)} s: insert ${format(seeding.insertMs / 1000)} s (${Math.round(seeding.documentsPerSecond)} documents/s), ` +
          `VACUUM ANALYZE ${format(seeding.vacuumAnalyzeMs / 1000)} s`,
      );
      if (result.indexing) {
        console.log(
          `searched through OpenSearch (the platform's content service) against PostgreSQL (target direct-postgres, a second content instance); ` +
            `the index caught up ${format(result.indexing.ms / 1000)} s after seeding ended`,
        );
      }
      if (result.layoutBuild) {
        console.log(
          `an upgrade to the service's index layout (built beside the serving index, then the alias moved) took ${format(result.layoutBuild.ms / 1000)} s ` +
            `for ${result.layoutBuild.documents} documents (${Math.round(result.layoutBuild.documentsPerSecond)} documents/s)`,
        );
      }
      console.table(result.queries.map(({ name, description, totalCount, fuzzy }) => ({ name, description, totalCount, fuzzy })));
      for (const cache of ['uncached', 'cached'] as const) {
        console.log(
          `Search latency, ${cache === 'uncached' ? `every request a result-cache miss (${result.indexing ? 'OpenSearch answers; direct-postgres: PostgreSQL' : 'PostgreSQL answers'})` : 'the same request repeated (Redis result cache)'}: ` +
            `searchDocuments (first: 20), ${connections} connections, ${durationSeconds} s each, content DATABASE_POOL_MAX=${contentPoolMax ?? 'default'}`,
        );
        const runs = result.runs.filter((run) => run.cache === cache);
        console.table(
          runs.map((run) => ({
            query: run.query,
            target: run.target,
            requests: run.requests,
            requestsPerSecond: Math.round(run.requestsPerSecond),
            p50Ms: format(run.p50Ms),
            p95Ms: format(run.p95Ms),
            p99Ms: format(run.p99Ms),
            maxMs: format(run.maxMs),
            errors: run.errors,
            non2xx: run.non2xx,
            graphqlErrors: run.graphqlErrors,
            serialP50Ms: format(run.serialP50Ms),
            serialErrors: run.serialErrors,
          })),
        );
        console.log(`CPU per request of the ${connections}-client load, ms, by process (/proc; load: the load generator, this process)`);
        console.table(
          runs.map((run) => ({
            query: run.query,
            target: run.target,
            ...Object.fromEntries(Object.entries(run.cpuMsPerRequest).map(([name, ms]) => [name, format(ms, 2)])),
            total: format(Object.values(run.cpuMsPerRequest).reduce((sum, ms) => sum + ms, 0), 2),
          })),
        );
        for (const { name } of result.queries) {
          const run = (target: string) => runs.find((candidate) => candidate.query === name && candidate.target === target);
          const [viaGateway, direct, postgres, baseline] = [run('gateway')?.p95Ms ?? Number.NaN, run('direct')?.p95Ms ?? Number.NaN, run('direct-postgres'), run('direct-baseline')];
          const serial = run('gateway')?.serialP50Ms ?? Number.NaN;
          console.log(
            `p95 ${cache} ${name}: gateway ${format(viaGateway)} ms, direct ${format(direct)} ms (gateway share ${format(viaGateway - direct)} ms) ` +
              `vs 50 ms target: ${viaGateway <= 50 ? 'met' : `missed by ${format(viaGateway - 50)} ms`}; one client p50 ${format(serial)} ms vs 10 ms: ` +
              `${serial <= 10 ? 'met' : 'missed'}` +
              (postgres ? `; direct engine/PostgreSQL p95 ${format(direct / postgres.p95Ms, 2)}x, one client ${format((run('direct')?.serialP50Ms ?? Number.NaN) / postgres.serialP50Ms, 2)}x` : '') +
              (baseline ? `; direct/baseline commit ${againstBaseline(run('direct'), baseline)}` : ''),
          );
        }
      }
    }
    if (all || which.has('realtime')) {
      const options = {
        connections: Number(process.env.BENCH_WS_CONNECTIONS ?? 10_000),
        users: Number(process.env.BENCH_WS_USERS ?? 1_000),
        rate: Number(process.env.BENCH_WS_RATE ?? 200),
        durationSeconds: Number(process.env.BENCH_DURATION_SECONDS ?? 10),
        warmUpSeconds: Number(process.env.BENCH_WS_WARMUP_SECONDS ?? 5),
        reconnectWindowSeconds: Number(process.env.BENCH_WS_RECONNECT_SECONDS ?? 10),
        missed: Number(process.env.BENCH_WS_MISSED ?? 3),
        // One partition: on two cores the dispatch consumer's bigger batches beat four concurrent
        // transactions (2026-12-04: p50 30-44 ms against 56-77 ms at 10 000 sockets).
        partitions: Number(process.env.BENCH_WS_PARTITIONS ?? 1),
        // As a socket-heavy deployment runs: event handling on replicas that hold no sockets.
        separateDispatch: process.env.BENCH_WS_SEPARATE_DISPATCH !== '0',
        separateRelay: process.env.BENCH_WS_SEPARATE_RELAY === '1',
        profileDir: process.env.BENCH_CPU_PROFILE_DIR,
      };
      const result = await realtimeFanout(options);
      console.log(
        `\nRealtime: ${result.connections} graphql-ws connections (${result.users} users, comment topic with ${options.partitions} partitions, ${options.separateDispatch ? 'events handled by a second notifications instance' : 'events handled where the sockets are'}, ${options.separateRelay ? "content's outbox relayed by a second content instance" : "content's outbox relayed where addComment is served"}), opened in ${format(result.connectSeconds)} s; ` +
          `notifications RSS ${format(result.serviceRssMiB.idle, 0)} -> ${format(result.serviceRssMiB.connected, 0)} MiB ` +
          `= ${format(result.serviceKiBPerConnection)} KiB per connection (benchmark client ${format(result.clientKiBPerConnection)} KiB)`,
      );
      const { latency, storm, signUps } = result;
      console.log(
        `Set-up: ${signUps.users} sign-ups; their ${signUps.recipientsDelay.count} events reached notifications' directory (notifications.recipients) ` +
          `p50 ${format(signUps.recipientsDelay.p50Ms)} / p99 ${format(signUps.recipientsDelay.p99Ms)} ms after they occurred (mean ${format(signUps.recipientsDelay.meanMs)} ms)`,
      );
      console.log(
        `Mentions at ${options.rate}/s for ${options.durationSeconds} s after ${options.warmUpSeconds} s of warm-up (achieved ${format(latency.sendRate)}/s): ${latency.mentionsSent} committed, ` +
          `${latency.deliveries}/${latency.expectedDeliveries} deliveries, ${latency.duplicates} duplicates`,
      );
      console.table(
        Object.entries({ 'commit -> socket': latency.fromCommit, 'request -> socket': latency.fromRequest, 'addComment mutation': latency.mutationMs }).map(
          ([path, d]) => ({ path, count: d.count, p50Ms: format(d.p50Ms), p95Ms: format(d.p95Ms), p99Ms: format(d.p99Ms), maxMs: format(d.maxMs) }),
        ),
      );
      console.log("Stages, from the services' freshness histograms (interpolated within buckets):");
      console.table(latency.stages.map(({ stage, p50Ms, p99Ms }) => ({ stage, p50Ms: format(p50Ms), p99Ms: format(p99Ms) })));
      console.log('Commit -> socket by the second the mention was sent in:');
      console.table(latency.fromCommitBySecond.map((d, second) => ({ second, count: d.count, p50Ms: format(d.p50Ms), p99Ms: format(d.p99Ms), maxMs: format(d.maxMs) })));
      console.log(`p99 commit -> socket ${format(latency.fromCommit.p99Ms)} ms vs 100 ms target: ${latency.fromCommit.p99Ms <= 100 ? 'met' : 'missed'}`);
      console.log(
        `Reconnect storm: ${storm.clients} clients back within ${storm.windowSeconds} s, each missed ${storm.expectedPerClient}: ` +
          `${storm.recoveredClients} recovered in ${format(storm.recoverSeconds)} s, lost ${storm.lost}, duplicates ${storm.duplicates}, ` +
          `out of order ${storm.outOfOrder}, refused attempts ${storm.refused}`,
      );
    }
    if (all || which.has('subgraph')) {
      const durationSeconds = Number(process.env.BENCH_DURATION_SECONDS ?? 10);
      const connections = Number(process.env.BENCH_CONNECTIONS ?? 16);
      const rounds = Number(process.env.BENCH_SUBGRAPH_ROUNDS ?? 3);
      const { medians, runs } = await subgraphPath({ durationSeconds, connections, rounds });
      console.log(
        `\nSubgraph request path: content with the GraphQL fast path (default) vs GRAPHQL_FAST_PATH=false, same database, token and queries, ` +
          `${connections} connections, ${durationSeconds} s per run, medians of ${rounds} interleaved rounds; CPU = the instance's user+system time per request`,
      );
      const rows = (of: typeof runs) =>
        of.map((run) => ({
          query: run.query,
          target: run.target,
          requests: run.requests,
          requestsPerSecond: Math.round(run.requestsPerSecond),
          p50Ms: run.p50Ms,
          p99Ms: run.p99Ms,
          cpuMicrosecondsPerRequest: format(run.cpuMicrosecondsPerRequest, 0),
        }));
      console.table(rows(medians));
      console.log('Every run, in the order it ran');
      console.table(rows(runs));
      for (const query of new Set(medians.map((run) => run.query))) {
        const [fast, express] = ['fast path', 'express'].map((target) => medians.find((run) => run.query === query && run.target === target));
        if (!fast || !express) continue;
        console.log(
          `${query}: fast path / express CPU per request ${format(fast.cpuMicrosecondsPerRequest / express.cpuMicrosecondsPerRequest, 2)}x, ` +
            `throughput ${format(fast.requestsPerSecond / express.requestsPerSecond, 2)}x, p99 ${format(fast.p99Ms / express.p99Ms, 2)}x`,
        );
      }
    }
    if (which.has('mention-cpu')) {
      const options = {
        comments: Number(process.env.BENCH_MENTION_COMMENTS ?? 2_000),
        rate: Number(process.env.BENCH_MENTION_RATE ?? 50),
        idleSeconds: Number(process.env.BENCH_IDLE_SECONDS ?? 30),
        profileDir: process.env.BENCH_CPU_PROFILE_DIR,
      };
      const result = await mentionCpu(options);
      console.log(
        `\nCPU per mention: ${result.comments} comments at ${options.rate}/s (achieved ${format(result.sendRate)}/s), each mentioning one user with one socket; ` +
          `${result.delivered}/${result.expected} delivered within ${format(result.loadSeconds)} s; idle read over ${options.idleSeconds} s with no load`,
      );
      console.table(
        result.processes.map((row) => ({
          process: row.process,
          idleMicrosecondsPerSecond: format(row.idleMicrosecondsPerSecond, 0),
          microsecondsPerComment: format(row.microsecondsPerComment, 0),
          netOfIdleMicrosecondsPerComment: format(row.netMicrosecondsPerComment, 0),
        })),
      );
      const sum = (key: 'idleMicrosecondsPerSecond' | 'microsecondsPerComment') => result.processes.reduce((total, row) => total + row[key], 0);
      console.log(`all processes: ${format(sum('microsecondsPerComment'), 0)} µs per comment, idle ${format(sum('idleMicrosecondsPerSecond') / 1e4, 1)} % of one core`);
    }
    if (all || which.has('agents')) {
      const options = {
        sequentialRuns: Number(process.env.BENCH_AGENT_SEQUENTIAL_RUNS ?? 200),
        warmupRuns: Number(process.env.BENCH_AGENT_WARMUP_RUNS ?? 20),
        concurrentRuns: Number(process.env.BENCH_AGENT_CONCURRENT_RUNS ?? 100),
        taskConcurrency: Number(process.env.BENCH_AGENT_TASK_CONCURRENCY ?? 32),
        pollIntervalSeconds: Number(process.env.BENCH_AGENT_POLL_INTERVAL_SECONDS ?? 0.5),
        memories: Number(process.env.BENCH_AGENT_MEMORIES ?? 100_000),
        memorySearches: Number(process.env.BENCH_AGENT_MEMORY_SEARCHES ?? 50),
      };
      const result = await agentsOrchestration(options);
      const { sequential, concurrent, delivery } = result;
      const row = (name: string, d: { count: number; meanMs: number; p50Ms: number; p99Ms: number; maxMs?: number }) => ({
        measure: name,
        count: d.count,
        meanMs: format(d.meanMs, 2),
        p50Ms: format(d.p50Ms, 2),
        p99Ms: format(d.p99Ms, 2),
        maxMs: d.maxMs === undefined ? '' : format(d.maxMs, 2),
      });
      console.log(
        `\nAgents: ${sequential.runs} sequential single-task runs after ${options.warmupRuns} warm-up, zero-latency fake model, ` +
          `AGENTS_TASK_CONCURRENCY=${options.taskConcurrency}, JOBS_POLL_INTERVAL_SECONDS=${options.pollIntervalSeconds}`,
      );
      console.table([
        row('run through the gateway (mutation -> run.completed over NDJSON)', sequential.runWallMs),
        row('same chat completion direct with the openai SDK', sequential.modelBaselineMs),
        row('model call as the service timed it', sequential.modelAsSeenByServiceMs),
        ...Object.entries(sequential.phases).map(([name, d]) => row(`server: ${name}`, d)),
        row('agents_task_overhead_seconds (service histogram)', sequential.histogram),
      ]);
      const endToEnd = sequential.runWallMs.p50Ms - sequential.modelBaselineMs.p50Ms;
      console.log(
        `overhead per task: service histogram mean ${format(sequential.histogram.meanMs, 2)} ms, p99 ${format(sequential.histogram.p99Ms, 2)} ms; ` +
          `end to end p50 ${format(endToEnd, 1)} ms (run/model ${format(sequential.runWallMs.p50Ms / sequential.modelBaselineMs.p50Ms, 1)}x) ` +
          `vs 10 ms target: histogram ${sequential.histogram.meanMs < 10 ? 'met' : 'missed'}, end to end ${endToEnd < 10 ? 'met' : 'missed'}`,
      );
      console.log(`\nAgents: ${concurrent.runs} plans of 5 tasks (4 independent, 1 depending on all) created at once, each followed over NDJSON`);
      console.table([
        {
          runs: concurrent.runs,
          completed: concurrent.completed,
          failed: concurrent.failed,
          stuck: concurrent.stuck,
          seconds: format(concurrent.seconds, 2),
          runsPerSecond: format(concurrent.runsPerSecond),
          tasksPerSecond: format(concurrent.tasksPerSecond),
          runP50Ms: format(concurrent.runMs.p50Ms, 0),
          runP99Ms: format(concurrent.runMs.p99Ms, 0),
          overheadMeanMs: format(concurrent.histogram.meanMs, 2),
          overheadP99Ms: format(concurrent.histogram.p99Ms, 2),
          agentsPeakRssMiB: format(concurrent.agentsPeakRssMiB, 0),
        },
      ]);
      console.log(`Run events, commit (createdAt) -> NDJSON line at the client through the gateway, ${delivery.caughtUp} caught-up events left out`);
      console.table([row('event delivery', delivery)]);
      console.log(
        `task outcomes: ${Object.entries(result.taskOutcomes).map(([outcome, count]) => `${outcome} ${count}`).join(', ')}; ` +
          `model requests ${result.modelRequests.total}, failed ${result.modelRequests.failed}; ` +
          `${result.machine.cpus} CPUs, load average ${format(result.machine.loadBefore, 2)} before, ${format(result.machine.loadAfter, 2)} after`,
      );
      const { memory } = result;
      console.log(`\nAgents: memory search through the gateway over ${memory.memories} memories of one agent and member (seeded in ${format(memory.seedSeconds)} s), first 5, one query at a time`);
      console.table([
        { ...row('by similarity (embed the query, exact cosine over every row)', memory.search), p95Ms: format(memory.search.p95Ms, 2) },
        { ...row('newest first (baseline: no embedding, index order)', memory.listing), p95Ms: format(memory.listing.p95Ms, 2) },
      ]);
      console.log(`similarity/listing p95: ${format(memory.search.p95Ms / memory.listing.p95Ms, 1)}x`);
      for (const [label, errors] of Object.entries({ 'errors of failed tasks': result.taskErrors, 'warnings and errors the agents service logged': result.serviceProblems })) {
        if (Object.keys(errors).length) console.table(Object.entries(errors).map(([message, count]) => ({ [label]: message, count })));
      }
    }
    if (all || which.has('export')) {
      const runs = Number(process.env.BENCH_PDF_RUNS ?? 50);
      const warmup = Number(process.env.BENCH_PDF_WARMUP ?? 10);
      const results = await pdfRender({ runs, warmup });
      console.log(`\nExport: PDF rendering, default template without title page and contents, median of ${runs} runs after ${warmup} warm-up, interleaved with the baseline`);
      console.table(
        results.map((run) => ({
          case: run.case,
          pages: run.pages,
          kib: format(run.bytes / 1024, 0),
          medianMs: format(run.medianMs),
          p95Ms: format(run.p95Ms),
          cpuMs: format(run.medianCpuMs),
          msPerPage: format(run.medianMs / run.pages),
          baselineMs: format(run.baselineMedianMs),
          'ours/baseline': format(run.ratio, 2),
        })),
      );
      const onePage = results[0].medianMs;
      console.log(`1-page document ${format(onePage)} ms vs 50 ms target: ${onePage <= 50 ? 'met' : `missed by ${format(onePage - 50)} ms`}`);
      const documents = Number(process.env.BENCH_EXPORT_DOCUMENTS ?? 1000);
      const heapLimitMiB = process.env.BENCH_EXPORT_HEAP_MIB ? Number(process.env.BENCH_EXPORT_HEAP_MIB) : undefined;
      const bulk = await exportBulk({ documents, heapLimitMiB });
      console.log(`\nExport: ${documents}-document ZIP through the platform (default concurrency), against the same render + ZIP in process`);
      console.table([
        {
          documents: bulk.documents,
          heapLimitMiB: bulk.heapLimitMiB ?? 'default',
          exportSeconds: format(bulk.exportSeconds),
          documentsPerSecond: format(bulk.documentsPerSecond),
          zipMiB: format(bulk.zipBytes / 1_048_576),
          exportPeakRssMiB: format(bulk.exportPeakRssMiB, 0),
          baselineSeconds: format(bulk.baselineSeconds),
          baselineDocumentsPerSecond: format(bulk.baselineDocumentsPerSecond),
          'service/baseline time': format(bulk.ratio, 2),
        },
      ]);
      const items = Number(process.env.BENCH_JIRA_ITEMS ?? 1000);
      const requestsPerSecond = Number(process.env.BENCH_JIRA_REQUESTS_PER_SECOND ?? 10);
      const jira = await exportJira({ items, requestsPerSecond });
      console.log(`\nExport: ${items} items to the fake JIRA limited to ${requestsPerSecond} requests/s, against the floor that limit allows`);
      console.table([{ ...jira, seconds: format(jira.seconds, 2), floorSeconds: format(jira.floorSeconds, 1), ratio: format(jira.ratio, 2) }]);
    }
  } finally {
    await infrastructure.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
