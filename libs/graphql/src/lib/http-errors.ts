import { RequestContext } from '@multipult/observability';
import { AppError, ErrorCode } from './errors';
import { pickLocale, translate } from './messages';

const HTTP_STATUS: Partial<Record<string, number>> = {
  [ErrorCode.UNAUTHENTICATED]: 401,
  [ErrorCode.FORBIDDEN]: 403,
  [ErrorCode.NOT_FOUND]: 404,
  [ErrorCode.CONFLICT]: 409,
  [ErrorCode.PAYLOAD_TOO_LARGE]: 413,
  [ErrorCode.RATE_LIMITED]: 429,
  [ErrorCode.SERVICE_UNAVAILABLE]: 503,
};

/**
 * An expected error as a plain HTTP route answers it (the gateway's edge checks, a service's NDJSON
 * stream): the status its code stands for (400 for input problems) and the GraphQL-shaped body,
 * translated into the request's language, with the request id.
 */
export function httpErrorResponse(error: AppError): { status: number; body: { errors: object[] } } {
  const context = RequestContext.current();
  const locale = pickLocale(context?.locales);
  const message = translate(error.messageKey, locale, error.params);
  const fields = error.fieldProblems.length
    ? { fields: error.fieldProblems.map((problem) => ({ field: problem.field, message: translate(problem.key, locale, problem.params) })) }
    : {};
  return {
    status: HTTP_STATUS[error.code] ?? 400,
    body: { errors: [{ message, extensions: { code: error.code, requestId: context?.requestId, ...fields } }] },
  };
}

/** A body that is too large or not JSON, as a typed GraphQL-shaped error instead of HTML. */
export type BodyProblem = 'too-large' | 'malformed' | 'unsupported-encoding';

export function bodyParserErrorResponse(problem: BodyProblem, limit: string): { status: number; body: object } {
  const locale = pickLocale(RequestContext.current()?.locales);
  const requestId = RequestContext.current()?.requestId;
  if (problem === 'too-large') {
    return { status: 413, body: { errors: [{ message: translate('errors.payload_too_large', locale, { limit }), extensions: { code: ErrorCode.PAYLOAD_TOO_LARGE, requestId } }] } };
  }
  const unsupported = problem === 'unsupported-encoding';
  const message = unsupported ? 'Unsupported charset or content encoding: send JSON in UTF-8' : 'Malformed request body';
  return { status: unsupported ? 415 : 400, body: { errors: [{ message, extensions: { code: 'BAD_REQUEST', requestId } }] } };
}
