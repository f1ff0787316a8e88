// The HTTP face of the emulator: routing, auth, the rate limit, and where each fault acts on a
// request. The calls themselves are in api.ts. Order per API request: count → auth → rate limit →
// fault draw → call → answer, so refused requests never consume a scripted fault.
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { createTask, getTask, listRefused, listTasks, realMs, seedAccount, type EmulatorState } from './api.js';
import type { FaultKind, Route } from './options.js';
import type { EmulatorStats } from './stats.js';
import { videoFor } from './videos.js';
import { failure, htmlPage, toLegacy, type Answer, type HtmlPage } from './wire.js';

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
  const full = JSON.stringify(value);
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

/** Video URLs need no key, like a CDN's; an expired or forged token answers 403. */
function download(state: EmulatorState, token: string, req: IncomingMessage, res: ServerResponse): void {
  state.stats.request('download');
  const check = state.links.check(token, state.clock.now());
  if (!check.ok) return sendHtml(res, htmlPage(403));
  const fault = drawFault(state, 'download');
  if (fault?.kind === 'lost-response') return void req.socket.destroy();
  if (fault && preempt(state, fault, req, res)) return;
  const bytes = videoFor(check.taskId, check.duration);
  res.writeHead(200, { 'Content-Type': 'video/mp4', 'Content-Length': bytes.length });
  if (req.method === 'HEAD') return void res.end();
  if (fault?.kind !== 'truncated-download') return void res.end(bytes);
  // The full length was announced; half arrives, then the connection drops.
  res.write(bytes.subarray(0, Math.floor(bytes.length / 2)), () => req.socket.destroy());
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
