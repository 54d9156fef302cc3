#!/usr/bin/env node
// A real single-node OpenSearch for integration tests, benchmarks and local dev, without Docker:
// the node's jars come from Maven Central (see pom.xml), EmbeddedOpenSearch.java starts them with
// the HTTP transport and language analyzers as classpath plugins, on the machine's Java 17+.
//
// Library:  import { startOpenSearch } from './tools/opensearch/opensearch.mjs'
// CLI:      node tools/opensearch/opensearch.mjs start [--port N] | resolve
//
// Only node: built-ins, so it runs before/without `npm install`.

import fs from 'node:fs';
import fsp from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  contentHash, defaultCacheRoot, isDir, javaBin, launchJvmService, parseCliFlags, pickPorts, pomProperty, renameIntoPlace, resolveMavenLibs, run,
  serveUntilStopped, tail, withLock,
} from '../jvm/jvm-process.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const POM = path.join(HERE, 'pom.xml');
const LAUNCHER_SOURCE = path.join(HERE, 'EmbeddedOpenSearch.java');
const LOG4J2_CONFIG = path.join(HERE, 'log4j2.properties');
const TOOL = 'tools/opensearch';

const pomText = fs.readFileSync(POM, 'utf8');
const launcherText = fs.readFileSync(LAUNCHER_SOURCE, 'utf8');

/** OpenSearch version, single source of truth: <opensearch.version> in pom.xml. */
export const OPENSEARCH_VERSION = pomProperty(pomText, 'opensearch.version', POM);

/** Where the node's jars live; the pom's hash in the name means an edited pom never reuses a stale set. */
export function openSearchLibsDir(cacheDir = defaultCacheRoot()) {
  return path.join(cacheDir, 'opensearch', OPENSEARCH_VERSION, `libs-${contentHash(pomText)}`);
}

/** Downloads the node's jars and compiles the launcher once; returns { libsDir, classesDir }. */
export async function resolveOpenSearch({ cacheDir } = {}) {
  const libsDir = await resolveMavenLibs({
    tool: TOOL,
    pom: POM,
    libsDir: openSearchLibsDir(cacheDir),
    requiredJar: `opensearch-${OPENSEARCH_VERSION}.jar`,
  });
  const classesDir = path.join(path.dirname(libsDir), `launcher-${contentHash(pomText, launcherText)}`);
  if (!(await isDir(classesDir))) {
    await withLock(`${classesDir}.lock`, async () => {
      if (await isDir(classesDir)) return;
      const tmp = `${classesDir}.tmp-${process.pid}`;
      try {
        const compiled = await run(javaBin('javac'), ['-cp', `${libsDir}${path.sep}*`, '-d', tmp, LAUNCHER_SOURCE]);
        if (compiled.code !== 0) throw new Error(`${TOOL}: compiling EmbeddedOpenSearch.java failed (exit ${compiled.code}):\n${tail(compiled.output)}`);
        await renameIntoPlace(tmp, classesDir);
      } finally {
        await fsp.rm(tmp, { recursive: true, force: true });
      }
    });
  }
  return { libsDir, classesDir };
}

/**
 * Starts a fresh single-node OpenSearch and resolves once its cluster health is at least yellow.
 *
 * @param {object} [opts]
 * @param {number} [opts.port]            HTTP port (default: a free one)
 * @param {number} [opts.transportPort]   node-to-node port (default: a free one)
 * @param {string} [opts.cacheDir]        cache root (default $MULTIPULT_CACHE_DIR or ~/.cache/multipult)
 * @param {string} [opts.dataDir]         node home (config, data, logs); given ones are kept on stop
 *                                        and reused on the next start, default a temp dir that is removed
 * @param {number} [opts.heapMb=512]
 * @param {number} [opts.startTimeoutMs=120000]
 * @param {Record<string, string|number|boolean>} [opts.settings] extra/overriding opensearch.yml settings
 * @param {boolean} [opts.echo=false]     copy the node's stdout/stderr to this process' stderr
 */
export async function startOpenSearch({
  port,
  transportPort,
  cacheDir,
  dataDir,
  heapMb = 512,
  startTimeoutMs = 120_000,
  settings = {},
  echo = false,
} = {}) {
  const deadline = Date.now() + startTimeoutMs;
  const { libsDir, classesDir } = await resolveOpenSearch({ cacheDir });
  [port, transportPort] = await pickPorts(port, transportPort);
  const ownsDir = !dataDir;
  const home = dataDir ? path.resolve(dataDir) : await fsp.mkdtemp(path.join(os.tmpdir(), 'multipult-opensearch-'));

  const jvm = await launchJvmService({
    workDir: home,
    ownsDir,
    prepare: async () => {
      await fsp.mkdir(path.join(home, 'config'), { recursive: true });
      await fsp.writeFile(path.join(home, 'config', 'opensearch.yml'), nodeSettings({ home, port, transportPort, extra: settings }));
    },
    javaArgs: [
      `-Xms${heapMb}m`, `-Xmx${heapMb}m`,
      '-XX:+UseG1GC', '-XX:+ExitOnOutOfMemoryError',
      '-Djava.awt.headless=true',
      '-Dfile.encoding=UTF-8',
      `-Dlog4j2.configurationFile=${LOG4J2_CONFIG}`,
      '-Dlog4j2.shutdownHookEnabled=false',
      '-cp', [classesDir, `${libsDir}${path.sep}*`].join(path.delimiter),
      'EmbeddedOpenSearch', home,
    ],
    echo,
    readiness: {
      tool: TOOL,
      what: `node on 127.0.0.1:${port}`,
      probe: (timeoutMs) => probeOpenSearch(port, timeoutMs),
      notReady: 'node answers but its cluster health is red',
    },
    deadline,
    startTimeoutMs,
  });
  return {
    url: `http://127.0.0.1:${port}`,
    version: OPENSEARCH_VERSION,
    port,
    transportPort,
    home,
    pid: jvm.child.pid,
    /** Resolves with { code, signal } when the JVM exits (for any reason). */
    exited: jvm.exited,
    stop: jvm.stop,
  };
}

function nodeSettings({ home, port, transportPort, extra }) {
  const settings = {
    'cluster.name': 'multipult',
    'node.name': 'node-1',
    // One node that elects itself; no discovery, and bootstrap checks do not apply on loopback.
    'discovery.type': 'single-node',
    'network.host': '127.0.0.1',
    'http.port': port,
    'transport.port': transportPort,
    'path.data': path.join(home, 'data'),
    'path.logs': path.join(home, 'logs'),
    // A nearly full disk on a developer's or CI machine must not turn indices read-only.
    'cluster.routing.allocation.disk.threshold_enabled': false,
    ...extra,
  };
  return Object.entries(settings).map(([key, value]) => `${key}: ${JSON.stringify(value)}`).join('\n') + '\n';
}

/** true once the node's HTTP layer answers and its cluster health is yellow or green. */
export function probeOpenSearch(port, timeoutMs = 3_000, host = '127.0.0.1') {
  return new Promise((resolve, reject) => {
    const request = http.get({ host, port, path: '/_cluster/health', timeout: timeoutMs }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk) => (body += chunk));
      response.on('end', () => {
        try {
          resolve(response.statusCode === 200 && ['yellow', 'green'].includes(JSON.parse(body).status));
        } catch (err) {
          reject(err);
        }
      });
    });
    request.on('timeout', () => request.destroy(new Error(`timeout after ${timeoutMs} ms`)));
    request.on('error', reject);
  });
}

// ---------------------------------------------------------------------------
// CLI
// ---------------------------------------------------------------------------

const USAGE = `usage:
  node tools/opensearch/opensearch.mjs start [--port N] [--heap-mb N] [--data-dir DIR] [--verbose]
      Starts a node, prints one JSON line {"url":"http://127.0.0.1:N","version":"x.y.z"}
      to stdout once ready, runs until SIGTERM/SIGINT, its stdin closing or its parent dying.
  node tools/opensearch/opensearch.mjs resolve
      Only downloads the node's jars and compiles the launcher (CI warm-up); prints their directories.`;

const parseFlags = (argv) => parseCliFlags(argv, { integers: ['port', 'heap-mb'], strings: ['data-dir'], usage: USAGE });

async function main(argv) {
  const [cmd, ...rest] = argv;
  if (cmd === 'start') {
    const flags = parseFlags(rest);
    const node = await startOpenSearch({ port: flags.port, heapMb: flags['heap-mb'], dataDir: flags['data-dir'], echo: Boolean(flags.verbose) });
    serveUntilStopped({ tool: TOOL, service: node, describe: () => ({ url: node.url, version: node.version, pid: node.pid }), verbose: Boolean(flags.verbose) });
    return;
  }
  if (cmd === 'resolve') {
    if (rest.length) throw new Error(`resolve takes no arguments\n${USAGE}`);
    const { libsDir, classesDir } = await resolveOpenSearch();
    process.stdout.write(`${libsDir}\n${classesDir}\n`);
    return;
  }
  if (cmd === undefined || cmd === '-h' || cmd === '--help') {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  throw new Error(`unknown command: ${cmd}\n${USAGE}`);
}

const isMain = process.argv[1] && fs.realpathSync(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  main(process.argv.slice(2)).catch((err) => {
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  });
}
