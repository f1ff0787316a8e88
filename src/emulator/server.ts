// The HTTP face of the emulator: routing, auth, the rate limit, and where each fault acts on a
// request. The calls themselves are in api.ts. Order per API request: count → auth → rate limit →
// fault draw → call → answer, so refused requests never consume a scripted fault.
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { createTask, getTask, listRefused, listTasks, realMs, seedAccount, type EmulatorState } from './api.js';
import type { EmulatorOptions, FaultKind, Route } from './options.js';
import type { EmulatorStats } from './stats.js';
import { videoFor } from './videos.js';
import { failure, htmlPage, toLegacy, wireText, type Answer, type HtmlPage } from './wire.js';

export const API_PATH = '/kling/v1/videos/image2video';
/** Four 10 MB images as base64 fit well below this. */
const MAX_BODY_BYTES = 64 * 1024 * 1024;

export interface Control {
  stats(): EmulatorStats;
  configure(patch: unknown): void;
}

type Target =
  | { readonly route: 'create' }
  | { readonly route: 'get'; readonly id: string }
  | { readonly route: 'list'; readonly query: URLSearchParams }
  | { readonly route: 'download'; readonly token: string }
  | { readonly route: 'stats' | 'config' | 'unknown' };

function targetOf(method: string | undefined, url: URL): Target {
  const path = url.pathname;
  if (path === API_PATH) {
    if (method === 'POST') return { route: 'create' };
    if (method === 'GET') return { route: 'list', query: url.searchParams };
  }
  const id = path.startsWith(`${API_PATH}/`) ? safeDecode(path.slice(API_PATH.length + 1)) : undefined;
  if (method === 'GET' && id && !id.includes('/')) return { route: 'get', id };
  const video = /^\/__videos\/([^/]+)\.mp4$/.exec(path);
  if (video && (method === 'GET' || method === 'HEAD')) return { route: 'download', token: video[1] as string };
  if (path === '/__emulator/stats' && method === 'GET') return { route: 'stats' };
  if (path === '/__emulator/config' && method === 'POST') return { route: 'config' };
  return { route: 'unknown' };
}

function safeDecode(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

/** The whole request body as text; undefined when it exceeds the limit. */
async function readBody(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    // Keep reading (and dropping) so the client sees an answer, not a reset.
    if (size <= MAX_BODY_BYTES) chunks.push(chunk);
  }
  return size > MAX_BODY_BYTES ? undefined : Buffer.concat(chunks).toString('utf8');
}

function sendJson(res: ServerResponse, status: number, value: unknown, headers: Readonly<Record<string, string>> = {}, cut = false): void {
  const full = wireText(value);
  // A body cut in half is never valid JSON: the outer object is left open.
  const text = cut ? full.slice(0, Math.max(1, Math.floor(full.length / 2))) : full;
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function sendAnswer(state: EmulatorState, res: ServerResponse, answer: Answer, cut = false): void {
  if (answer.status === 429) state.stats.answered429(answer.body.code);
  sendJson(res, answer.status, answer.body, answer.headers, cut);
}

function sendHtml(res: ServerResponse, page: HtmlPage): void {
  res.writeHead(page.status, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': Buffer.byteLength(page.html) });
  res.end(page.html);
}

/**
 * Kling's auth codes: 1001 no Authorization header, 1000 one that is not `Bearer <key>`,
 * 1002 a key this emulator does not accept. The key is never echoed.
 */
function authenticate(header: string | undefined, keys: readonly string[]): { key: string } | Answer {
  if (!header?.trim()) return failure(401, 1001, 'Authorization is empty');
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match) return failure(401, 1000, 'Authentication failed: expected `Authorization: Bearer <key>`');
  const key = match[1] as string;
  return keys.includes(key) ? { key } : failure(401, 1002, 'Authorization is invalid: the API key is not accepted');
}

function drawFault(state: EmulatorState, route: Route): { kind: FaultKind; fired: number } | undefined {
  const kind = state.faults.draw(route);
  return kind === undefined ? undefined : { kind, fired: state.stats.fault(kind) };
}

/** Faults that replace the answer entirely; true when one did. */
function preempt(state: EmulatorState, fault: { kind: FaultKind; fired: number }, req: IncomingMessage, res: ServerResponse): boolean {
  switch (fault.kind) {
    case 'http500':
      sendAnswer(state, res, failure(500, 5000, 'Internal server error'));
      return true;
    case 'http503':
      sendAnswer(state, res, failure(503, 5001, 'Service temporarily unavailable'));
      return true;
    case 'http504':
      sendAnswer(state, res, failure(504, 5002, 'Server timeout'));
      return true;
    case 'rate1302':
      sendAnswer(state, res, failure(429, 1302, 'Request rate too high, please slow down'));
      return true;
    case 'html5xx':
      sendHtml(res, htmlPage(fault.fired % 2 === 1 ? 502 : 504)); // alternate, so a suite sees both
      return true;
    case 'html500':
      sendHtml(res, htmlPage(500));
      return true;
    case 'html503':
      sendHtml(res, htmlPage(503));
      return true;
    case 'storm1303':
      sendAnswer(state, res, failure(429, 1303, 'Parallel task over resource pack limit'));
      return true;
    case 'whitelist1304':
      sendAnswer(state, res, failure(429, 1304, 'IP is not in the whitelist of the account'));
      return true;
    case 'invalid-request500':
      sendJson(res, 500, { error: { code: 'invalid_request', message: 'Invalid request: the upstream refused the request parameters', type: 'comet_api_error' } });
      return true;
    case 'hang':
      return true; // no answer: the client gives up, or close() drops the connection
    case 'reset':
      req.socket.resetAndDestroy();
      return true;
    default:
      return false;
  }
}

async function apiCall(state: EmulatorState, target: Extract<Target, { route: 'create' | 'get' | 'list' }>, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { stats, options } = state;
  stats.request(target.route);
  const text = await readBody(req);
  // A missing list is a gateway's unknown path, answered before any auth; `live` refuses it after.
  if (target.route === 'list' && !options.listSupported && options.profile === 'default') return sendHtml(res, htmlPage(404));
  const auth = authenticate(req.headers.authorization, options.keys);
  if (!('key' in auth)) return sendAnswer(state, res, auth);
  seedAccount(state, auth.key);
  const rate = state.rate.take(auth.key, state.clock.now(), options.rpm, realMs(state, 60));
  if (!rate.ok) {
    // Seconds of real time (emulated seconds × timeScale), fractional when the scale is small.
    const retryAfter = String(Math.ceil(rate.retryAfterMs) / 1000);
    return sendAnswer(state, res, failure(429, 1302, 'Request rate too high, please slow down', { 'Retry-After': retryAfter }));
  }
  const fault = drawFault(state, target.route);
  if (fault && preempt(state, fault, req, res)) return;
  // A gateway sitting on the POST: the task is made only now, whether or not the client still waits.
  if (fault?.kind === 'late-create') await state.clock.sleep(realMs(state, options.lateCreateS));

  let answer: Answer;
  if (target.route === 'create') {
    answer = text === undefined ? failure(400, 1201, `The request body exceeds ${MAX_BODY_BYTES / 1024 / 1024} MB`) : createTask(state, auth.key, text, fault?.kind === 'task-failure');
  } else if (target.route === 'get') {
    answer = getTask(state, auth.key, target.id);
  } else {
    answer = options.listSupported ? listTasks(state, auth.key, target.query) : listRefused();
  }
  if (fault?.kind === 'lost-response') req.socket.destroy(); // the call took effect; the answer never leaves
  else if (fault?.kind === 'hang-after-call') return; // took effect too; the client times out (close() drops it)
  else if (fault?.kind === 'legacy-envelope') sendAnswer(state, res, toLegacy(answer));
  else if (fault?.kind === 'unexpected-json') sendJson(res, 200, { result: answer.body });
  else sendAnswer(state, res, answer, fault?.kind === 'malformed-json');
}

/** What an expired video URL answers, as `staleUrlAnswer` says. */
function sendStale(res: ServerResponse, answer: EmulatorOptions['staleUrlAnswer']): void {
  if (answer === 403 || answer === 500) return sendHtml(res, htmlPage(answer));
  if (answer === 'html') return sendHtml(res, { status: 200, html: '<html><head><title>Link expired</title></head><body><h1>This link has expired</h1></body></html>\r\n' });
  // A cloud bucket's signed-URL refusal: an expired signature (400), or one it does not accept (401).
  const code = answer === 400 ? 'ExpiredToken' : 'AuthenticationFailed';
  const xml = `<?xml version='1.0' encoding='UTF-8'?><Error><Code>${code}</Code><Message>The provided token has expired.</Message></Error>`;
  res.writeHead(answer, { 'Content-Type': 'application/xml; charset=UTF-8', 'Content-Length': Buffer.byteLength(xml) });
  res.end(xml);
}

/** A `stale-url` fault: the token dies now, and the task's next lookup issues a fresh URL (api.ts mints one for an expired link). */
function expireNow(state: EmulatorState, token: string, taskId: string, now: number): void {
  state.links.revoke(token);
  for (const key of state.options.keys) {
    const task = state.store.byTaskId(key, taskId);
    if (task?.link?.token === token) task.link = { token, expiresAt: now };
  }
}

/** The bytes a `Range: bytes=first-[last]` header asks for; undefined for the whole file (no Range, or an If-Range that no longer matches). */
function requestedRange(req: IncomingMessage, length: number, etag: string): { first: number; last: number } | 'unsatisfiable' | undefined {
  const match = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
  const ifRange = req.headers['if-range'];
  if (!match || (ifRange !== undefined && ifRange !== etag)) return undefined;
  const first = Number(match[1]);
  const last = Math.min(match[2] ? Number(match[2]) : length - 1, length - 1);
  return first < length && first <= last ? { first, last } : 'unsatisfiable';
}

/** Video URLs need no key, like a CDN's; an expired token answers as `staleUrlAnswer` says, a forged one 403. */
function download(state: EmulatorState, token: string, req: IncomingMessage, res: ServerResponse): void {
  state.stats.request('download');
  const now = state.clock.now();
  const check = state.links.check(token, now);
  if (!check.ok) return check.reason === 'expired' ? sendStale(res, state.options.staleUrlAnswer) : sendHtml(res, htmlPage(403));
  const fault = drawFault(state, 'download');
  if (fault?.kind === 'lost-response') return void req.socket.destroy();
  if (fault?.kind === 'stale-url') {
    expireNow(state, token, check.taskId, now);
    return sendStale(res, state.options.staleUrlAnswer);
  }
  if (fault && preempt(state, fault, req, res)) return;
  const bytes = videoFor(check.taskId, check.duration);
  // A task's video never changes: its id and length name it.
  const etag = `"${check.taskId}-${check.duration}"`;
  const range = requestedRange(req, bytes.length, etag);
  if (range === 'unsatisfiable') {
    res.writeHead(416, { 'Content-Range': `bytes */${bytes.length}` });
    return void res.end();
  }
  const body = range ? bytes.subarray(range.first, range.last + 1) : bytes;
  const partial = range ? { 'Content-Range': `bytes ${range.first}-${range.last}/${bytes.length}` } : {};
  res.writeHead(range ? 206 : 200, { 'Content-Type': 'video/mp4', 'Content-Length': body.length, 'Accept-Ranges': 'bytes', ETag: etag, ...partial });
  if (req.method === 'HEAD') return void res.end();
  sendVideo(state, fault?.kind, body, req, res);
}

function sendVideo(state: EmulatorState, fault: FaultKind | undefined, body: Buffer, req: IncomingMessage, res: ServerResponse): void {
  const half = Math.floor(body.length / 2);
  // The full length was announced; half arrives, then the connection drops.
  if (fault === 'truncated-download') return void res.write(body.subarray(0, half), () => req.socket.destroy());
  if (fault !== 'stalled-download') return void res.end(body);
  res.write(body.subarray(0, half));
  const timer = setTimeout(() => res.end(body.subarray(half)), realMs(state, state.options.downloadStallS));
  res.once('close', () => clearTimeout(timer));
}

async function configure(control: Control, req: IncomingMessage, res: ServerResponse): Promise<void> {
  try {
    control.configure(JSON.parse((await readBody(req)) ?? ''));
    sendJson(res, 200, { ok: true });
  } catch (error) {
    sendJson(res, 400, { ok: false, error: (error as Error).message });
  }
}

export function requestListener(state: EmulatorState, control: Control): RequestListener {
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const target = targetOf(req.method, new URL(req.url ?? '/', 'http://emulator'));
    switch (target.route) {
      case 'create':
      case 'get':
      case 'list':
        return apiCall(state, target, req, res);
      case 'download':
        return download(state, target.token, req, res);
      case 'stats':
        return sendJson(res, 200, control.stats());
      case 'config':
        return configure(control, req, res);
      default:
        state.stats.request('unknown');
        return sendHtml(res, htmlPage(404));
    }
  };
  return (req, res) => {
    handle(req, res).catch(() => {
      // A client that went away mid-request; or a bug, which must not take the server down.
      if (!res.headersSent && !res.destroyed) sendAnswer(state, res, failure(500, 5000, 'Internal emulator error'));
      else res.destroy();
    });
  };
}
