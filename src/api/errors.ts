// Provider answers that are not a usable success, classified so the runner can decide what to do.
// Classification is by the body `code` first (HTTP 429 carries both retryable and fatal codes),
// then by the gateway's code, then by HTTP status (the rules are in error-rules.ts), then by
// transport failure.
import { ruleFor, scopeOf } from './error-rules.js';

export type ErrorClass =
  | 'retryable-rate' // 1302: wait for Retry-After or back off
  | 'retryable-concurrency' // 1303: lower the in-flight count, then retry
  | 'retryable-server' // 5000-5002, HTTP 5xx, network errors, timeouts, unparseable answers
  | 'fatal-run' // auth 1000-1004, account 1100-1102, IP whitelist 1304: stop submitting
  | 'fatal-job'; // 1103 (for its model), 1200-1203, 1300/1301, the gateway's invalid_request: this job fails

/** How far a fatal refusal reaches: the whole run, every job of the refused job's model, or the job alone. */
export type ErrorScope = 'run' | 'model' | 'job';

/**
 * What an error says about a create call:
 * - `rejected`: the provider answered and refused; no task was created.
 * - `unknown`: the request may have reached the provider and created a task (timeout, reset,
 *   lost or garbled answer, 5xx); reconcile by external_task_id before any retry.
 */
export type SubmitOutcome = 'rejected' | 'unknown';

export type ProviderErrorCode =
  | number // the provider's body code
  | 'http' // an HTTP error with no recognisable body
  | 'timeout'
  | 'network' // no answer: a reset, a dropped connection (the request may have arrived)
  | 'unreachable' // no connection was ever made (refused, DNS, TLS): the request cannot have arrived
  | 'bad_response' // 2xx with a body we cannot parse
  | 'not_found'
  | 'invalid_request' // CometAPI's gateway refused the request (its code, sent with HTTP 500)
  | 'unsupported'; // the provider does not offer this call

export interface ProviderErrorInit {
  readonly code: ProviderErrorCode;
  readonly errorClass: ErrorClass;
  readonly httpStatus?: number;
  readonly retryAfterMs?: number;
  readonly requestId?: string;
  /** A short, key-free excerpt of what came back. */
  readonly excerpt?: string;
  readonly outcome?: SubmitOutcome;
  /** @default 'run' for 'fatal-run', else 'job' */
  readonly scope?: ErrorScope;
  /** What the user can do about it (error-rules.ts). */
  readonly fix?: string;
  readonly cause?: unknown;
}

export class ProviderError extends Error {
  override name = 'ProviderError';
  readonly code: ProviderErrorCode;
  readonly errorClass: ErrorClass;
  readonly retryable: boolean;
  readonly httpStatus: number | undefined;
  readonly retryAfterMs: number | undefined;
  readonly requestId: string | undefined;
  readonly excerpt: string | undefined;
  readonly outcome: SubmitOutcome;
  readonly scope: ErrorScope;
  readonly fix: string | undefined;

  constructor(message: string, init: ProviderErrorInit) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.code = init.code;
    this.errorClass = init.errorClass;
    this.retryable = init.errorClass.startsWith('retryable');
    this.httpStatus = init.httpStatus;
    this.retryAfterMs = init.retryAfterMs;
    this.requestId = init.requestId;
    this.excerpt = init.excerpt;
    this.outcome = init.outcome ?? (init.errorClass === 'retryable-server' ? 'unknown' : 'rejected');
    this.scope = init.scope ?? scopeOf({ errorClass: init.errorClass });
    this.fix = init.fix;
  }
}

/** Classify a provider body code (docs/api.md, "Error codes"). */
export function classifyCode(code: number): ErrorClass {
  return ruleFor({ code }).errorClass;
}

/** Classify an HTTP status when the body carried no usable code. */
export function classifyHttpStatus(status: number): ErrorClass {
  return ruleFor({ status }).errorClass;
}

/** Parse a Retry-After header (delta seconds or HTTP date) into milliseconds from `now`. */
export function parseRetryAfter(value: string | null | undefined, now: number): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/** A failed task's message that means content moderation (never retried automatically). */
export function isModerationMessage(message: string | undefined): boolean {
  return !!message && /risk|moderation|content (safety|policy)|sensitive/i.test(message);
}
