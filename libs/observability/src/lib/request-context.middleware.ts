import type { NextFunction, Request, Response } from 'express';
import { httpRequestDuration } from './metrics';
import { activeTraceparent } from './tracing';
import {
  RequestContext,
  acceptRequestId,
  childTraceparent,
  parseAcceptLanguage,
} from './request-context';

export const REQUEST_ID_HEADER = 'x-request-id';

/**
 * Opens the request context (request id, trace context, locales, client ip) for everything the
 * request does, echoes the request id to the caller and records the request's latency.
 */
export function requestContextMiddleware(req: Request, res: Response, next: NextFunction): void {
  const requestId = acceptRequestId(req.headers[REQUEST_ID_HEADER]);
  // With tracing on, the http instrumentation's server span is active here; otherwise continue by hand.
  const traceparent = activeTraceparent() ?? childTraceparent(req.headers.traceparent as string | undefined);
  res.setHeader(REQUEST_ID_HEADER, requestId);
  const stopTimer = httpRequestDuration().startTimer({ method: req.method });
  res.on('finish', () => {
    const route = req.route?.path ?? (req.path.startsWith('/graphql') ? '/graphql' : req.baseUrl || 'unmatched');
    stopTimer({ route, status_code: String(res.statusCode) });
  });
  RequestContext.run(
    {
      requestId,
      traceparent,
      locales: parseAcceptLanguage(req.headers['accept-language']),
      clientIp: req.ip,
      userAgent: req.headers['user-agent'],
    },
    next,
  );
}
