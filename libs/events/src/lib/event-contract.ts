import { z } from 'zod';

/** What every event on the wire carries; the payload's shape is fixed by its contract. */
export interface EventEnvelope<P = unknown, T extends string = string> {
  id: string;
  type: T;
  version: number;
  occurredAt: string;
  tenantId: string | null;
  actorId: string | null;
  traceparent: string | null;
  requestId: string | null;
  aggregateId: string;
  payload: P;
}

/** A versioned event type: its name, the topic it travels on and the schema its payload must satisfy. */
export interface EventContract<P = unknown, T extends string = string> {
  readonly type: T;
  readonly version: number;
  readonly topic: string;
  readonly schema: z.ZodType<P>;
}

/** The envelope type of a contract, or the union of envelopes of a union of contracts (narrowed by `type`). */
export type EnvelopeOf<C> = C extends EventContract<infer P, infer T> ? EventEnvelope<P, T> : never;

export type PayloadOf<C> = C extends EventContract<infer P, string> ? P : never;

const EVENT_TYPE_PATTERN = /^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$/;
const TOPIC_PATTERN = /^[a-z][a-z0-9-]*\.[a-z][a-z0-9_]*\.v[1-9][0-9]*$/;

/**
 * Declares an event contract. Names are checked here, at import time, so a misnamed event
 * fails every test of its service instead of reaching Kafka.
 */
export function defineEvent<const T extends string, S extends z.ZodType>(definition: {
  type: T;
  version: number;
  topic: string;
  schema: S;
}): EventContract<z.output<S>, T> {
  const { type, version, topic, schema } = definition;
  if (!EVENT_TYPE_PATTERN.test(type)) {
    throw new Error(`Event type "${type}" must be <aggregate>.<past_tense_verb>, e.g. user.registered`);
  }
  if (!TOPIC_PATTERN.test(topic)) {
    throw new Error(`Topic "${topic}" of ${type} must be <service>.<aggregate>.v<major>, e.g. auth.user.v1`);
  }
  if (!Number.isInteger(version) || version < 1) {
    throw new Error(`Version of ${type} must be a positive integer, got ${version}`);
  }
  return Object.freeze({ type, version, topic, schema: schema as z.ZodType<z.output<S>> });
}
