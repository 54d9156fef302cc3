// Lets `nx test <project>` run alone: infrastructure the environment does not name is started
// for this jest run and stopped by the teardown. `npm test` starts it once for every project.
import { ensureInfrastructure } from './infrastructure.mjs';

export default async function globalSetup() {
  if (process.env.DATABASE_URL && process.env.REDIS_URL && process.env.KAFKA_BROKERS) return;
  const infrastructure = await ensureInfrastructure();
  Object.assign(process.env, infrastructure.env);
  globalThis.__MULTIPULT_INFRA__ = infrastructure;
}
