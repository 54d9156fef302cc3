#!/usr/bin/env node
// Real single-node Apache Kafka broker (KRaft, combined broker+controller)
// for integration tests and local dev, without Docker: the broker jars come
// from Maven Central (see pom.xml) and run on the machine's Java 17+.
//
// Library:  import { startKafkaBroker } from './tools/kafka/kafka.mjs'
// CLI:      node tools/kafka/kafka.mjs start [--port N] | resolve
//
// Only node: built-ins, so it runs before/without `npm install`.

import crypto from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  contentHash, javaBin, launchJvmService, parseCliFlags, defaultCacheRoot, pickPorts, pomProperty, resolveMavenLibs, run, serveUntilStopped, tail,
} from '../jvm/jvm-process.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const POM = path.join(HERE, 'pom.xml');
const LOG4J2_CONFIG = path.join(HERE, 'log4j2.properties');
const NODE_ID = 1;

const pomText = fs.readFileSync(POM, 'utf8');

/** Kafka version, single source of truth: <kafka.version> in pom.xml. */
export const KAFKA_VERSION = pomProperty(pomText, 'kafka.version', POM);

// ---------------------------------------------------------------------------
// Jar resolution (cached, atomic, safe across concurrent processes)
// ---------------------------------------------------------------------------

/**
 * Where the jars for this pom live. The dir name carries a hash of pom.xml so
 * that editing the pom (e.g. the logging deps) never reuses a stale set.
 */
export function kafkaLibsDir(cacheDir = defaultCacheRoot()) {
  return path.join(cacheDir, 'kafka', KAFKA_VERSION, `libs-${contentHash(pomText)}`);
}

/** Downloads the broker jars once; returns the directory holding them. */
export function resolveKafkaLibs({ cacheDir } = {}) {
  return resolveMavenLibs({ tool: 'tools/kafka', pom: POM, libsDir: kafkaLibsDir(cacheDir), requiredJar: `kafka_2.13-${KAFKA_VERSION}.jar` });
}

// ---------------------------------------------------------------------------
// Broker lifecycle
// ---------------------------------------------------------------------------

/**
 * Starts a fresh single-node KRaft broker and resolves once it is ready over
 * the Kafka protocol (see probeBroker), never by scraping logs.
 *
 * @param {object} [opts]
 * @param {number} [opts.port]            PLAINTEXT port (default: a free one)
 * @param {number} [opts.controllerPort]  CONTROLLER port (default: a free one)
 * @param {string} [opts.cacheDir]        cache root (default $MULTIPULT_CACHE_DIR or ~/.cache/multipult)
 * @param {string} [opts.logDir]          broker work dir; given ones are kept on stop
 *                                        (and reused on the next start), default a temp dir that is removed
 * @param {number} [opts.heapMb=512]
 * @param {number} [opts.startTimeoutMs=120000]
 * @param {Record<string, string|number|boolean>} [opts.properties] extra/overriding server.properties
 * @param {boolean} [opts.echo=false]     copy broker stdout/stderr to this process' stderr
 */
export async function startKafkaBroker({
  port,
  controllerPort,
  cacheDir,
  logDir,
  heapMb = 512,
  startTimeoutMs = 120_000,
  properties = {},
  echo = false,
} = {}) {
  const deadline = Date.now() + startTimeoutMs;
  const libsDir = await resolveKafkaLibs({ cacheDir });
  const classpath = `${libsDir}${path.sep}*`; // one argv element: the JVM expands '*'

  [port, controllerPort] = await pickPorts(port, controllerPort);
  const ownsDir = !logDir;
  const workDir = logDir ? path.resolve(logDir) : await fsp.mkdtemp(path.join(os.tmpdir(), 'multipult-kafka-'));
  const dataDir = path.join(workDir, 'data');
  const propsFile = path.join(workDir, 'server.properties');

  const log4j = `-Dlog4j2.configurationFile=${LOG4J2_CONFIG}`;
  const jvm = await launchJvmService({
    workDir,
    ownsDir,
    prepare: async () => {
      await fsp.mkdir(dataDir, { recursive: true });
      await fsp.writeFile(propsFile, serverProperties({ port, controllerPort, dataDir, extra: properties }));
      // A caller-provided logDir that was formatted before keeps its data (and
      // cluster id) across restarts: format only when meta.properties is absent.
      if (!fs.existsSync(path.join(dataDir, 'meta.properties'))) {
        const fmt = await run(javaBin(), [log4j, '-cp', classpath, 'kafka.tools.StorageTool', 'format',
          '--cluster-id', randomKafkaUuid(), '--config', propsFile]);
        if (fmt.code !== 0) throw new Error(`tools/kafka: formatting storage failed (exit ${fmt.code}):\n${tail(fmt.output)}`);
      }
    },
    javaArgs: [
      `-Xms${Math.min(256, heapMb)}m`, `-Xmx${heapMb}m`,
      '-XX:+UseG1GC', '-XX:MaxGCPauseMillis=20', '-XX:+ExitOnOutOfMemoryError',
      '-Djava.awt.headless=true',
      // Avoids a log4j status WARN when Kafka's own shutdown hook logs; the console appender flushes per line anyway.
      '-Dlog4j2.shutdownHookEnabled=false',
      log4j,
      '-cp', classpath,
      'kafka.Kafka', propsFile,
    ],
    echo,
    readiness: {
      tool: 'tools/kafka',
      what: `broker on 127.0.0.1:${port}`,
      probe: (timeoutMs) => probeBroker(port, timeoutMs),
      notReady: 'broker up but not yet registered/unfenced or coordinators not loaded',
    },
    deadline,
    startTimeoutMs,
  });
  return {
    brokers: `127.0.0.1:${port}`,
    version: KAFKA_VERSION,
    port,
    controllerPort,
    logDir: workDir,
    pid: jvm.child.pid,
    /** Resolves with { code, signal } when the JVM exits (for any reason). */
    exited: jvm.exited,
    stop: jvm.stop,
  };
}

function serverProperties({ port, controllerPort, dataDir, extra }) {
  const props = {
    'process.roles': 'broker,controller',
    'node.id': NODE_ID,
    // Static single voter: no dynamic-quorum (--standalone) bootstrapping needed.
    'controller.quorum.voters': `${NODE_ID}@127.0.0.1:${controllerPort}`,
    'listeners': `PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    'advertised.listeners': `PLAINTEXT://127.0.0.1:${port}`,
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'log.dirs': dataDir,
    'num.partitions': 1,
    'auto.create.topics.enable': true,
    'offsets.topic.replication.factor': 1,
    // One partition instead of 50: the first consumer group comes up much faster.
    'offsets.topic.num.partitions': 1,
    'transaction.state.log.replication.factor': 1,
    'transaction.state.log.min.isr': 1,
    'transaction.state.log.num.partitions': 1,
    'share.coordinator.state.topic.replication.factor': 1,
    'share.coordinator.state.topic.min.isr': 1,
    'group.initial.rebalance.delay.ms': 0,
    ...extra,
  };
  return Object.entries(props).map(([k, v]) => `${k}=${v}`).join('\n') + '\n';
}

// ---------------------------------------------------------------------------
// Minimal Kafka wire protocol, just enough for a readiness probe
// ---------------------------------------------------------------------------

const API_METADATA = 3;
const API_FIND_COORDINATOR = 10;
const API_VERSIONS = 18;
const API_INIT_PRODUCER_ID = 22;

/**
 * true once the broker is usable by clients without retries:
 *  - it answers ApiVersions,
 *  - Metadata lists our node (KRaft lists only registered, unfenced brokers),
 *  - FindCoordinator succeeds (the first one creates and loads __consumer_offsets),
 *  - InitProducerId succeeds (the first one fetches a producer-id block from
 *    the controller; idempotent producers need it).
 * Until the last two, clients get retriable COORDINATOR_* errors, which e.g.
 * kafkajs retries but logs as ERROR.
 */
export async function probeBroker(port, timeoutMs = 3_000, host = '127.0.0.1') {
  const conn = await KafkaConnection.open(host, port, timeoutMs);
  try {
    // ApiVersions v0 is accepted by every broker version (it is how clients negotiate).
    const av = new Reader(await conn.request(API_VERSIONS, 0, Buffer.alloc(0)));
    const errorCode = av.int16();
    if (errorCode !== 0) throw new Error(`ApiVersions error code ${errorCode}`);
    const ranges = new Map();
    for (let n = av.int32(), i = 0; i < n; i++) ranges.set(av.int16(), [av.int16(), av.int16()]);
    // Only simple non-flexible versions are spoken here; skip a check the broker can't take.
    const serves = (api, version) => {
      const [min, max] = ranges.get(api) ?? [Infinity, -1];
      return min <= version && version <= max;
    };

    if (serves(API_METADATA, 4)) {
      const md = new Reader(await conn.request(API_METADATA, 4, Buffer.from([
        0, 0, 0, 0, // topics: empty array (null would mean all topics)
        0, // allow_auto_topic_creation = false
      ])));
      md.int32(); // throttle_time_ms
      let listed = false;
      for (let n = md.int32(), i = 0; i < n; i++) {
        const nodeId = md.int32();
        md.string(); // host
        md.int32(); // port
        md.string(); // rack
        if (nodeId === NODE_ID) listed = true;
      }
      if (!listed) return false;
    }

    if (serves(API_FIND_COORDINATOR, 2)) {
      const key = Buffer.from('multipult-kafka-probe');
      const body = Buffer.alloc(2 + key.length + 1);
      body.writeInt16BE(key.length, 0);
      key.copy(body, 2);
      body.writeInt8(0, 2 + key.length); // key_type: group
      const fc = new Reader(await conn.request(API_FIND_COORDINATOR, 2, body));
      fc.int32(); // throttle_time_ms
      if (fc.int16() !== 0) return false;
    }

    if (serves(API_INIT_PRODUCER_ID, 1)) {
      const body = Buffer.alloc(6);
      body.writeInt16BE(-1, 0); // transactional_id: null (idempotent producer)
      body.writeInt32BE(60_000, 2); // transaction_timeout_ms
      const ip = new Reader(await conn.request(API_INIT_PRODUCER_ID, 1, body));
      ip.int32(); // throttle_time_ms
      if (ip.int16() !== 0) return false;
    }
    return true;
  } finally {
    conn.close();
  }
}

class KafkaConnection {
  static open(host, port, timeoutMs) {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host, port });
      const conn = new KafkaConnection(socket);
      socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`timeout after ${timeoutMs} ms`)));
      socket.once('connect', () => resolve(conn));
      socket.once('error', reject);
    });
  }

  constructor(socket) {
    this.socket = socket;
    this.correlationId = 0;
    this.buf = Buffer.alloc(0);
    this.pending = null;
    socket.on('data', (d) => { this.buf = Buffer.concat([this.buf, d]); this.drain(); });
    const fail = (err) => { const p = this.pending; this.pending = null; p?.reject(err); };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('connection closed by broker')));
  }

  /** Request header v1 (non-flexible); returns the response body after the v0 header. */
  request(apiKey, apiVersion, body) {
    const clientId = Buffer.from('multipult-kafka-probe');
    const header = Buffer.alloc(10);
    header.writeInt16BE(apiKey, 0);
    header.writeInt16BE(apiVersion, 2);
    header.writeInt32BE(++this.correlationId, 4);
    header.writeInt16BE(clientId.length, 8);
    const payload = Buffer.concat([header, clientId, body]);
    const size = Buffer.alloc(4);
    size.writeInt32BE(payload.length);
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject, correlationId: this.correlationId };
      this.socket.write(Buffer.concat([size, payload]));
    });
  }

  drain() {
    if (this.buf.length < 4) return;
    const size = this.buf.readInt32BE(0);
    if (this.buf.length < 4 + size) return;
    const frame = this.buf.subarray(4, 4 + size);
    this.buf = this.buf.subarray(4 + size);
    const p = this.pending;
    this.pending = null;
    if (!p) return;
    if (frame.readInt32BE(0) !== p.correlationId) p.reject(new Error('unexpected correlation id'));
    else p.resolve(frame.subarray(4));
  }

  close() {
    this.socket.destroy();
  }
}

class Reader {
  constructor(buf) { this.buf = buf; this.off = 0; }
  int16() { const v = this.buf.readInt16BE(this.off); this.off += 2; return v; }
  int32() { const v = this.buf.readInt32BE(this.off); this.off += 4; return v; }
  string() {
    const len = this.int16();
    if (len < 0) return null;
    const s = this.buf.toString('utf8', this.off, this.off + len);
    this.off += len;
    return s;
  }
}

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/** Same shape as org.apache.kafka.common.Uuid#randomUuid (saves a JVM start). */
function randomKafkaUuid() {
  for (;;) {
    const id = crypto.randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id; // a leading '-' would parse as a CLI flag
  }
}

// ---------------------------------------------------------------------------
// CLI
// ---------------------------------------------------------------------------

const USAGE = `usage:
  node tools/kafka/kafka.mjs start [--port N] [--controller-port N] [--heap-mb N] [--log-dir DIR] [--verbose]
      Starts a broker, prints one JSON line {"brokers":"127.0.0.1:N","version":"x.y.z"}
      to stdout once ready, runs until SIGTERM/SIGINT, its stdin closing or its parent dying.
  node tools/kafka/kafka.mjs resolve
      Only downloads the broker jars into the cache (CI warm-up); prints their directory.`;

const parseFlags = (argv) => parseCliFlags(argv, { integers: ['port', 'controller-port', 'heap-mb'], strings: ['log-dir'], usage: USAGE });

async function cliStart(flags) {
  const broker = await startKafkaBroker({
    port: flags.port,
    controllerPort: flags['controller-port'],
    heapMb: flags['heap-mb'],
    logDir: flags['log-dir'],
    echo: Boolean(flags.verbose),
  });

  serveUntilStopped({
    tool: 'tools/kafka',
    service: broker,
    describe: () => ({ brokers: broker.brokers, version: broker.version }),
    verbose: Boolean(flags.verbose),
  });
}

async function main(argv) {
  const [cmd, ...rest] = argv;
  if (cmd === 'start') return cliStart(parseFlags(rest));
  if (cmd === 'resolve') {
    if (rest.length) throw new Error(`resolve takes no arguments\n${USAGE}`);
    process.stdout.write(`${await resolveKafkaLibs()}\n`);
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
