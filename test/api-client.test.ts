import { afterEach, describe, expect, it } from 'vitest';
import { createClient } from '../src/api/client.js';
import type { CreateTaskBody } from '../src/api/schemas.js';
import { InputError } from '../src/errors.js';
import { VERSION } from '../src/version.js';
import { envelope, gatewayError, legacyEnvelope, providerErrorOf, taskJson } from './helpers/api-fixtures.js';
import { type RecordedRequest, type StubReply, type StubServer, startStubServer } from './helpers/stub-server.js';

const KEY = 'sk-client-test-key-42';
const BODY: CreateTaskBody = { image: 'https://img.example/a.jpg', prompt: 'slow push-in', model_name: 'kling-v2-6', mode: 'pro', duration: '5', external_task_id: 'kr-abc-1' };

let server: StubServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function clientFor(reply: (request: RecordedRequest) => StubReply, options: { timeoutMs?: number; userAgent?: string; slash?: boolean } = {}) {
  server = await startStubServer(reply);
  const client = createClient({ baseUrl: `${server.url}${options.slash ? '/' : ''}`, apiKey: KEY, timeoutMs: options.timeoutMs, userAgent: options.userAgent });
  return { client, requests: server.requests };
}

describe('requests', () => {
  it('creates a task with the documented headers and body', async () => {
    const { client, requests } = await clientFor(() => ({ body: envelope(taskJson()) }), { slash: true });
    const task = await client.createTask(BODY);
    expect(task.task_id).toBe('2032273942220931072');
    expect(requests).toHaveLength(1);
    const [request] = requests;
    expect(request).toMatchObject({ method: 'POST', url: '/kling/v1/videos/image2video' });
    expect(request?.headers).toMatchObject({
      authorization: `Bearer ${KEY}`,
      'user-agent': `klingrun/${VERSION}`,
      accept: 'application/json',
      'content-type': 'application/json',
    });
    expect(JSON.parse(request?.body ?? '')).toEqual(BODY);
  });

  it('gets a task by id (path-encoded), with a custom User-Agent and no Content-Type', async () => {
    const { client, requests } = await clientFor(() => ({ body: legacyEnvelope(taskJson({ task_id: 'a/b' })) }), { userAgent: 'test-agent/1' });
    expect((await client.getTask('a/b')).task_id).toBe('a/b');
    expect(requests[0]).toMatchObject({ method: 'GET', url: '/kling/v1/videos/image2video/a%2Fb' });
    expect(requests[0]?.headers['user-agent']).toBe('test-agent/1');
    expect(requests[0]?.headers['content-type']).toBeUndefined();
  });

  it('lists tasks with pageNum and pageSize, and checks their ranges before sending', async () => {
    const { client, requests } = await clientFor(() => ({ body: envelope([taskJson({ task_id: 'n' }), taskJson({ task_id: 'o' })]) }));
    const tasks = await client.listTasks({ pageNum: 2, pageSize: 500 });
    expect(tasks.map((t) => t.task_id)).toEqual(['n', 'o']);
    expect(requests[0]?.url).toBe('/kling/v1/videos/image2video?pageNum=2&pageSize=500');
    await expect(client.listTasks({ pageNum: 0, pageSize: 10 })).rejects.toThrow('Expected `pageNum` to be an integer from 1 to 1000, got `0` (number)');
    await expect(client.listTasks({ pageNum: 1, pageSize: 501 })).rejects.toThrow(RangeError);
    expect(requests).toHaveLength(1);
  });

  it('uses the injected fetch', async () => {
    const urls: string[] = [];
    const fetchStub: typeof fetch = async (input) => {
      urls.push(String(input));
      return new Response(JSON.stringify(envelope(taskJson())), { status: 200 });
    };
    const client = createClient({ apiKey: KEY, fetch: fetchStub });
    await client.getTask('t1');
    expect(urls).toEqual(['https://api.cometapi.com/kling/v1/videos/image2video/t1']);
  });
});

describe('lookup by external_task_id', () => {
  it('resolves the task', async () => {
    const { client, requests } = await clientFor(() => ({ body: envelope(taskJson()) }));
    expect(await client.findByExternalId('kr-abc-1')).toMatchObject({ task_info: { external_task_id: 'kr-abc-1' } });
    expect(requests[0]?.url).toBe('/kling/v1/videos/image2video/kr-abc-1');
  });

  it.each([
    ['code 1203 on a 404', { status: 404, body: envelope(null, 1203, 'task not found') }],
    ['code 1203 on a 200', { status: 200, body: envelope(null, 1203, 'task not found') }],
    ['another Kling code on a 404', { status: 404, body: envelope(null, 1200, 'no such resource') }],
    ['the live service\'s 400 with code 1201 "Task not found by id"', { status: 400, body: envelope(null, 1201, 'Task not found by id kr-missing') }],
    ['a gateway 400 with code 1201 "not found"', { status: 400, body: gatewayError('Task not found by id kr-missing', '1201') }],
  ])('resolves null on %s', async (_name, reply) => {
    const { client } = await clientFor(() => reply);
    expect(await client.findByExternalId('kr-missing')).toBeNull();
  });

  it.each([
    ['an HTML 404', { status: 404, headers: { 'content-type': 'text/html' }, body: '<html><body>Not Found</body></html>' }],
    ['a redirect', { status: 302, headers: { location: '/login' } }],
    ['a 405', { status: 405, body: '' }],
  ])('says "not supported by this provider" on %s', async (_name, reply) => {
    const { client } = await clientFor(() => reply);
    const error = await providerErrorOf(client.findByExternalId('kr-abc-1'));
    expect(error.code).toBe('unsupported');
    expect(error.message).toMatch(/^looking up tasks by external_task_id is not supported by this provider/);
  });

  it('resolves null when the answer names another external_task_id (the slot was read as something else)', async () => {
    const { client } = await clientFor(() => ({ body: envelope(taskJson({ task_info: { external_task_id: 'kr-other' } })) }));
    expect(await client.findByExternalId('kr-abc-1')).toBeNull();
  });

  it('takes an answer without an external_task_id for the task asked about', async () => {
    const { client } = await clientFor(() => ({ body: envelope(taskJson({ task_info: { external_task_id: null } })) }));
    expect(await client.findByExternalId('kr-abc-1')).toMatchObject({ task_id: '2032273942220931072' });
  });

  it('says "not supported by this provider" on any other JSON refusal of the lookup', async () => {
    const { client } = await clientFor(() => ({ status: 400, body: envelope(null, 1201, 'Invalid task_id format') }));
    expect(await providerErrorOf(client.findByExternalId('kr-abc-1'))).toMatchObject({ code: 'unsupported', errorClass: 'fatal-job' });
  });

  it('still throws other errors', async () => {
    const { client } = await clientFor(() => ({ status: 401, body: envelope(null, 1001, 'key invalid') }));
    expect(await providerErrorOf(client.findByExternalId('kr-abc-1'))).toMatchObject({ code: 1001, errorClass: 'fatal-run' });
  });

  it.each([
    ['a Kling 400', { status: 400, body: envelope(null, 1201, 'Invalid request parameters: a task id is required') }],
    ['a gateway 400', { status: 400, body: gatewayError('Invalid request', 'invalid_request') }],
  ])('says the list is not supported on %s', async (_name, reply) => {
    const { client } = await clientFor(() => reply);
    const error = await providerErrorOf(client.listTasks({ pageNum: 1, pageSize: 30 }));
    expect(error).toMatchObject({ code: 'unsupported', errorClass: 'fatal-job', retryable: false, httpStatus: 400 });
  });

  it('keeps an auth refusal of the list fatal for the run', async () => {
    const { client } = await clientFor(() => ({ status: 401, body: envelope(null, 1002, 'Authorization is invalid') }));
    expect(await providerErrorOf(client.listTasks({ pageNum: 1, pageSize: 30 }))).toMatchObject({ code: 1002, errorClass: 'fatal-run' });
  });

  it('says the list is not supported on an HTML 404', async () => {
    const { client } = await clientFor(() => ({ status: 404, body: '<html>nope</html>' }));
    const error = await providerErrorOf(client.listTasks({ pageNum: 1, pageSize: 30 }));
    expect(error).toMatchObject({ code: 'unsupported', message: expect.stringMatching(/^listing tasks is not supported by this provider/) });
  });
});

describe('get by task_id', () => {
  it.each([
    ['Kling\'s 404 with code 1203', { status: 404, body: envelope(null, 1203, 'task not found') }],
    ['the live service\'s 400 with code 1201 "Task not found by id"', { status: 400, body: envelope(null, 1201, 'Task not found by id 123') }],
  ])('throws code not_found on %s', async (_name, reply) => {
    const { client } = await clientFor(() => reply);
    expect(await providerErrorOf(client.getTask('123'))).toMatchObject({ code: 'not_found', errorClass: 'fatal-job', outcome: 'rejected' });
  });

  it('reads a task full of nulls', async () => {
    const { client } = await clientFor(() => ({ body: envelope(taskJson({ task_status_msg: null, task_info: { external_task_id: null }, task_result: null })) }));
    expect(await client.getTask('2032273942220931072')).toEqual({ task_id: '2032273942220931072', task_status: 'submitted', task_info: {}, created_at: 1773366840306, updated_at: 1773366840306 });
  });
});

describe('errors', () => {
  it('surfaces body code, request id and Retry-After of a refusal', async () => {
    const { client } = await clientFor(() => ({ status: 429, headers: { 'retry-after': '1.5' }, body: envelope(null, 1302, 'rate limit') }));
    const error = await providerErrorOf(client.createTask(BODY));
    expect(error).toMatchObject({ code: 1302, errorClass: 'retryable-rate', outcome: 'rejected', httpStatus: 429, retryAfterMs: 1500, requestId: 'req-1' });
  });

  it('treats a gateway auth error as a clear refusal', async () => {
    const { client } = await clientFor(() => ({ status: 401, body: gatewayError('invalid token', 'invalid_api_key') }));
    expect(await providerErrorOf(client.createTask(BODY))).toMatchObject({ errorClass: 'fatal-run', outcome: 'rejected' });
  });

  it('times out a hung request: retryable, outcome unknown', async () => {
    const { client } = await clientFor(() => ({ action: 'hang' }), { timeoutMs: 100 });
    const started = Date.now();
    const error = await providerErrorOf(client.createTask(BODY));
    expect(Date.now() - started).toBeLessThan(2000);
    expect(error).toMatchObject({ code: 'timeout', errorClass: 'retryable-server', retryable: true, outcome: 'unknown' });
    expect(error.message).toBe('no answer within 100 ms (POST /kling/v1/videos/image2video)');
  });

  it.each([
    ['a reset before the answer', { action: 'reset' } as const],
    ['a connection dropped mid-body', { action: 'partial', body: '{"code":0,"data":{' } as const],
  ])('reports %s as a network error with outcome unknown', async (_name, reply) => {
    const { client } = await clientFor(() => reply);
    const error = await providerErrorOf(client.createTask(BODY));
    expect(error).toMatchObject({ code: 'network', errorClass: 'retryable-server', outcome: 'unknown' });
    expect(error.message).toMatch(/^connection failed: /);
  });

  it('reports a refused connection as unreachable: nothing was sent, so no task can exist', async () => {
    const closed = await startStubServer(() => ({ body: '' }));
    await closed.close();
    const client = createClient({ baseUrl: closed.url, apiKey: KEY });
    expect(await providerErrorOf(client.createTask({ image: 'https://x.test/a.png' }))).toMatchObject({
      code: 'unreachable',
      outcome: 'rejected',
      retryable: true,
      message: expect.stringMatching(new RegExp(`^cannot connect to ${closed.url}: .*ECONNREFUSED`)),
    });
  });

  it('reports an unknown host as unreachable', async () => {
    const client = createClient({ baseUrl: 'http://no-such-host.invalid', apiKey: KEY });
    expect(await providerErrorOf(client.getTask('t1'))).toMatchObject({ code: 'unreachable', message: expect.stringMatching(/ENOTFOUND|EAI_AGAIN/) });
  });

  it("rethrows the caller's abort reason instead of a ProviderError", async () => {
    const { client } = await clientFor(() => ({ action: 'hang' }));
    const controller = new AbortController();
    const reason = new Error('stopping');
    setTimeout(() => controller.abort(reason), 50);
    await expect(client.getTask('t1', { signal: controller.signal })).rejects.toBe(reason);
  });
});

describe('options', () => {
  it.each([[''], ['has space'], ['ends-with-newline\n']])('refuses the API key %j without echoing it', (apiKey) => {
    let thrown: unknown;
    try {
      createClient({ apiKey });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(InputError);
    expect((thrown as Error).message).toMatch(/^Expected the API key to be a non-empty string/);
    if (apiKey) expect((thrown as Error).message).not.toContain(apiKey.trim());
  });

  it('refuses a bad base URL or timeout', () => {
    expect(() => createClient({ apiKey: KEY, baseUrl: 'ftp://x' })).toThrow('Expected `baseUrl` to be an http(s) URL, got `ftp://x` (string)');
    expect(() => createClient({ apiKey: KEY, timeoutMs: 0 })).toThrow('Expected `timeoutMs` to be a number > 0, got `0` (number)');
  });
});
