import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes, randomUUID } from 'node:crypto';

/** What one request (or one consumed event) carries through every log line, outgoing call and event. */
export interface RequestContextData {
  requestId: string;
  /** W3C trace context of the current operation (`00-<trace-id>-<span-id>-<flags>`). */
  traceparent: string;
  userId?: string;
  tenantId?: string;
  sessionId?: string;
  /** Preferred languages from Accept-Language, best first. */
  locales: string[];
  clientIp?: string;
  userAgent?: string;
}

const storage = new AsyncLocalStorage<RequestContextData>();

const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{8,128}$/;
const TRACEPARENT_PATTERN = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

export const RequestContext = {
  run<T>(data: RequestContextData, fn: () => T): T {
    return storage.run(data, fn);
  },
  current(): RequestContextData | undefined {
    return storage.getStore();
  },
  /** Adds facts learned mid-request (the caller after token verification); visible to the rest of the request. */
  patch(update: Partial<RequestContextData>): void {
    const store = storage.getStore();
    if (store) Object.assign(store, update);
  },
};

/** Accepts a caller's request id only when it is safe to log and forward; otherwise makes a new one. */
export function acceptRequestId(incoming: string | string[] | undefined): string {
  const value = Array.isArray(incoming) ? incoming[0] : incoming;
  return value && REQUEST_ID_PATTERN.test(value) ? value : randomUUID();
}

export function isValidTraceparent(value: string | undefined): value is string {
  const match = value ? TRACEPARENT_PATTERN.exec(value) : null;
  return !!match && !/^0+$/.test(match[1]) && !/^0+$/.test(match[2]);
}

// Ids come from a pool of random bytes refilled 4 KiB at a time (as randomUUID does), since a
// randomBytes call per id costs more than the rest of the request's bookkeeping.
const RANDOM_POOL_SIZE = 4096;
let randomPool = randomBytes(RANDOM_POOL_SIZE);
let randomPoolOffset = 0;

function randomHex(bytes: number): string {
  if (randomPoolOffset + bytes > RANDOM_POOL_SIZE) {
    randomPool = randomBytes(RANDOM_POOL_SIZE);
    randomPoolOffset = 0;
  }
  const hex = randomPool.toString('hex', randomPoolOffset, randomPoolOffset + bytes);
  randomPoolOffset += bytes;
  return hex;
}

/** Continues an incoming trace with a new span id, or starts a new trace (sampled). */
export function childTraceparent(incoming: string | undefined): string {
  const spanId = randomHex(8);
  if (incoming && isValidTraceparent(incoming)) {
    const [, traceId, , flags] = TRACEPARENT_PATTERN.exec(incoming) as RegExpExecArray;
    return `00-${traceId}-${spanId}-${flags}`;
  }
  return `00-${randomHex(16)}-${spanId}-01`;
}

export function traceIdOf(traceparent: string | undefined): string | undefined {
  return traceparent ? TRACEPARENT_PATTERN.exec(traceparent)?.[1] : undefined;
}

export function parseAcceptLanguage(header: string | string[] | undefined): string[] {
  const value = Array.isArray(header) ? header.join(',') : header;
  if (!value) return [];
  return value
    .split(',')
    .map((part) => {
      const [tag, ...params] = part.trim().split(';');
      const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
      return { tag: tag.toLowerCase(), q: q ? Number(q.slice(2)) || 0 : 1 };
    })
    .filter(({ tag, q }) => tag && tag !== '*' && q > 0)
    .sort((a, b) => b.q - a.q)
    .map(({ tag }) => tag);
}
