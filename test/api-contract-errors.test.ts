// The client against the real emulator: every error class the provider answers with and every
// fault of the API routes, classified as the runner needs (retry? stop? may a task exist?).
import { describe, expect, it } from 'vitest';
import { isModerationMessage } from '../src/api/errors.js';
import { MODERATION_MESSAGE, PROVIDER_FAILURE_MESSAGE } from '../src/emulator/index.js';
import { clientAndEmulator, createBody, waitFor } from './helpers/api-contract.js';
import { providerErrorOf } from './helpers/api-fixtures.js';

describe('error classes', () => {
  it('auth: a key the provider does not accept stops the run', async () => {
    const { client } = await clientAndEmulator({ keys: ['another-key'] });
    const error = await providerErrorOf(client.createTask(createBody('kr-auth')));
    expect(error).toMatchObject({ code: 1002, errorClass: 'fatal-run', outcome: 'rejected', httpStatus: 401 });
  });

  it.each([
    ['an image that is neither URL nor base64', { image: 'not an image!' }, /`image`/],
    ['cfg_scale out of range', { cfg_scale: 2, model_name: 'kling-v1' }, /`cfg_scale`/],
    ['a prompt over 500 characters', { prompt: 'x'.repeat(501) }, /`prompt`/],
  ] as const)('1201: %s fails the job, naming the field', async (_name, extra, field) => {
    const { client, emulator } = await clientAndEmulator();
    const error = await providerErrorOf(client.createTask(createBody('kr-1201', extra)));
    expect(error).toMatchObject({ code: 1201, errorClass: 'fatal-job', outcome: 'rejected', httpStatus: 400 });
    expect(error.message).toMatch(field);
    expect(emulator.stats().tasksCreated).toBe(0);
  });

  it('1301: a prompt with the reject marker is refused at submit', async () => {
    const { client } = await clientAndEmulator();
    const error = await providerErrorOf(client.createTask(createBody('kr-1301', { prompt: 'a cat [[reject]]' })));
    expect(error).toMatchObject({ code: 1301, errorClass: 'fatal-job', outcome: 'rejected' });
  });

  it('1302: over the request rate, with Retry-After', async () => {
    const { client } = await clientAndEmulator({ rpm: 2, timeScale: 0.01 });
    await client.createTask(createBody('kr-1302-a'));
    await client.createTask(createBody('kr-1302-b'));
    const error = await providerErrorOf(client.createTask(createBody('kr-1302-c')));
    expect(error).toMatchObject({ code: 1302, errorClass: 'retryable-rate', outcome: 'rejected', httpStatus: 429 });
    expect(error.retryAfterMs).toBeGreaterThan(0);
    expect(error.retryAfterMs).toBeLessThanOrEqual(600);
  });

  it('1303: over the concurrency limit, and in a 1303 storm', async () => {
    const { client, emulator } = await clientAndEmulator({ concurrency: 1, processingS: 3600 });
    await client.createTask(createBody('kr-1303-a'));
    expect(await providerErrorOf(client.createTask(createBody('kr-1303-b')))).toMatchObject({ code: 1303, errorClass: 'retryable-concurrency', outcome: 'rejected', httpStatus: 429 });
    emulator.configure({ concurrency: 10, faults: [{ kind: 'storm1303', p: 1, count: 1 }] });
    expect(await providerErrorOf(client.createTask(createBody('kr-1303-b')))).toMatchObject({ code: 1303, errorClass: 'retryable-concurrency' });
    expect((await client.createTask(createBody('kr-1303-b'))).task_status).toBe('submitted');
  });

  it('1102: an exhausted balance stops the run', async () => {
    const { client, emulator } = await clientAndEmulator({ balanceUsd: 0 });
    expect(await providerErrorOf(client.createTask(createBody('kr-1102')))).toMatchObject({ code: 1102, errorClass: 'fatal-run', outcome: 'rejected', httpStatus: 429 });
    expect(emulator.stats().http429ByCode[1102]).toBe(1);
  });

  it('1103: a model the account may not use is refused for that model only; the refusal stops its model', async () => {
    const { client, emulator } = await clientAndEmulator({ noAccessModels: ['kling-v3'] });
    const error = await providerErrorOf(client.createTask(createBody('kr-1103', { model_name: 'kling-v3' })));
    expect(error).toMatchObject({ code: 1103, errorClass: 'fatal-job', scope: 'model', outcome: 'rejected', httpStatus: 403 });
    expect(error.fix).toMatch(/access to this model/);
    expect((await client.createTask(createBody('kr-1103-other', { model_name: 'kling-v2-6' }))).task_status).toBe('submitted');
    expect(emulator.stats().tasksCreated).toBe(1);
  });

  it('whitelist1304: an IP off the whitelist is refused on every route, and stops the run', async () => {
    const { client, emulator } = await clientAndEmulator({ faults: [{ kind: 'whitelist1304', p: 1 }] });
    for (const send of [() => client.createTask(createBody('kr-1304')), () => client.getTask('any'), () => client.listTasks({ pageNum: 1, pageSize: 30 })]) {
      expect(await providerErrorOf(send())).toMatchObject({ code: 1304, errorClass: 'fatal-run', scope: 'run', outcome: 'rejected', httpStatus: 429 });
    }
    expect(emulator.stats().tasksCreated).toBe(0);
  });

  it("invalid-request500: the gateway's HTTP 500 invalid_request is a refused request, never retried, nothing made", async () => {
    const { client, emulator } = await clientAndEmulator({ faults: [{ kind: 'invalid-request500', p: 1, on: ['create'] }] });
    const error = await providerErrorOf(client.createTask(createBody('kr-invalid')));
    expect(error).toMatchObject({ code: 'invalid_request', errorClass: 'fatal-job', outcome: 'rejected', retryable: false, httpStatus: 500 });
    expect(error.message).toMatch(/^CometAPI gateway \(comet_api_error\): Invalid request/);
    expect(emulator.stats().tasksCreated).toBe(0);
  });

  it.each([
    ['http500', 5000, 500],
    ['http503', 5001, 503],
  ] as const)('%s: code %i is retryable, and a create may have happened', async (kind, code, status) => {
    const { client } = await clientAndEmulator({ faults: [{ kind, p: 1, on: ['create', 'get'] }] });
    expect(await providerErrorOf(client.createTask(createBody('kr-5xx')))).toMatchObject({ code, errorClass: 'retryable-server', outcome: 'unknown', httpStatus: status });
    expect(await providerErrorOf(client.getTask('any'))).toMatchObject({ code, errorClass: 'retryable-server' });
  });

  it('html5xx: an HTML gateway page is retryable, quoted in a short excerpt', async () => {
    const { client } = await clientAndEmulator({ faults: [{ kind: 'html5xx', p: 1 }] });
    const first = await providerErrorOf(client.createTask(createBody('kr-html')));
    expect(first).toMatchObject({ code: 'http', errorClass: 'retryable-server', outcome: 'unknown', httpStatus: 502 });
    expect(first.excerpt).toMatch(/^<html> <head><title>502 Bad Gateway<\/title>/);
    expect(first.excerpt?.length).toBeLessThanOrEqual(200);
    expect(await providerErrorOf(client.getTask('any'))).toMatchObject({ httpStatus: 504, errorClass: 'retryable-server' });
  });

  it('malformed-json: the cut answer is an unknown outcome, and the task does exist', async () => {
    const { client } = await clientAndEmulator({ faults: [{ kind: 'malformed-json', p: 1, count: 1, on: ['create'] }] });
    const error = await providerErrorOf(client.createTask(createBody('kr-cut')));
    expect(error).toMatchObject({ code: 'bad_response', errorClass: 'retryable-server', outcome: 'unknown', httpStatus: 200 });
    expect(error.message).toMatch(/malformed or truncated JSON/);
    expect(await client.findByExternalId('kr-cut')).toMatchObject({ task_info: { external_task_id: 'kr-cut' } });
  });

  it('legacy-envelope: the older CometAPI wrapper parses to the same task', async () => {
    const { client } = await clientAndEmulator({ faults: [{ kind: 'legacy-envelope', p: 1 }] });
    const created = await client.createTask(createBody('kr-legacy'));
    expect(created).toMatchObject({ task_status: 'submitted', task_info: { external_task_id: 'kr-legacy' } });
    const done = await waitFor(client, created.task_id, 'succeed');
    expect(done.task_result?.videos).toHaveLength(1);
  });

  it('hang: a request with no answer times out, outcome unknown', async () => {
    const { client } = await clientAndEmulator({ faults: [{ kind: 'hang', p: 1 }] }, { timeoutMs: 200 });
    const started = Date.now();
    expect(await providerErrorOf(client.createTask(createBody('kr-hang')))).toMatchObject({ code: 'timeout', errorClass: 'retryable-server', outcome: 'unknown' });
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('lost-response: the task is created, the answer never arrives, and a lookup finds it', async () => {
    const { client, emulator } = await clientAndEmulator({ faults: [{ kind: 'lost-response', p: 1, count: 1, on: ['create'] }] });
    expect(await providerErrorOf(client.createTask(createBody('kr-lost')))).toMatchObject({ code: 'network', errorClass: 'retryable-server', outcome: 'unknown' });
    const found = await client.findByExternalId('kr-lost');
    expect(found?.task_info?.external_task_id).toBe('kr-lost');
    expect(emulator.stats().tasksByExternalId).toEqual({ 'kr-lost': 1 });
  });

  it('reset: a dropped connection is a network error, outcome unknown', async () => {
    const { client, emulator } = await clientAndEmulator({ faults: [{ kind: 'reset', p: 1, count: 1, on: ['create'] }] });
    expect(await providerErrorOf(client.createTask(createBody('kr-reset')))).toMatchObject({ code: 'network', outcome: 'unknown' });
    expect(emulator.stats().tasksCreated).toBe(0);
  });

  it('task-failure: the task ends failed with the provider\'s reason', async () => {
    const { client } = await clientAndEmulator({ faults: [{ kind: 'task-failure', p: 1 }] });
    const created = await client.createTask(createBody('kr-fail'));
    const failed = await waitFor(client, created.task_id, 'failed');
    expect(failed.task_status_msg).toBe(PROVIDER_FAILURE_MESSAGE);
    expect(isModerationMessage(failed.task_status_msg)).toBe(false);
  });

  it('moderation: a prompt with the fail marker ends failed with the risk-control message', async () => {
    const { client } = await clientAndEmulator();
    const created = await client.createTask(createBody('kr-moderate', { prompt: 'a cat [[moderate]]' }));
    const failed = await waitFor(client, created.task_id, 'failed');
    expect(failed.task_status_msg).toBe(MODERATION_MESSAGE);
    expect(isModerationMessage(failed.task_status_msg)).toBe(true);
  });
});
