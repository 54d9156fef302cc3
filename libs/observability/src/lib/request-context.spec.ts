import { contextLogFields } from './logger';
import {
  RequestContext,
  acceptRequestId,
  childTraceparent,
  isValidTraceparent,
  parseAcceptLanguage,
  traceIdOf,
} from './request-context';

describe('request context', () => {
  it('accepts safe request ids and replaces unsafe ones', () => {
    expect(acceptRequestId('client-request-123')).toBe('client-request-123');
    expect(acceptRequestId(['first-request-id', 'second'])).toBe('first-request-id');
    for (const unsafe of [undefined, 'short', 'has space in it', 'x'.repeat(129), 'inject\nnewline']) {
      const generated = acceptRequestId(unsafe);
      expect(generated).not.toBe(unsafe);
      expect(generated).toMatch(/^[0-9a-f-]{36}$/);
    }
  });

  it('continues an incoming trace with a new span and starts a sampled trace otherwise', () => {
    const incoming = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const child = childTraceparent(incoming);
    expect(traceIdOf(child)).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(child).not.toBe(incoming);
    expect(isValidTraceparent(child)).toBe(true);

    for (const invalid of [undefined, 'garbage', '00-00000000000000000000000000000000-00f067aa0ba902b7-01']) {
      const started = childTraceparent(invalid);
      expect(isValidTraceparent(started)).toBe(true);
      expect(started.endsWith('-01')).toBe(true);
    }
  });

  it('orders Accept-Language by quality and drops wildcards and q=0', () => {
    expect(parseAcceptLanguage('en;q=0.5, ru-RU, fr;q=0, *;q=0.1')).toEqual(['ru-ru', 'en']);
    expect(parseAcceptLanguage(undefined)).toEqual([]);
  });

  it('puts request, trace, user and tenant ids on every log line of the request', () => {
    expect(contextLogFields()).toEqual({});
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    RequestContext.run({ requestId: 'request-12345678', traceparent, locales: [] }, () => {
      RequestContext.patch({ userId: 'u1', tenantId: 't1' });
      expect(contextLogFields()).toEqual({
        request_id: 'request-12345678',
        trace_id: '4bf92f3577b34da6a3ce929d0e0e4736',
        user_id: 'u1',
        tenant_id: 't1',
      });
    });
  });
});
