import { randomUUID } from 'node:crypto';
import { RequestContext, RequestContextData } from '@multipult/observability';
import { z } from 'zod';
import { EnvelopeOf, EventContract, EventEnvelope } from './event-contract';

/** Kafka headers every event carries, so brokers' tooling and consumers can route without parsing the body. */
export const EventHeaders = {
  requestId: 'x-request-id',
  traceparent: 'traceparent',
  eventType: 'event-type',
  eventVersion: 'event-version',
  tenantId: 'tenant-id',
} as const;

export interface EventInput<P> {
  aggregateId: string;
  payload: P;
  /** Defaults to the tenant of the current request. */
  tenantId?: string | null;
  /** Defaults to the user of the current request. */
  actorId?: string | null;
}

export class InvalidEventPayloadError extends Error {
  constructor(
    readonly eventType: string,
    readonly issues: z.core.$ZodIssue[],
  ) {
    super(`Invalid payload for ${eventType}: ${describeIssues(issues)}`);
    this.name = 'InvalidEventPayloadError';
  }
}

function describeIssues(issues: z.core.$ZodIssue[]): string {
  return issues.map((issue) => `${issue.path.join('.') || '(payload)'} ${issue.message}`).join('; ');
}

/** Builds the envelope of a new event; request metadata comes from the current RequestContext. */
export function buildEnvelope<P, T extends string>(
  contract: EventContract<P, T>,
  input: EventInput<P>,
  context: RequestContextData | undefined = RequestContext.current(),
  now: Date = new Date(),
): EventEnvelope<P, T> {
  const parsed = contract.schema.safeParse(input.payload);
  if (!parsed.success) throw new InvalidEventPayloadError(contract.type, parsed.error.issues);
  return {
    id: randomUUID(),
    type: contract.type,
    version: contract.version,
    occurredAt: now.toISOString(),
    tenantId: input.tenantId !== undefined ? input.tenantId : (context?.tenantId ?? null),
    actorId: input.actorId !== undefined ? input.actorId : (context?.userId ?? null),
    traceparent: context?.traceparent ?? null,
    requestId: context?.requestId ?? null,
    aggregateId: input.aggregateId,
    payload: parsed.data,
  };
}

/** Kafka headers for an envelope; absent values are left out because Kafka headers cannot be null. */
export function envelopeHeaders(envelope: EventEnvelope): Record<string, string> {
  const headers: Record<string, string> = {
    [EventHeaders.eventType]: envelope.type,
    [EventHeaders.eventVersion]: String(envelope.version),
  };
  if (envelope.requestId) headers[EventHeaders.requestId] = envelope.requestId;
  if (envelope.traceparent) headers[EventHeaders.traceparent] = envelope.traceparent;
  if (envelope.tenantId) headers[EventHeaders.tenantId] = envelope.tenantId;
  return headers;
}

// Metadata fields default to null so envelopes from producers that omit nulls still parse.
const envelopeSchema = z.object({
  id: z.uuid(),
  type: z.string().min(1),
  version: z.number().int().positive(),
  occurredAt: z.iso.datetime({ offset: true }),
  tenantId: z.string().nullable().default(null),
  actorId: z.string().nullable().default(null),
  traceparent: z.string().nullable().default(null),
  requestId: z.string().nullable().default(null),
  aggregateId: z.string().min(1),
  payload: z.unknown(),
});

export type EnvelopeParseResult<C> =
  | { outcome: 'valid'; envelope: EnvelopeOf<C> }
  /** An event type this consumer has no contract for (topics carry several types): skip it. */
  | { outcome: 'not_subscribed'; type: string }
  /** Retrying cannot fix it: it belongs in the dead-letter topic. */
  | { outcome: 'invalid'; reason: string };

/** Parses a message body against the contracts a consumer handles. */
export function parseEnvelope<C extends EventContract<unknown>>(
  body: string | null,
  contracts: readonly C[],
): EnvelopeParseResult<C> {
  let json: unknown;
  try {
    json = JSON.parse(body ?? '');
  } catch {
    return { outcome: 'invalid', reason: 'message body is not JSON' };
  }
  const envelope = envelopeSchema.safeParse(json);
  if (!envelope.success) {
    return { outcome: 'invalid', reason: `not an event envelope: ${describeIssues(envelope.error.issues)}` };
  }
  const { type, version } = envelope.data;
  const sameType = contracts.filter((contract) => contract.type === type);
  if (!sameType.length) return { outcome: 'not_subscribed', type };
  const contract = sameType.find((candidate) => candidate.version === version);
  if (!contract) {
    const known = sameType.map((candidate) => `v${candidate.version}`).join(', ');
    return { outcome: 'invalid', reason: `no contract for ${type} v${version} (this consumer handles ${known})` };
  }
  const payload = contract.schema.safeParse(envelope.data.payload);
  if (!payload.success) {
    return { outcome: 'invalid', reason: `invalid payload for ${type} v${version}: ${describeIssues(payload.error.issues)}` };
  }
  return { outcome: 'valid', envelope: { ...envelope.data, payload: payload.data } as EnvelopeOf<C> };
}
