// Turning one HTTP answer into a Task, a Task[] or a classified ProviderError. Both envelope
// shapes of docs/api.md are accepted, anything else fails loudly with a short,
// key-free excerpt of what came back. Pure: http.ts does the I/O.
import { z } from 'zod';
import { type ErrorClass, type ProviderErrorCode, ProviderError, classifyCode, classifyHttpStatus, parseRetryAfter } from './errors.js';
import { type Task, envelopeSchema, gatewayErrorSchema, legacyDataSchema, taskSchema } from './schemas.js';

/** What came back, read in full; the input of every parse. */
export interface RawResponse {
  readonly status: number;
  readonly contentType: string;
  readonly retryAfter: string | null;
  /** True when the answer is (or followed) a redirect. */
  readonly redirected: boolean;
  readonly text: string;
}

export interface ParseContext {
  /** `METHOD /path`, named in every error message. */
  readonly label: string;
  /** The API key, scrubbed from everything quoted. */
  readonly secret: string;
  readonly now: number;
  /** Set for calls a provider may not offer (e.g. "listing tasks"); enables the 'unsupported' answer. */
  readonly optionalRoute?: string;
}

export const EXCERPT_MAX = 200;
const MESSAGE_MAX = 300;

/** Removes the key, and any bearer token, from text that is about to be quoted. */
export function scrub(text: string, secret: string): string {
  const withoutKey = secret ? text.split(secret).join('***') : text;
  return withoutKey.replace(/Bearer\s+[^\s"'<>,;]+/gi, 'Bearer ***');
}

/** A one-line, key-free, at most EXCERPT_MAX-character quote; scrubbed before cutting so no key prefix survives. */
export function excerptOf(text: string, secret: string, max = EXCERPT_MAX): string {
  const line = scrub(text, secret).replace(/\s+/g, ' ').trim();
  return line.length <= max ? line : `${line.slice(0, max - 1)}…`;
}

const taskListSchema = z.array(taskSchema);

export function parseResponse(raw: RawResponse, expect: 'task', context: ParseContext): Task | ProviderError;
export function parseResponse(raw: RawResponse, expect: 'list', context: ParseContext): Task[] | ProviderError;
export function parseResponse(raw: RawResponse, expect: 'task' | 'list', context: ParseContext): Task | Task[] | ProviderError {
  const json = parseJson(raw.text);
  const envelope = envelopeSchema.safeParse(json);
  const fail = failWith(raw, context);

  if (context.optionalRoute && routeIsMissing(raw, envelope.success)) {
    return fail(`${context.optionalRoute} is not supported by this provider (it answered ${describe(raw, json)})`, 'unsupported', 'fatal-job', 'rejected');
  }
  if (envelope.success) {
    const { code, message, request_id: requestId } = envelope.data;
    const quoted = message ? excerptOf(message, context.secret, MESSAGE_MAX) : '';
    if (code !== 0) return fail(quoted || `the provider answered code ${code} without a message`, code, classifyCode(code), undefined, requestId);
    if (!isOk(raw.status)) return fail(`HTTP ${raw.status} with a success envelope`, 'http', classifyHttpStatus(raw.status), 'unknown', requestId);
    const data = expect === 'task' ? unwrap(envelope.data.data, taskSchema) : unwrap(envelope.data.data, taskListSchema);
    if (data.success) return data.data;
    return fail(`the answer's data is not a ${expect === 'task' ? 'task' : 'task list'} (${firstIssue(data.error)})`, 'bad_response', 'retryable-server', 'unknown', requestId);
  }
  const gateway = gatewayErrorSchema.safeParse(json);
  if (gateway.success) {
    const { message, code, type } = gateway.data.error;
    const klingCode = asKlingCode(code);
    const what = `CometAPI gateway${type ? ` (${excerptOf(type, context.secret, 40)})` : ''}: ${excerptOf(message, context.secret, MESSAGE_MAX)}`;
    if (klingCode !== undefined) return fail(what, klingCode, classifyCode(klingCode));
    return fail(what, 'http', classifyHttpStatus(raw.status));
  }
  // Not an answer we understand, so a create call may still have made a task: outcome 'unknown'.
  if (isOk(raw.status)) return fail(`expected a JSON envelope, got ${describe(raw, json)}`, 'bad_response', 'retryable-server', 'unknown');
  return fail(`request failed with ${describe(raw, json)}`, 'http', classifyHttpStatus(raw.status), 'unknown');
}

const isOk = (status: number): boolean => status >= 200 && status < 300;

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Gateways answer an unknown route with a redirect, an HTML or plain 404, or 405/501. */
function routeIsMissing(raw: RawResponse, isEnvelope: boolean): boolean {
  if (raw.redirected || (raw.status >= 300 && raw.status < 400)) return true;
  if (raw.status === 405 || raw.status === 501) return true;
  return raw.status === 404 && !isEnvelope;
}

/** The newer shape carries the payload in `data`; the older CometAPI wrapper one level deeper, in `data.data`. */
function unwrap<T>(data: unknown, schema: z.ZodType<T>): z.ZodSafeParseResult<T> {
  const direct = schema.safeParse(data);
  if (direct.success) return direct;
  const legacy = legacyDataSchema.safeParse(data);
  return legacy.success && legacy.data.data !== undefined ? schema.safeParse(legacy.data.data) : direct;
}

function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'no detail';
  const path = issue.path.length > 0 ? `data.${issue.path.join('.')}` : 'data';
  return `${path}: ${issue.message}`;
}

/** Gateway codes are usually strings; only a number in Kling's ranges is trusted as a Kling code. */
function asKlingCode(code: string | number | null | undefined): number | undefined {
  const value = typeof code === 'string' && /^\d+$/.test(code) ? Number(code) : code;
  return typeof value === 'number' && value >= 1000 && value <= 5999 ? value : undefined;
}

function describe(raw: RawResponse, json: unknown): string {
  const text = raw.text.trim();
  const status = `HTTP ${raw.status}`;
  if (raw.redirected || (raw.status >= 300 && raw.status < 400)) return `${status}, a redirect`;
  if (text === '') return `${status} with an empty body`;
  if (json !== undefined) return `${status} with JSON of an unexpected shape`;
  if (/html/i.test(raw.contentType) || text.startsWith('<')) return `${status} with an HTML page`;
  if (/^[[{]/.test(text)) return `${status} with malformed or truncated JSON`;
  return `${status} with a non-JSON body`;
}

function failWith(raw: RawResponse, context: ParseContext) {
  const excerpt = raw.text.trim() === '' ? undefined : excerptOf(raw.text, context.secret);
  const retryAfterMs = parseRetryAfter(raw.retryAfter, context.now);
  return (
    what: string,
    code: ProviderErrorCode,
    errorClass: ErrorClass,
    // A parsed refusal created nothing, unless it is a server error: then a task may exist.
    outcome: 'rejected' | 'unknown' = errorClass === 'retryable-server' ? 'unknown' : 'rejected',
    requestId?: string,
  ): ProviderError => {
    const where = requestId ? `${context.label}, request_id ${requestId}` : context.label;
    return new ProviderError(scrub(`${what} (${where})`, context.secret), { code, errorClass, httpStatus: raw.status, retryAfterMs, requestId, excerpt, outcome });
  };
}
