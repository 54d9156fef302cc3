import pino, { LoggerOptions } from 'pino';
import { RequestContext, traceIdOf } from './request-context';

/** Fields every log line carries, taken from the request (or consumed event) being handled. */
export function contextLogFields(): Record<string, string> {
  const context = RequestContext.current();
  if (!context) return {};
  const fields: Record<string, string> = { request_id: context.requestId };
  const traceId = traceIdOf(context.traceparent);
  if (traceId) fields.trace_id = traceId;
  if (context.userId) fields.user_id = context.userId;
  if (context.tenantId) fields.tenant_id = context.tenantId;
  return fields;
}

export function pinoOptions(service: string, level: string): LoggerOptions {
  return {
    level,
    base: { service },
    messageKey: 'msg',
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    mixin: contextLogFields,
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'req.headers["x-api-key"]',
        'res.headers["set-cookie"]',
        '*.password',
        '*.refreshToken',
        '*.accessToken',
      ],
      censor: '[redacted]',
    },
  };
}
