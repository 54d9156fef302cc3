import { Logger } from '@nestjs/common';
import { GraphQLFormattedError } from 'graphql';
import { RequestContext, graphqlErrors } from '@multipult/observability';
import { AppError, ErrorCode } from './errors';
import { pickLocale, translate } from './messages';

const logger = new Logger('GraphQLErrors');

/** Codes produced by Apollo Server and graphql-js before any resolver runs; their messages are safe to show. */
const PROTOCOL_CODES = new Set([
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_REQUEST',
  'OPERATION_RESOLUTION_FAILURE',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
]);

const KNOWN_CODES = new Set<string>(Object.values(ErrorCode));

/**
 * graphql-js's hints ("Did you mean "email"?", "Did you mean the enum value "ADMIN"?", "Did you mean
 * to use an inline fragment on "User"?") name the schema's fields, types and enum values, which
 * must not leak while introspection is off; they are dropped in every environment, so development
 * answers as production does.
 */
const SUGGESTION = / ?Did you mean [^?]*\?/g;

export function withoutSuggestions(message: string): string {
  return message.replace(SUGGESTION, '');
}

/** PostgreSQL SQLSTATEs of a lost or refused connection: class 08, the server shutting down or starting, no free connection. */
const UNAVAILABLE_SQLSTATE = /^(08...|57P0[1-3]|53300)$/;
const UNAVAILABLE_ERRNO = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
/** What pg, pg-pool and ioredis say when the server went away or cannot be reached in time. */
const UNAVAILABLE_MESSAGE =
  /^(Connection terminated|timeout exceeded when trying to connect|Connection is closed|Reached the max retries per request limit|Stream isn't writeable)/;

/**
 * Whether a failure is a backing service (PostgreSQL, Redis, a peer) being unreachable, e.g. while
 * it restarts: the request may succeed if retried, so it is answered SERVICE_UNAVAILABLE, not INTERNAL.
 */
export function isDependencyUnavailable(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; current && typeof current === 'object' && depth < 6; depth += 1) {
    const { code, message } = current as { code?: unknown; message?: unknown };
    if (typeof code === 'string' && (UNAVAILABLE_SQLSTATE.test(code) || UNAVAILABLE_ERRNO.has(code))) return true;
    if (typeof message === 'string' && UNAVAILABLE_MESSAGE.test(message)) return true;
    const next = current as { originalError?: unknown; driverError?: unknown; cause?: unknown };
    current = next.originalError ?? next.driverError ?? next.cause;
  }
  return false;
}

function findAppError(error: unknown): AppError | undefined {
  let current: unknown = error;
  for (let depth = 0; current && depth < 5; depth += 1) {
    if (current instanceof AppError) return current;
    current = (current as { originalError?: unknown }).originalError;
  }
  return undefined;
}

/**
 * The single place where errors become client responses: expected errors are localized and keep
 * their code and field details; an unreachable backing service is SERVICE_UNAVAILABLE; anything
 * else unexpected is logged with its stack and answered as INTERNAL with the request id, so
 * internals never leak.
 */
export function formatError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
  const context = RequestContext.current();
  const locale = pickLocale(context?.locales);
  const requestId = context?.requestId;
  const appError = findAppError(error);

  if (appError) {
    graphqlErrors().inc({ code: appError.code });
    const details = appError.fieldProblems.map((problem) => ({
      field: problem.field,
      message: translate(problem.key, locale, problem.params),
      constraint: problem.key.replace(/^validation\./, ''),
    }));
    if (appError.code === ErrorCode.BAD_USER_INPUT || appError.code === ErrorCode.CONFLICT) {
      logger.warn({ code: appError.code, key: appError.messageKey, fields: details.map((d) => d.field) }, 'rejected input');
    }
    return {
      message: translate(appError.messageKey, locale, appError.params),
      locations: formatted.locations,
      path: formatted.path,
      extensions: {
        code: appError.code,
        requestId,
        ...(details.length ? { fields: details } : {}),
        ...(appError.code === ErrorCode.RATE_LIMITED ? { retryAfterSeconds: appError.params.retryAfterSeconds } : {}),
        ...(appError.code === ErrorCode.MFA_REQUIRED
          ? { challengeToken: appError.params.challengeToken, expiresInSeconds: appError.params.expiresInSeconds }
          : {}),
      },
    };
  }

  const code = formatted.extensions?.code;
  // Errors relayed by the gateway were formatted (and localized) by their subgraph already.
  if (typeof code === 'string' && KNOWN_CODES.has(code)) {
    graphqlErrors().inc({ code });
    const { fields, retryAfterSeconds, challengeToken, expiresInSeconds } = formatted.extensions ?? {};
    return {
      message: withoutSuggestions(formatted.message),
      locations: formatted.locations,
      path: formatted.path,
      extensions: {
        code,
        requestId: formatted.extensions?.requestId ?? requestId,
        ...(fields ? { fields } : {}),
        ...(retryAfterSeconds ? { retryAfterSeconds } : {}),
        ...(challengeToken ? { challengeToken, expiresInSeconds } : {}),
      },
    };
  }

  if (typeof code === 'string' && PROTOCOL_CODES.has(code)) {
    graphqlErrors().inc({ code });
    logger.warn({ code, message: formatted.message }, 'rejected request');
    return { message: withoutSuggestions(formatted.message), locations: formatted.locations, extensions: { code, requestId } };
  }

  const original = (error as { originalError?: unknown })?.originalError ?? error;
  const unavailable = isDependencyUnavailable(original);
  const fallback = unavailable ? ErrorCode.SERVICE_UNAVAILABLE : ErrorCode.INTERNAL;
  graphqlErrors().inc({ code: fallback });
  if (unavailable) logger.warn({ err: original, path: formatted.path }, 'backing service unavailable');
  else logger.error({ err: original, path: formatted.path }, 'unexpected error');
  return {
    message: translate(unavailable ? 'errors.service_unavailable' : 'errors.internal', locale),
    locations: formatted.locations,
    path: formatted.path,
    extensions: { code: fallback, requestId },
  };
}
