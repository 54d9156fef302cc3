import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import http from 'node:http';
import https from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import { HttpException, Version3Client } from 'jira.js';
import { InjectConfig } from '@multipult/config';
import { PrivateTargetError, assertPublicLiteralHost, publicOnlyLookup } from '@multipult/network';
import { FAST_STORE, FastStore } from '@multipult/redis';
import type { ExportConfig } from '../config';

/** What a failed JIRA call amounts to, for retrying and for the connection's lastError. */
export interface JiraFailure {
  /** HTTP status, or null when no answer came (network, timeout, refused address). */
  status: number | null;
  message: string;
  /** JIRA's JSON body, when it answered. */
  body: unknown;
  /** From Retry-After, when JIRA sent one. */
  retryAfterMs: number | null;
  privateTarget: boolean;
}

/** The part of an axios error (what jira.js wraps) that matters here. */
interface AnsweredRequestError {
  isAxiosError: true;
  response?: { status: number; data: unknown; headers: Record<string, unknown> };
}

function isRequestError(error: unknown): error is AnsweredRequestError {
  return (error as { isAxiosError?: unknown })?.isAxiosError === true;
}

/** Node lowercases incoming header names, and axios keeps them so. */
function headerOf(headers: Record<string, unknown> | undefined, name: string): string | undefined {
  const value = headers?.[name];
  return value === undefined || value === null ? undefined : String(value);
}

/** Axios's JSON parsing, which a transformResponse of our own replaces. */
function parsedBody(data: unknown): unknown {
  if (typeof data !== 'string' || !data) return data;
  try {
    return JSON.parse(data);
  } catch {
    return data;
  }
}

/** Retry-After in seconds or as an HTTP date. */
function retryAfterMs(value: string | undefined): number | null {
  if (!value) return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, at - Date.now());
}

function jiraMessages(body: unknown): string[] {
  const { errorMessages, errors } = (body ?? {}) as { errorMessages?: unknown; errors?: unknown };
  const messages = Array.isArray(errorMessages) ? errorMessages.map(String) : [];
  if (errors && typeof errors === 'object' && !Array.isArray(errors)) {
    for (const [field, problem] of Object.entries(errors)) messages.push(`${field}: ${String(problem)}`);
  }
  return messages;
}

/** Reads what jira.js threw: its HttpException (with the axios error as cause) or a bare axios error. */
export function jiraFailureOf(error: unknown): JiraFailure {
  const cause = error instanceof HttpException ? error.cause : error;
  const privateTarget = (cause as { cause?: unknown })?.cause instanceof PrivateTargetError || cause instanceof PrivateTargetError;
  if (isRequestError(cause) && cause.response) {
    const body = cause.response.data;
    const messages = jiraMessages(body);
    return {
      status: cause.response.status,
      message: `${cause.response.status}${messages.length ? `: ${messages.join('; ')}` : ''}`,
      body,
      retryAfterMs: retryAfterMs(headerOf(cause.response.headers, 'retry-after')),
      privateTarget,
    };
  }
  if (error instanceof HttpException && !isRequestError(cause)) {
    return { status: error.status, message: error.message, body: error.response, retryAfterMs: null, privateTarget };
  }
  const message = privateTarget ? 'the address is not public' : ((cause as Error)?.message ?? String(cause));
  return { status: null, message, body: undefined, retryAfterMs: null, privateTarget };
}

export interface JiraSite {
  /** Keys the shared pacing and pauses (the connection id). */
  id: string;
  baseUrl: string;
  email: string;
  apiToken: string;
}

/** JIRA's rate limit headers of the last answer on a client. */
interface RateHeaders {
  remaining: number | null;
  resetAt: number | null;
}

const pausedKey = (siteId: string) => `jira:paused-until:${siteId}`;
const paceKey = (siteId: string) => `jira:pace:${siteId}`;

/**
 * jira.js clients for connections, and the pacing every call to a connection goes through: at most
 * JIRA_REQUESTS_PER_SECOND per connection across replicas (a sliding window in Redis), and a
 * "paused until" per connection in Redis that a 429's Retry-After or an exhausted X-RateLimit
 * budget sets, so every replica waits. Nothing is shared between connections: one being slow or
 * paused holds up only its own calls. Outbound connections go to public addresses only (checked on
 * connect) unless JIRA_ALLOW_PRIVATE_NETWORKS, with a timeout and no redirects.
 */
@Injectable()
export class JiraClients implements OnApplicationShutdown {
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent;

  constructor(
    @InjectConfig() private readonly config: ExportConfig,
    @Inject(FAST_STORE) private readonly store: FastStore,
  ) {
    const lookup = config.JIRA_ALLOW_PRIVATE_NETWORKS ? undefined : publicOnlyLookup;
    this.httpAgent = new http.Agent({ keepAlive: true, lookup });
    this.httpsAgent = new https.Agent({ keepAlive: true, lookup });
  }

  onApplicationShutdown(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  /**
   * Runs `call` with a client of the site once the site's pacing allows, recording the rate limit
   * headers of the answer (a 429's Retry-After pauses the site for every replica before rethrowing).
   */
  async call<T>(site: JiraSite, call: (client: Version3Client) => Promise<T>, signal?: AbortSignal): Promise<T> {
    // The agents' lookup never sees an address literal: a site saved under older rules is checked here.
    if (!this.config.JIRA_ALLOW_PRIVATE_NETWORKS) assertPublicLiteralHost(new URL(site.baseUrl));
    const seen: RateHeaders = { remaining: null, resetAt: null };
    const client = this.client(site, seen);
    await this.waitForTurn(site.id, signal);
    try {
      return await call(client);
    } catch (error) {
      const failure = jiraFailureOf(error);
      if (failure.status === 429) await this.pause(site.id, failure.retryAfterMs ?? this.config.JIRA_RETRY_INITIAL_MS);
      throw error;
    } finally {
      if (seen.remaining === 0 && seen.resetAt !== null && seen.resetAt > Date.now()) await this.pause(site.id, seen.resetAt - Date.now());
    }
  }

  /** Makes every replica wait `ms` before its next call to the site (never shortens a longer pause). */
  async pause(siteId: string, ms: number): Promise<void> {
    const until = Date.now() + ms;
    const current = Number((await this.store.get(pausedKey(siteId))) ?? 0);
    if (current < until) await this.store.set(pausedKey(siteId), String(until), ms + 1_000);
  }

  /** When the site is paused until, or null. */
  async pausedUntil(siteId: string): Promise<number | null> {
    const until = Number((await this.store.get(pausedKey(siteId))) ?? 0);
    return until > Date.now() ? until : null;
  }

  private async waitForTurn(siteId: string, signal?: AbortSignal): Promise<void> {
    for (;;) {
      signal?.throwIfAborted();
      const until = await this.pausedUntil(siteId);
      if (until !== null) {
        const waitMs = until - Date.now();
        if (waitMs > this.config.JIRA_MAX_PAUSE_SECONDS * 1000) throw new JiraPausedTooLongError(waitMs);
        await sleep(waitMs, undefined, { signal });
        continue;
      }
      const decision = await this.store.hitSlidingWindow(paceKey(siteId), this.config.JIRA_REQUESTS_PER_SECOND, 1_000);
      if (decision.allowed) return;
      await sleep(decision.retryAfterMs, undefined, { signal });
    }
  }

  private client(site: JiraSite, seen: RateHeaders): Version3Client {
    const parseAndRecordRateHeaders = (data: unknown, headers: Record<string, unknown>): unknown => {
      const remaining = headerOf(headers, 'x-ratelimit-remaining');
      const reset = headerOf(headers, 'x-ratelimit-reset');
      seen.remaining = remaining === undefined ? null : Number(remaining);
      seen.resetAt = reset === undefined || Number.isNaN(Date.parse(reset)) ? null : Date.parse(reset);
      return parsedBody(data);
    };
    return new Version3Client({
      host: site.baseUrl,
      authentication: { basic: { email: site.email, apiToken: site.apiToken } },
      baseRequestConfig: {
        timeout: this.config.JIRA_TIMEOUT_MS,
        maxRedirects: 0,
        httpAgent: this.httpAgent,
        httpsAgent: this.httpsAgent,
        transformResponse: [parseAndRecordRateHeaders],
      },
    });
  }
}

/** JIRA asked to wait longer than JIRA_MAX_PAUSE_SECONDS. */
export class JiraPausedTooLongError extends Error {
  constructor(readonly waitMs: number) {
    super(`JIRA asked to wait ${Math.ceil(waitMs / 1000)} s, longer than allowed`);
    this.name = 'JiraPausedTooLongError';
  }
}
