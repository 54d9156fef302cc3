import { randomUUID } from 'node:crypto';
import { RequestContextData } from '@multipult/observability';
import { z } from 'zod';
import { SessionRevoked, UserLoggedIn, UserRegistered } from './contracts/auth.events';
import { InvalidEventPayloadError, buildEnvelope, envelopeHeaders, parseEnvelope } from './envelope';
import { defineEvent } from './event-contract';

const context: RequestContextData = {
  requestId: 'req-12345678',
  traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
  userId: randomUUID(),
  tenantId: randomUUID(),
  locales: ['en'],
};

const registration = () => ({
  userId: randomUUID(),
  email: 'ada@example.com',
  displayName: 'Ada',
  tenantId: null,
});

describe('defineEvent', () => {
  const schema = z.object({});

  it('accepts the naming conventions', () => {
    const contract = defineEvent({ type: 'document.published', version: 2, topic: 'content.document.v2', schema });
    expect(contract).toMatchObject({ type: 'document.published', version: 2, topic: 'content.document.v2' });
  });

  it.each([
    ['an event type without aggregate', { type: 'registered', version: 1, topic: 'auth.user.v1' }, /<aggregate>.<past_tense_verb>/],
    ['a camelCase event type', { type: 'user.loggedIn', version: 1, topic: 'auth.user.v1' }, /<aggregate>.<past_tense_verb>/],
    ['a topic without major version', { type: 'user.registered', version: 1, topic: 'auth.user' }, /<service>.<aggregate>.v<major>/],
    ['a version that is not a positive integer', { type: 'user.registered', version: 0, topic: 'auth.user.v1' }, /positive integer/],
  ])('rejects %s', (_case, definition, message) => {
    expect(() => defineEvent({ ...definition, schema })).toThrow(message);
  });
});

describe('buildEnvelope', () => {
  it('fills request metadata from the request context', () => {
    const now = new Date('2030-01-02T03:04:05.678Z');
    const payload = registration();
    const envelope = buildEnvelope(UserRegistered, { aggregateId: payload.userId, payload }, context, now);
    expect(envelope).toEqual({
      id: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/),
      type: 'user.registered',
      version: 1,
      occurredAt: '2030-01-02T03:04:05.678Z',
      tenantId: context.tenantId,
      actorId: context.userId,
      traceparent: context.traceparent,
      requestId: context.requestId,
      aggregateId: payload.userId,
      payload,
    });
  });

  it('prefers an explicit tenant and actor, null included', () => {
    const payload = registration();
    const envelope = buildEnvelope(UserRegistered, { aggregateId: payload.userId, payload, tenantId: null, actorId: 'system' }, context);
    expect(envelope.tenantId).toBeNull();
    expect(envelope.actorId).toBe('system');
  });

  it('leaves request metadata null outside a request', () => {
    const payload = registration();
    const envelope = buildEnvelope(UserRegistered, { aggregateId: payload.userId, payload }, undefined);
    expect(envelope).toMatchObject({ tenantId: null, actorId: null, traceparent: null, requestId: null });
  });

  it('gives every event its own id', () => {
    const payload = registration();
    const ids = new Set(Array.from({ length: 50 }, () => buildEnvelope(UserRegistered, { aggregateId: 'a', payload }).id));
    expect(ids.size).toBe(50);
  });

  it('refuses a payload that breaks the contract, naming the fields', () => {
    const payload = { ...registration(), email: 'not-an-email', userId: 42 } as never;
    expect(() => buildEnvelope(UserRegistered, { aggregateId: 'a', payload })).toThrow(InvalidEventPayloadError);
    expect(() => buildEnvelope(UserRegistered, { aggregateId: 'a', payload })).toThrow(/user\.registered: .*userId.*email/);
  });

  it('keeps only the fields the contract declares', () => {
    const payload = { ...registration(), password: 'secret' };
    const envelope = buildEnvelope(UserRegistered, { aggregateId: 'a', payload });
    expect(envelope.payload).not.toHaveProperty('password');
  });
});

describe('envelopeHeaders', () => {
  it('carries routing and correlation metadata, omitting what is absent', () => {
    const payload = { userId: randomUUID(), sessionId: randomUUID(), reason: 'logout' as const };
    expect(envelopeHeaders(buildEnvelope(SessionRevoked, { aggregateId: payload.sessionId, payload }, context))).toEqual({
      'event-type': 'session.revoked',
      'event-version': '1',
      'x-request-id': context.requestId,
      traceparent: context.traceparent,
      'tenant-id': context.tenantId,
    });
    expect(envelopeHeaders(buildEnvelope(SessionRevoked, { aggregateId: payload.sessionId, payload }, undefined))).toEqual({
      'event-type': 'session.revoked',
      'event-version': '1',
    });
  });
});

describe('parseEnvelope', () => {
  const contracts = [UserRegistered, UserLoggedIn];
  const registered = () => {
    const payload = registration();
    return buildEnvelope(UserRegistered, { aggregateId: payload.userId, payload }, context);
  };

  it('returns a valid envelope typed by its contract', () => {
    const envelope = registered();
    const result = parseEnvelope(JSON.stringify(envelope), contracts);
    expect(result).toEqual({ outcome: 'valid', envelope });
    if (result.outcome === 'valid' && result.envelope.type === 'user.registered') {
      expect(result.envelope.payload.email).toBe('ada@example.com');
    }
  });

  it('skips event types the consumer has no contract for', () => {
    const payload = { userId: randomUUID(), sessionId: randomUUID(), reason: 'admin' as const };
    const envelope = buildEnvelope(SessionRevoked, { aggregateId: 'a', payload });
    expect(parseEnvelope(JSON.stringify(envelope), contracts)).toEqual({ outcome: 'not_subscribed', type: 'session.revoked' });
  });

  it('rejects a payload that breaks the contract', () => {
    const envelope = { ...registered(), payload: { ...registration(), email: 'nope' } };
    const result = parseEnvelope(JSON.stringify(envelope), contracts);
    expect(result).toEqual({ outcome: 'invalid', reason: expect.stringMatching(/invalid payload for user\.registered v1: email/) });
  });

  it('rejects an unknown version of a known type', () => {
    const envelope = { ...registered(), version: 3 };
    expect(parseEnvelope(JSON.stringify(envelope), contracts)).toEqual({
      outcome: 'invalid',
      reason: 'no contract for user.registered v3 (this consumer handles v1)',
    });
  });

  it.each([
    ['a body that is not JSON', '{oops'],
    ['an empty body', null],
    ['JSON that is not an envelope', JSON.stringify({ hello: 'world' })],
    ['an envelope whose id is not a UUID', JSON.stringify({ ...registered(), id: '42' })],
  ])('rejects %s', (_case, body) => {
    expect(parseEnvelope(body, contracts)).toMatchObject({ outcome: 'invalid' });
  });

  it('accepts envelopes that omit null metadata', () => {
    const { tenantId: _tenantId, actorId: _actorId, traceparent: _traceparent, requestId: _requestId, ...bare } = registered();
    expect(parseEnvelope(JSON.stringify(bare), contracts)).toMatchObject({
      outcome: 'valid',
      envelope: { tenantId: null, actorId: null, traceparent: null, requestId: null },
    });
  });
});
