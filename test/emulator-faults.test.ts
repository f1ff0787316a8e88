import { describe, expect, it } from 'vitest';
import { isModerationMessage } from '../src/api/errors.js';
import { legacyDataSchema, taskSchema } from '../src/api/schemas.js';
import { PROVIDER_FAILURE_MESSAGE, startEmulator, type EmulatorHandle, type EmulatorOptionsInput } from '../src/emulator/index.js';
import { body, call, create, emulator, get, manualClock, TASKS } from './helpers/emulator.js';

/** A succeeded task's video URL. */
async function videoUrl(emu: EmulatorHandle): Promise<string> {
  const id = (await create(emu, body())).json.data.task_id;
  return (await get(emu, id)).json.data.task_result.videos[0].url;
}

const instant = (faults: EmulatorOptionsInput['faults']) => ({ clock: manualClock(), queueS: 0, processingS: 0, faults });

describe('emulator faults: answers that replace the real one', () => {
  it('http500: HTTP 500 with code 5000, nothing created; count 1 fires once', async () => {
    const emu = await emulator({ faults: [{ kind: 'http500', count: 1 }] });
    const reply = await create(emu, body());
    expect([reply.status, reply.json.code]).toEqual([500, 5000]);
    expect(emu.stats()).toMatchObject({ tasksCreated: 0, faultsFired: { http500: 1 } });
    expect((await create(emu, body())).status).toBe(200);
  });

  it('http503: HTTP 503 with code 5001, only on the routes in `on`', async () => {
    const emu = await emulator({ faults: [{ kind: 'http503', on: ['get'] }] });
    const id = (await create(emu, body())).json.data.task_id;
    const reply = await get(emu, id);
    expect([reply.status, reply.json.code]).toEqual([503, 5001]);
    expect((await call(emu, 'GET', TASKS)).status).toBe(200);
  });

  it('html5xx: alternating 502 and 504 HTML pages', async () => {
    const emu = await emulator({ faults: [{ kind: 'html5xx', count: 2 }] });
    const first = await call(emu, 'GET', TASKS);
    const second = await call(emu, 'GET', TASKS);
    expect([first.status, second.status]).toEqual([502, 504]);
    expect(first.headers.get('content-type')).toContain('text/html');
    expect(first.text).toContain('502 Bad Gateway');
    expect(first.json).toBeUndefined();
  });

  it('storm1303: HTTP 429 code 1303 whatever the concurrency', async () => {
    const emu = await emulator({ concurrency: 100, faults: [{ kind: 'storm1303', count: 3 }] });
    for (let i = 0; i < 3; i++) expect((await create(emu, body())).json.code).toBe(1303);
    expect((await create(emu, body())).status).toBe(200);
    expect(emu.stats()).toMatchObject({ tasksCreated: 1, http429ByCode: { 1303: 3 }, faultsFired: { storm1303: 3 } });
  });

  it('http500 and html5xx also hit video downloads', async () => {
    const emu = await emulator(instant([{ kind: 'http500', on: ['download'], count: 1 }, { kind: 'html5xx', on: ['download'], count: 1 }]));
    const url = await videoUrl(emu);
    expect((await fetch(url)).status).toBe(500);
    expect((await fetch(url)).status).toBe(502);
    expect((await fetch(url)).status).toBe(200);
  });
});

describe('emulator faults: broken connections', () => {
  it('hang: no answer until the client gives up; the emulator keeps serving and closes anyway', async () => {
    const emu = await startEmulator({ faults: [{ kind: 'hang', count: 2 }] });
    const started = Date.now();
    await expect(call(emu, 'GET', TASKS, { timeoutMs: 150 })).rejects.toThrow(/abort|timeout/i);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    const pending = call(emu, 'GET', TASKS, { timeoutMs: 5000 }); // hangs until close() drops it
    await new Promise((resolve) => setTimeout(resolve, 50));
    const closing = Date.now();
    await emu.close();
    await expect(pending).rejects.toThrow();
    expect(Date.now() - closing).toBeLessThan(1000);
    expect(emu.stats().faultsFired).toEqual({ hang: 2 });
  });

  it('lost-response on create: the task IS created and billed, the answer never arrives', async () => {
    const emu = await emulator({ faults: [{ kind: 'lost-response', on: ['create'], count: 1 }] });
    await expect(create(emu, body({ external_task_id: 'lost-1' }))).rejects.toThrow(/fetch failed/);
    expect(emu.stats()).toMatchObject({ tasksCreated: 1, tasksByExternalId: { 'lost-1': 1 }, billedUsd: 0.1 });
    const found = await get(emu, 'lost-1');
    expect(found.json.data.task_info.external_task_id).toBe('lost-1');
  });

  it('lost-response on queries and downloads, and reset on the list: the connection drops', async () => {
    const emu = await emulator(instant([{ kind: 'lost-response', on: ['get', 'download'], count: 2 }, { kind: 'reset', on: ['list'], count: 1 }]));
    const id = (await create(emu, body())).json.data.task_id;
    await expect(get(emu, id)).rejects.toThrow(/fetch failed/);
    await expect(call(emu, 'GET', TASKS)).rejects.toThrow(/fetch failed/);
    const url: string = (await call(emu, 'GET', TASKS)).json.data[0].task_result.videos[0].url;
    await expect(fetch(url)).rejects.toThrow(/fetch failed/);
    expect((await fetch(url)).status).toBe(200);
    expect(emu.stats()).toMatchObject({ tasksCreated: 1, faultsFired: { 'lost-response': 2, reset: 1 } });
  });

  it('reset on create: the socket is destroyed and no task exists', async () => {
    const emu = await emulator({ faults: [{ kind: 'reset', count: 1 }] });
    await expect(create(emu, body({ external_task_id: 'r' }))).rejects.toThrow(/fetch failed/);
    expect(emu.stats()).toMatchObject({ tasksCreated: 0, tasksByExternalId: {}, faultsFired: { reset: 1 } });
  });

  it('truncated-download: the full Content-Length is announced, half the bytes arrive', async () => {
    const emu = await emulator(instant([{ kind: 'truncated-download', count: 1 }]));
    const url = await videoUrl(emu);
    const response = await fetch(url);
    const announced = Number(response.headers.get('content-length'));
    let received = 0;
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const failure = await (async () => {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return undefined;
        received += value.length;
      }
    })().catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(Error);
    expect(received).toBeGreaterThan(0);
    expect(received).toBeLessThan(announced);
    const whole = Buffer.from(await (await fetch(url)).arrayBuffer());
    expect(whole.length).toBe(announced);
  });
});

describe('emulator faults: answers that arrive changed', () => {
  it('malformed-json: HTTP 200 with a truncated body, and the create took effect', async () => {
    const emu = await emulator({ faults: [{ kind: 'malformed-json', on: ['create'], count: 1 }] });
    const reply = await create(emu, body({ external_task_id: 'm' }));
    expect(reply.status).toBe(200);
    expect(reply.json).toBeUndefined();
    expect(reply.text).toMatch(/^\{"code":0/);
    expect(emu.stats().tasksByExternalId).toEqual({ m: 1 });
  });

  it('legacy-envelope: the task under data.data, with data.status and data.progress', async () => {
    const clock = manualClock();
    const emu = await emulator({ clock, queueS: 0, processingS: 1, faults: [{ kind: 'legacy-envelope', on: ['get'] }] });
    const id = (await create(emu, body())).json.data.task_id;
    const processing = (await get(emu, id)).json;
    expect(processing).toMatchObject({ code: 0, data: { status: 'IN_PROGRESS', progress: '50%', data: { task_id: id, task_status: 'processing' } } });
    clock.advance(1000);
    const done = (await get(emu, id)).json;
    const legacy = legacyDataSchema.parse(done.data);
    expect(legacy).toMatchObject({ status: 'SUCCESS', progress: '100%' });
    expect(taskSchema.parse(legacy.data).task_result?.videos?.[0]?.url).toMatch(/\.mp4$/);
  });

  it('task-failure: the task ends failed with a provider message that is not moderation', async () => {
    const clock = manualClock();
    const emu = await emulator({ clock, queueS: 0, processingS: 1, faults: [{ kind: 'task-failure', count: 1 }] });
    const failing = (await create(emu, body())).json.data.task_id;
    const fine = (await create(emu, body())).json.data.task_id;
    clock.advance(1000);
    const failed = (await get(emu, failing)).json.data;
    expect(failed).toMatchObject({ task_status: 'failed', task_status_msg: PROVIDER_FAILURE_MESSAGE });
    expect(isModerationMessage(failed.task_status_msg)).toBe(false);
    expect((await get(emu, fine)).json.data.task_status).toBe('succeed');
  });
});

describe('emulator faults: drawing', () => {
  const pattern = async (seed: number, p: number): Promise<number[]> => {
    const emu = await emulator({ seed, faults: [{ kind: 'http500', p, on: ['list'] }] });
    const statuses: number[] = [];
    for (let i = 0; i < 24; i++) statuses.push((await call(emu, 'GET', TASKS)).status);
    return statuses;
  };

  it('draws from the seeded PRNG: the same seed gives the same faults, another seed others', async () => {
    const first = await pattern(42, 0.5);
    expect(await pattern(42, 0.5)).toEqual(first);
    expect(first).toContain(500);
    expect(first).toContain(200);
    expect(await pattern(7, 0.5)).not.toEqual(first);
    expect(await pattern(42, 0)).not.toContain(500);
  });

  it('applies the first matching fault in list order, and configure() re-arms the list', async () => {
    const emu = await emulator({ faults: [{ kind: 'http503', count: 1 }, { kind: 'http500', count: 1 }] });
    expect((await call(emu, 'GET', TASKS)).status).toBe(503);
    expect((await call(emu, 'GET', TASKS)).status).toBe(500);
    expect((await call(emu, 'GET', TASKS)).status).toBe(200);
    emu.configure({ faults: [{ kind: 'http503', p: 1, count: 1 }] });
    expect((await call(emu, 'GET', TASKS)).status).toBe(503);
    expect(emu.stats().faultsFired).toEqual({ http503: 2, http500: 1 });
  });

  it('does not spend a fault on a request refused by auth or the rate limit', async () => {
    const emu = await emulator({ rpm: 1, faults: [{ kind: 'http500', count: 1 }] });
    await call(emu, 'GET', TASKS, { key: 'wrong' });
    expect((await call(emu, 'GET', TASKS)).status).toBe(500);
    expect((await call(emu, 'GET', TASKS)).status).toBe(429);
    expect(emu.stats().faultsFired).toEqual({ http500: 1 });
  });
});
