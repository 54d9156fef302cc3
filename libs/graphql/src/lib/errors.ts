import { GraphQLError } from 'graphql';

/** The one set of error codes every subgraph and the gateway answer with (`extensions.code`). */
export enum ErrorCode {
  UNAUTHENTICATED = 'UNAUTHENTICATED',
  FORBIDDEN = 'FORBIDDEN',
  NOT_FOUND = 'NOT_FOUND',
  BAD_USER_INPUT = 'BAD_USER_INPUT',
  CONFLICT = 'CONFLICT',
  RATE_LIMITED = 'RATE_LIMITED',
  /** The password was right; a second factor must complete the sign-in (extensions: challengeToken, expiresInSeconds). */
  MFA_REQUIRED = 'MFA_REQUIRED',
  QUERY_TOO_COMPLEX = 'QUERY_TOO_COMPLEX',
  PAYLOAD_TOO_LARGE = 'PAYLOAD_TOO_LARGE',
  /** A service the request needs could not be reached or failed (HTTP 503's meaning): retry later. */
  SERVICE_UNAVAILABLE = 'SERVICE_UNAVAILABLE',
  INTERNAL = 'INTERNAL',
}

export interface FieldProblem {
  /** Dotted path of the input field, e.g. `input.email`. */
  field: string;
  /** Message key (see messages.ts) with its parameters; localized when the error is formatted. */
  key: string;
  params?: Record<string, string | number>;
}

/**
 * An expected, client-facing error. The message is a key into the message catalogue so it can be
 * localized per request (Accept-Language) when the response is formatted.
 */
export class AppError extends GraphQLError {
  constructor(
    readonly code: ErrorCode,
    readonly messageKey: string,
    readonly params: Record<string, string | number> = {},
    readonly fieldProblems: FieldProblem[] = [],
    /** HTTP status for errors raised before execution (Apollo answers 500 for those otherwise). */
    httpStatus?: number,
  ) {
    super(messageKey, { extensions: { code, ...(httpStatus ? { http: { status: httpStatus } } : {}) } });
    this.name = 'AppError';
  }
}

export class UnauthenticatedError extends AppError {
  constructor(messageKey = 'errors.unauthenticated') {
    super(ErrorCode.UNAUTHENTICATED, messageKey);
  }
}

export class ForbiddenError extends AppError {
  constructor(messageKey = 'errors.forbidden', params: Record<string, string | number> = {}) {
    super(ErrorCode.FORBIDDEN, messageKey, params);
  }
}

/** Also the answer for ids of other tenants, so their existence does not leak. */
export class NotFoundError extends AppError {
  constructor(entity: string) {
    super(ErrorCode.NOT_FOUND, 'errors.not_found', { entity });
  }
}

export class ConflictError extends AppError {
  constructor(messageKey: string, params: Record<string, string | number> = {}) {
    super(ErrorCode.CONFLICT, messageKey, params);
  }
}

export class BadUserInputError extends AppError {
  constructor(problems: FieldProblem[]) {
    super(ErrorCode.BAD_USER_INPUT, 'errors.bad_user_input', {}, problems);
  }

  static field(field: string, key: string, params?: Record<string, string | number>): BadUserInputError {
    return new BadUserInputError([{ field, key, params }]);
  }
}

export class RateLimitedError extends AppError {
  constructor(retryAfterSeconds: number) {
    super(ErrorCode.RATE_LIMITED, 'errors.rate_limited', { retryAfterSeconds });
  }
}

/** Sign-in needs a second factor: complete it with the challenge token and a code. */
export class MfaRequiredError extends AppError {
  constructor(challengeToken: string, expiresInSeconds: number) {
    super(ErrorCode.MFA_REQUIRED, 'errors.mfa_required', { challengeToken, expiresInSeconds });
  }
}

/** Refused before execution: too deep or too expensive. */
export class QueryTooComplexError extends AppError {
  constructor(messageKey: 'errors.query_too_deep' | 'errors.query_too_complex', params: Record<string, number>) {
    super(ErrorCode.QUERY_TOO_COMPLEX, messageKey, params, [], 400);
  }
}
