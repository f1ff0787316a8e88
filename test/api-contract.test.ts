// The client against the real emulator (src/emulator/) over HTTP on 127.0.0.1: every endpoint, in
// both profiles (as documented, and as the live service answers), with the create answers and
// request bodies validated against the provider's OpenAPI document. Error classes and faults are
// in api-contract-errors.test.ts.
import { describe, expect, it } from 'vitest';
import { clientAndEmulator, createBody, waitFor } from './helpers/api-contract.js';
import { providerErrorOf } from './helpers/api-fixtures.js';
import { errorsOf, validateCreateResponse, validateRequestBody } from './helpers/openapi.js';

describe.each(['default', 'live'] as const)('endpoints, %s profile', (profile) => {
  it('creates a task and follows it to a video; wire traffic matches the OpenAPI document', async () => {
    const { client, exchanges } = await clientAndEmulator({ profile });
    const created = await client.createTask(createBody('kr-contract-1'));
    expect(created).toMatchObject({ task_status: 'submitted', task_info: { external_task_id: 'kr-contract-1' } });

    const done = await waitFor(client, created.task_id, 'succeed');
    expect(done.updated_at).toBeGreaterThanOrEqual(done.created_at ?? Infinity);
    const video = done.task_result?.videos?.[0];
    expect(video?.duration).toBe('5');
    const download = await fetch(video?.url ?? '');
    expect(download.status).toBe(200);
    expect(download.headers.get('content-type')).toBe('video/mp4');
    expect((await download.arrayBuffer()).byteLength).toBeGreaterThan(1000);

    const creates = exchanges.filter((e) => e.method === 'POST');
    expect(creates).toHaveLength(1);
    for (const exchange of creates) {
      expect(validateRequestBody(JSON.parse(exchange.requestBody ?? '')), errorsOf(validateRequestBody)).toBe(true);
      expect(validateCreateResponse(JSON.parse(exchange.responseText)), errorsOf(validateCreateResponse)).toBe(true);
    }
  });

  it('validates every successful create answer against the 200 schema, whatever the body', async () => {
    const { client, exchanges } = await clientAndEmulator({ profile, duplicateExternalId: 'return-existing' });
    await client.createTask({ image: 'https://img.example/cat.jpg' });
    await client.createTask(createBody('kr-contract-2', { model_name: 'kling-v1', mode: 'std', duration: '10', cfg_scale: 0.3, negative_prompt: 'blur' }));
    await client.createTask(createBody('kr-contract-2')); // the existing task, returned again
    expect(exchanges).toHaveLength(3);
    for (const exchange of exchanges) {
      expect(exchange.status).toBe(200);
      expect(validateRequestBody(JSON.parse(exchange.requestBody ?? '')), errorsOf(validateRequestBody)).toBe(true);
      expect(validateCreateResponse(JSON.parse(exchange.responseText)), errorsOf(validateCreateResponse)).toBe(true);
    }
  });

  it('looks tasks up by external_task_id when the provider offers it', async () => {
    const { client } = await clientAndEmulator({ profile });
    const created = await client.createTask(createBody('kr-lookup-1'));
    expect(await client.findByExternalId('kr-lookup-1')).toMatchObject({ task_id: created.task_id });
    expect(await client.findByExternalId('kr-never-sent')).toBeNull();
  });

  it('resolves null for external ids when the provider only knows task_id (ambiguous by contract)', async () => {
    const { client, emulator } = await clientAndEmulator({ profile, externalIdLookup: false });
    const created = await client.createTask(createBody('kr-lookup-2'));
    expect(await client.findByExternalId('kr-lookup-2')).toBeNull();
    expect((await client.getTask(created.task_id)).task_id).toBe(created.task_id);
    emulator.configure({ externalIdLookup: true });
    expect(await client.findByExternalId('kr-lookup-2')).toMatchObject({ task_id: created.task_id });
  });

  it('lists tasks newest first, page by page', async () => {
    const { client } = await clientAndEmulator({ profile });
    const ids: string[] = [];
    for (const n of [1, 2, 3]) ids.push((await client.createTask(createBody(`kr-list-${n}`))).task_id);
    expect((await client.listTasks({ pageNum: 1, pageSize: 2 })).map((t) => t.task_id)).toEqual([ids[2], ids[1]]);
    expect((await client.listTasks({ pageNum: 2, pageSize: 2 })).map((t) => t.task_id)).toEqual([ids[0]]);
  });

  it('says "not supported by this provider" when the list is switched off (an HTML 404, or a JSON 400 live)', async () => {
    const { client } = await clientAndEmulator({ profile, listSupported: false });
    const error = await providerErrorOf(client.listTasks({ pageNum: 1, pageSize: 30 }));
    expect(error).toMatchObject({ code: 'unsupported', httpStatus: profile === 'live' ? 400 : 404, retryable: false });
    expect(error.message).toMatch(/^listing tasks is not supported by this provider/);
  });

  it('says not_found for a task id that does not exist', async () => {
    const { client } = await clientAndEmulator({ profile });
    expect(await providerErrorOf(client.getTask('1234567890123456789'))).toMatchObject({ code: 'not_found', errorClass: 'fatal-job', httpStatus: profile === 'live' ? 400 : 404 });
  });
});

describe('the live profile through the client', () => {
  it('reads every shape it sends: nulls as absent, swapped types normalised, final_unit_deduction on the task', async () => {
    const { client, exchanges } = await clientAndEmulator({ profile: 'live' });
    const tasks = [await client.createTask(createBody('kr-live-1')), await client.createTask({ image: 'https://img.example/cat.jpg' })];
    expect(tasks[1]).toEqual({ task_id: expect.any(String), task_status: 'submitted', task_info: { parent_video: null }, created_at: expect.any(Number), updated_at: expect.any(Number), watermark_info: { enabled: false } });
    for (const created of tasks) {
      const done = await waitFor(client, created.task_id, 'succeed');
      expect(done).toMatchObject({ task_id: created.task_id, created_at: created.created_at, updated_at: expect.any(Number) });
      expect(done.task_status_msg).toBeUndefined();
      expect(done.task_result).toEqual({ videos: [{ id: expect.any(String), url: expect.stringMatching(/\.mp4$/), duration: '5', watermark_url: null }] });
      expect(done.final_unit_deduction).toEqual(expect.any(Number));
    }
    const raw = exchanges.filter((e) => e.method === 'GET').map((e) => JSON.parse(e.responseText).data);
    expect(raw.some((task) => typeof task.created_at === 'string')).toBe(true);
    expect(raw.some((task) => typeof task.created_at === 'number')).toBe(true);
  });
});

describe('duplicate external_task_id', () => {
  it('reject: 1201 "external_task_id already exists"', async () => {
    const { client } = await clientAndEmulator({ duplicateExternalId: 'reject' });
    await client.createTask(createBody('kr-dup'));
    const error = await providerErrorOf(client.createTask(createBody('kr-dup')));
    expect(error).toMatchObject({ code: 1201, outcome: 'rejected' });
    expect(error.message).toMatch(/external_task_id already exists/);
  });

  it.each([
    ['return-existing', 1, true],
    ['accept', 2, false],
  ] as const)('%s: %i task(s) billed', async (mode, count, same) => {
    const { client, emulator } = await clientAndEmulator({ duplicateExternalId: mode });
    const first = await client.createTask(createBody('kr-dup'));
    const second = await client.createTask(createBody('kr-dup'));
    expect(second.task_id === first.task_id).toBe(same);
    expect(emulator.stats().tasksByExternalId).toEqual({ 'kr-dup': count });
  });
});
