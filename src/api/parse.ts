// Turning one HTTP answer into a Task, a Task[] or a classified ProviderError. Both envelope
// shapes (Kling's, and CometAPI's older wrapper) are accepted; anything else fails loudly with a
// short, key-free excerpt of what came back. Pure: http.ts does the I/O.
import type { z } from 'zod';
import { type ErrorRule, ruleFor } from './error-rules.js';
import { type ErrorClass, type ProviderErrorCode, ProviderError, classifyCode, classifyHttpStatus, parseRetryAfter } from './errors.js';
import { type Task, envelopeSchema, gatewayErrorSchema, legacyDataSchema, taskListSchema, taskSchema } from './schemas.js';

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
  /** Set for a GET of one task: a "not found" refusal then means no such task, code 'not_found'. */
  readonly oneTask?: boolean;
}

export const EXCERPT_MAX = 200;
const MESSAGE_MAX = 300;

/** Removes the key (also as a provider may echo it back, URL-encoded), and any bearer token, from text about to be quoted. */
export function scrub(text: string, secret: string): string {
  let clean = text;
  for (const form of secret ? new Set([secret, encodeURIComponent(secret)]) : []) clean = clean.split(form).join('***');
  return clean.replace(/Bearer\s+[^\s"'<>,;]+/gi, 'Bearer ***');
}

/** A one-line, key-free, at most EXCERPT_MAX-character quote; scrubbed before cutting so no key prefix survives. */
export function excerptOf(text: string, secret: string, max = EXCERPT_MAX): string {
  const line = scrub(text, secret).replace(/\s+/g, ' ').trim();
  return line.length <= max ? line : `${line.slice(0, max - 1)}…`;
}

/**
 * A task's message is the provider's free text, which the runner records (a failed job's reason):
 * a provider that echoes the request back must not get the key into the journal or the report.
 */
function keyFree(task: Task, secret: string): Task {
  return task.task_status_msg ? { ...task, task_status_msg: scrub(task.task_status_msg, secret) } : task;
}

export function parseResponse(raw: RawResponse, expect: 'task', context: ParseContext): Task | ProviderError;
export function parseResponse(raw: RawResponse, expect: 'list', context: ParseContext): Task[] | ProviderError;
export function parseResponse(raw: RawResponse, expect: 'task' | 'list', context: ParseContext): Task | Task[] | ProviderError {
  const json = parseJson(raw.text);
  const envelope = envelopeSchema.safeParse(json);
  const fail = failWith(raw, context);

  if (context.optionalRoute && routeIsMissing(raw, envelope.success)) {
    return fail(`${context.optionalRoute} is not supported by this provider (it answered ${describe(raw, json)})`, 'unsupported', 'fatal-job', 'rejected');
  }
  let error: ProviderError;
  if (envelope.success) {
    const { code, message, request_id: requestId } = envelope.data;
    const quoted = message ? excerptOf(message, context.secret, MESSAGE_MAX) : '';
    if (code !== 0) {
      error = refusal(fail, context, raw.status, code, quoted || `the provider answered code ${code} without a message`, requestId);
    } else if (!isOk(raw.status)) {
      error = fail(`HTTP ${raw.status} with a success envelope`, 'http', classifyHttpStatus(raw.status), 'unknown', requestId);
    } else {
      const data = expect === 'task' ? unwrap(envelope.data.data, taskSchema) : unwrap(envelope.data.data, taskListSchema);
      if (data.result.success) return expect === 'task' ? keyFree(data.result.data as Task, context.secret) : (data.result.data as Task[]).map((task) => keyFree(task, context.secret));
      const what = expect === 'task' ? 'task' : 'task list';
      return fail(`the answer's data is not a ${what} (${firstIssue(data.result.error, data.at)})`, 'bad_response', 'retryable-server', 'unknown', requestId);
    }
  } else {
    error = nonEnvelope(raw, json, context);
  }
  // A provider that refuses an optional call for good (a JSON 400, say) does not offer it here:
  // 'unsupported', decided once, rather than an error a caller could retry forever.
  if (context.optionalRoute && error.errorClass === 'fatal-job' && error.code !== 'not_found') {
    return fail(`${context.optionalRoute} is not supported by this provider (it answered ${answered(raw, error)})`, 'unsupported', 'fatal-job', 'rejected', error.requestId);
  }
  return error;
}

type Fail = ReturnType<typeof failWith>;

/**
 * A Kling refusal. "No such task" comes as code 1203 (Kling's table), as any Kling code on a 404,
 * or, from the live service, as HTTP 400 with the generic parameter code 1201 and a message like
 * "Task not found by id …". 1201 also means "bad parameter" (a duplicate external_task_id, a field
 * out of range), so only its message tells the two apart.
 */
function refusal(fail: Fail, context: ParseContext, status: number, code: number, what: string, requestId?: string): ProviderError {
  const notFound = code === 1203 || (status === 404 && classifyCode(code) === 'fatal-job') || (code === 1201 && NOT_FOUND_MESSAGE.test(what));
  if (context.oneTask && notFound) return fail(`no such task: ${what}`, 'not_found', 'fatal-job', 'rejected', requestId);
  return fail(what, code, ruleFor({ code }), undefined, requestId);
}

const NOT_FOUND_MESSAGE = /not\s*(be\s+)?found|does\s*n[o']t\s+exist|no\s+such\s+task/i;

/** CometAPI's gateway errors and answers that are no envelope at all. */
function nonEnvelope(raw: RawResponse, json: unknown, context: ParseContext): ProviderError {
  const fail = failWith(raw, context);
  const gateway = gatewayErrorSchema.safeParse(json);
  if (gateway.success) {
    const { message, code, type } = gateway.data.error;
    const klingCode = asKlingCode(code);
    const what = `CometAPI gateway${type ? ` (${excerptOf(type, context.secret, 40)})` : ''}: ${message ? excerptOf(message, context.secret, MESSAGE_MAX) : 'no message'}`;
    if (klingCode !== undefined) return refusal(fail, context, raw.status, klingCode, what);
    const rule = ruleFor({ gateway: typeof code === 'string' ? code : undefined, status: raw.status });
    return fail(what, rule.gateway === 'invalid_request' ? 'invalid_request' : 'http', rule);
  }
  // Not an answer we understand, so a create call may still have made a task: outcome 'unknown'.
  if (isOk(raw.status)) return fail(`expected a JSON envelope, got ${describe(raw, json)}`, 'bad_response', 'retryable-server', 'unknown');
  return fail(`request failed with ${describe(raw, json)}`, 'http', classifyHttpStatus(raw.status), 'unknown');
}

/** `HTTP 400 with code 1201` for a refusal with a code (its text is in the excerpt); the shape of the answer otherwise. */
function answered(raw: RawResponse, error: ProviderError): string {
  return typeof error.code === 'number' ? `HTTP ${raw.status} with code ${error.code}` : describe(raw, parseJson(raw.text));
}

const isOk = (status: number): boolean => status >= 200 && status < 300;

function parseJson(text: string): unknown {
  try {
    return JSON.parse(keepBigIntegers(text));
  } catch {
    return undefined;
  }
}

/** A string (skipped whole, so digits inside it are left alone), or an integer of 16 digits or more outside one. */
const LONG_INTEGER = /"(?:[^"\\]|\\.)*"|(?<![\w.+-])-?\d{16,}(?![\d.eE])/g;

/**
 * Integers too large for a JS number, quoted before JSON.parse sees them: a 19-digit task id sent
 * as a JSON number would otherwise be read as a different id (Node 20's JSON.parse offers no way
 * to see a number's source text). The schemas read a numeric string wherever they read a number.
 */
export function keepBigIntegers(text: string): string {
  if (!/\d{16}/.test(text)) return text;
  return text.replace(LONG_INTEGER, (token) => (token.startsWith('"') || Number.isSafeInteger(Number(token)) ? token : `"${token}"`));
}

/** Gateways answer an unknown route with a redirect, an HTML or plain 404, or 405/501. */
function routeIsMissing(raw: RawResponse, isEnvelope: boolean): boolean {
  if (raw.redirected || (raw.status >= 300 && raw.status < 400)) return true;
  if (raw.status === 405 || raw.status === 501) return true;
  return raw.status === 404 && !isEnvelope;
}

/** The newer shape carries the payload in `data`; the older CometAPI wrapper one level deeper, in `data.data`. */
function unwrap<T>(data: unknown, schema: z.ZodType<T>): { result: z.ZodSafeParseResult<T>; at: string } {
  const direct = schema.safeParse(data);
  if (direct.success) return { result: direct, at: 'data' };
  const legacy = legacyDataSchema.safeParse(data);
  return legacy.success && legacy.data.data !== undefined ? { result: schema.safeParse(legacy.data.data), at: 'data.data' } : { result: direct, at: 'data' };
}

/** `data.task_result.videos[0].url: expected …`: the first problem, at the path a reader of the JSON would write. */
function firstIssue(error: z.ZodError, at: string): string {
  const issue = error.issues[0];
  if (!issue) return 'no detail';
  const path = issue.path.map((part) => (typeof part === 'number' ? `[${part}]` : `.${String(part)}`)).join('');
  return `${at}${path}: ${issue.message}`;
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
    meaning: ErrorClass | ErrorRule,
    // A parsed refusal created nothing, unless it is a server error: then a task may exist.
    outcome?: 'rejected' | 'unknown',
    requestId?: string,
  ): ProviderError => {
    const { errorClass, scope, fix } = typeof meaning === 'string' ? { errorClass: meaning, scope: undefined, fix: undefined } : meaning;
    const where = requestId ? `${context.label}, request_id ${requestId}` : context.label;
    return new ProviderError(scrub(`${what} (${where})`, context.secret), {
      code,
      errorClass,
      httpStatus: raw.status,
      retryAfterMs,
      requestId,
      excerpt,
      outcome: outcome ?? (errorClass === 'retryable-server' ? 'unknown' : 'rejected'),
      scope,
      fix,
    });
  };
}
