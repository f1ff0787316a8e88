// The API key must never travel inside an error. Every answer below reflects the key back (the
// worst case: a gateway that echoes the Authorization header), and each resulting error is
// serialised every way a log line or crash report could and searched for the key.
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from '../src/api/client.js';
import { ProviderError } from '../src/api/errors.js';
import type { ProviderClient } from '../src/api/provider.js';
import { envelope, gatewayError, taskJson } from './helpers/api-fixtures.js';
import { type StubReply, type StubServer, startStubServer } from './helpers/stub-server.js';

const KEY = 'sk-SECRET-9f8e7d6c5b4a39281706';
const html = (status: number) => `<html><title>${status}</title><pre>Authorization: Bearer ${KEY}\nkey=${KEY}</pre></html>`;

const htmlReply: StubReply = { status: 502, headers: { 'content-type': 'text/html' }, body: html(502) };

/** Each case: what the stub answers, and the error code it must provoke. */
const CASES: Record<string, { reply: StubReply; code: string | number; call?: 'lookup' | 'list' }> = {
  auth: { reply: { status: 401, body: envelope(null, 1001, `key ${KEY} is invalid`) }, code: 1001 },
  gateway: { reply: { status: 401, body: gatewayError(`Invalid token: Bearer ${KEY}`, 'invalid_api_key') }, code: 'http' },
  html: { reply: htmlReply, code: 'http' },
  empty: { reply: { status: 200, body: '' }, code: 'bad_response' },
  truncated: { reply: { status: 200, body: `{"code":0,"message":"${KEY}","data":{"task_id":"${KEY}` }, code: 'bad_response' },
  'code != 0 on 200': { reply: { status: 200, body: envelope(taskJson(), 1303, `over limit for ${KEY}`) }, code: 1303 },
  'wrong shape': { reply: { status: 200, body: envelope({ task_id: KEY, key: KEY }) }, code: 'bad_response' },
  timeout: { reply: { action: 'hang' }, code: 'timeout' },
  network: { reply: { action: 'reset' }, code: 'network' },
  'unsupported lookup': { reply: { status: 404, body: html(404) }, code: 'unsupported', call: 'lookup' },
  'unsupported list': { reply: { status: 302, headers: { location: `/login?key=${KEY}` }, body: html(302) }, code: 'unsupported', call: 'list' },
};

let server: StubServer;
let client: ProviderClient;
/** Only for the hung answer: a short deadline elsewhere would turn a slow machine's answer into a timeout. */
let impatient: ProviderClient;
let current: StubReply;

beforeAll(async () => {
  server = await startStubServer(() => current);
  client = createClient({ baseUrl: server.url, apiKey: KEY, timeoutMs: 10_000 });
  impatient = createClient({ baseUrl: server.url, apiKey: KEY, timeoutMs: 150 });
});
afterAll(() => server.close());

function expectKeyFree(error: unknown): void {
  const forms = [JSON.stringify(error), inspect(error, { depth: Infinity, showHidden: true }), String(error), (error as Error).stack ?? ''];
  for (const form of forms) expect(form).not.toContain(KEY);
  // The key's distinctive middle part must not survive in pieces either (e.g. a cut excerpt).
  for (const form of forms) expect(form).not.toContain('9f8e7d6c5b4a');
}

describe('no error carries the API key', () => {
  it.each(Object.entries(CASES))('%s', async (_name, { reply, code, call }) => {
    current = reply;
    const before = server.requests.length;
    const attempt =
      call === 'lookup' ? client.findByExternalId('kr-1') : call === 'list' ? client.listTasks({ pageNum: 1, pageSize: 1 }) : (code === 'timeout' ? impatient : client).getTask('t-1');
    const error = await attempt.then(() => undefined, (reason: unknown) => reason);
    expect(error).toBeInstanceOf(ProviderError);
    expect((error as ProviderError).code).toBe(code);
    expectKeyFree(error);
    expect(server.requests[before]?.headers.authorization).toBe(`Bearer ${KEY}`);
  });

  it('a custom fetch that throws with the key in its message and cause', async () => {
    const leaky: typeof fetch = async (_input, init) => {
      const auth = new Headers(init?.headers).get('authorization');
      throw new TypeError(`header ${auth} rejected`, { cause: { headers: { authorization: auth } } });
    };
    const error = await createClient({ apiKey: KEY, fetch: leaky }).getTask('t').then(() => undefined, (reason: unknown) => reason);
    expect(error).toMatchObject({ code: 'network', message: expect.stringContaining('header Bearer *** rejected') });
    expectKeyFree(error);
  });

  it('a key echoed back URL-encoded', async () => {
    const key = 'sk+SECRET/9f8e7d6c5b4a=39281706';
    const encoded = encodeURIComponent(key);
    expect(encoded).not.toBe(key);
    const echo = await startStubServer(() => ({ status: 302, headers: { location: `/login?key=${encoded}` }, body: `<html>redirecting to /login?key=${encoded}</html>` }));
    try {
      const error = await createClient({ baseUrl: echo.url, apiKey: key }).listTasks({ pageNum: 1, pageSize: 1 }).then(() => undefined, (reason: unknown) => reason);
      expect(error).toMatchObject({ code: 'unsupported', excerpt: '<html>redirecting to /login?key=***</html>' });
      for (const form of [JSON.stringify(error), inspect(error, { depth: Infinity, showHidden: true }), String(error)]) {
        expect(form).not.toContain(encoded);
        expect(form).not.toContain('9f8e7d6c5b4a');
      }
    } finally {
      await echo.close();
    }
  });

  it("a failed task's message that echoes the key: the task comes back without it", async () => {
    const failed = taskJson({ task_status: 'failed', task_status_msg: `request with Authorization: Bearer ${KEY} and key=${KEY} was rejected` });
    current = { status: 200, body: envelope(failed) };
    const task = await client.getTask('t-1');
    expect(task.task_status_msg).toBe('request with Authorization: Bearer *** and key=*** was rejected');
    current = { status: 200, body: envelope([failed]) };
    const [listed] = await client.listTasks({ pageNum: 1, pageSize: 1 });
    expect(JSON.stringify(listed)).not.toContain('9f8e7d6c5b4a');
  });

  it('excerpts really do quote the reflected answers (the search above can fail)', async () => {
    current = htmlReply;
    const error = await client.getTask('t-1').then(() => undefined, (reason: unknown) => reason);
    expect((error as ProviderError).excerpt).toContain('Authorization: Bearer *** key=***');
  });
});
