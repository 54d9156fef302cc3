import { z } from 'zod';
import { databaseEnv, envHelpers, kafkaEnv, loadConfig } from '@multipult/config';

/**
 * What each command needs from the environment, validated when the command runs (so `--help`
 * works anywhere). Commands that run a service's own entry point pass the whole environment on:
 * that service validates the rest of its configuration itself.
 */
const databaseSchema = z.object({ DATABASE_URL: databaseEnv.DATABASE_URL });

const gatewaySchema = z.object({
  /** The gateway's public GraphQL endpoint, e.g. http://localhost:4000/graphql. */
  GATEWAY_URL: envHelpers.urlWithProtocols(['http', 'https']),
});

const kafkaSchema = z.object({ ...kafkaEnv }).superRefine((config, ctx) => {
  if (!config.KAFKA_BROKERS?.length) ctx.addIssue({ code: 'custom', path: ['KAFKA_BROKERS'], message: 'is required' });
});

export type GatewayConfig = z.infer<typeof gatewaySchema>;
export type KafkaConfig = z.infer<typeof kafkaSchema> & { KAFKA_BROKERS: string[] };

export const databaseConfig = (env: NodeJS.ProcessEnv = process.env) => loadConfig(databaseSchema, env);
export const gatewayConfig = (env: NodeJS.ProcessEnv = process.env): GatewayConfig => loadConfig(gatewaySchema, env);
export const kafkaConfig = (env: NodeJS.ProcessEnv = process.env): KafkaConfig => loadConfig(kafkaSchema, env) as KafkaConfig;
