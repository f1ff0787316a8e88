import { describe, expect, it } from 'vitest';
import { taskSchema } from '../src/api/schemas.js';
import { MODERATION_MESSAGE } from '../src/emulator/index.js';
import { body, call, create, emulator, get, KEY, manualClock, probeMp4, TASKS } from './helpers/emulator.js';

describe('emulator: task lifecycle', () => {
  it('moves submitted → processing → succeed on the emulated clock, scaled by timeScale', async () => {
    const clock = manualClock();
    // timeScale 0.01: 5 s queue = 50 real ms, 60 s processing = 600 real ms.
    const emu = await emulator({ clock, timeScale: 0.01 });
    const created = await create(emu, body({ external_task_id: 'job-1', duration: '10' }));
    expect(created.status).toBe(200);
    expect(created.json).toMatchObject({ code: 0, message: 'success', data: { task_status: 'submitted', task_info: { external_task_id: 'job-1' } } });
    expect(created.json.request_id).toEqual(expect.any(String));
    const task = taskSchema.parse(created.json.data);
    expect(task.task_id).toMatch(/^\d{19}$/);
    const start = clock.now();
    expect(task.created_at).toBe(start);

    clock.advance(49);
    expect((await get(emu, task.task_id)).json.data.task_status).toBe('submitted');
    clock.advance(1);
    const processing = (await get(emu, task.task_id)).json.data;
    expect(processing).toMatchObject({ task_status: 'processing', updated_at: start + 50 });
    expect(processing.task_result).toBeUndefined();
    clock.advance(599);
    expect((await get(emu, task.task_id)).json.data.task_status).toBe('processing');
    clock.advance(1);
    const done = taskSchema.parse((await get(emu, task.task_id)).json.data);
    expect(done).toMatchObject({ task_status: 'succeed', created_at: start, updated_at: start + 650 });
    expect(done.task_result?.videos).toEqual([{ id: expect.any(String), url: expect.stringMatching(new RegExp(`^${emu.url}/__videos/.+\\.mp4$`)), duration: '10' }]);
  });

  it('uses the per-duration processing time when one is given', async () => {
    const clock = manualClock();
    const emu = await emulator({ clock, queueS: 0, processingS: 10, processingSByDuration: { '10': 20 } });
    const five = (await create(emu, body())).json.data.task_id;
    const ten = (await create(emu, body({ duration: '10' }))).json.data.task_id;
    clock.advance(10_000);
    expect((await get(emu, five)).json.data.task_status).toBe('succeed');
    expect((await get(emu, ten)).json.data.task_status).toBe('processing');
  });

  it('fails a prompt with the moderation marker with the risk-control message, still code 0', async () => {
    const clock = manualClock();
    const emu = await emulator({ clock, queueS: 0, processingS: 1 });
    const id = (await create(emu, body({ prompt: 'a cat [[moderate]]' }))).json.data.task_id;
    clock.advance(1000);
    const reply = await get(emu, id);
    expect(reply.json).toMatchObject({ code: 0, data: { task_status: 'failed', task_status_msg: MODERATION_MESSAGE } });
    expect(reply.json.data.task_result).toBeUndefined();
  });

  it('refuses a prompt with the reject marker at submit (1301) and bills nothing', async () => {
    const emu = await emulator({ rejectMarker: '!!no!!' });
    const reply = await create(emu, body({ prompt: 'x !!no!! y' }));
    expect(reply.status).toBe(400);
    expect(reply.json.code).toBe(1301);
    expect(emu.stats()).toMatchObject({ tasksCreated: 0, billedUsd: 0 });
  });
});

describe('emulator: auth', () => {
  it('answers 401 with 1001 (no header), 1000 (not Bearer), 1002 (unknown key), never echoing the key', async () => {
    const emu = await emulator({ keys: ['good-key'] });
    const missing = await call(emu, 'POST', TASKS, { body: body(), key: null });
    expect([missing.status, missing.json.code]).toEqual([401, 1001]);
    const basic = await call(emu, 'GET', `${TASKS}/1`, { key: null, headers: { Authorization: 'Basic Zm9vOmJhcg==' } });
    expect([basic.status, basic.json.code]).toEqual([401, 1000]);
    const wrong = await call(emu, 'GET', `${TASKS}?pageNum=1`, { key: 'secret-wrong-key-123' });
    expect([wrong.status, wrong.json.code]).toEqual([401, 1002]);
    expect(wrong.text).not.toContain('secret-wrong-key-123');
    expect((await create(emu, body(), 'good-key')).status).toBe(200);
    expect(emu.stats().tasksCreated).toBe(1);
  });

  it('revokes a key at runtime through configure()', async () => {
    const emu = await emulator();
    expect((await create(emu, body())).status).toBe(200);
    emu.configure({ keys: ['other'] });
    expect((await create(emu, body())).json.code).toBe(1002);
  });

  it('keeps tasks private to the key that created them', async () => {
    const emu = await emulator({ keys: ['a', 'b'] });
    const id = (await create(emu, body({ external_task_id: 'mine' }), 'a')).json.data.task_id;
    expect((await get(emu, id, 'b')).status).toBe(404);
    expect((await get(emu, 'mine', 'b')).status).toBe(404);
    expect((await call(emu, 'GET', TASKS, { key: 'b' })).json.data).toEqual([]);
  });
});

describe('emulator: duplicate external_task_id', () => {
  it('reject: HTTP 400, code 1201, "external_task_id already exists", nothing billed twice', async () => {
    const emu = await emulator({ duplicateExternalId: 'reject' });
    expect((await create(emu, body({ external_task_id: 'dup' }))).status).toBe(200);
    const again = await create(emu, body({ external_task_id: 'dup' }));
    expect(again.status).toBe(400);
    expect(again.json).toMatchObject({ code: 1201, message: 'external_task_id already exists' });
    expect(emu.stats()).toMatchObject({ tasksCreated: 1, tasksByExternalId: { dup: 1 } });
  });

  it('return-existing: answers with the existing task, creates nothing', async () => {
    const emu = await emulator({ duplicateExternalId: 'return-existing' });
    const first = (await create(emu, body({ external_task_id: 'dup' }))).json.data.task_id;
    const again = await create(emu, body({ external_task_id: 'dup' }));
    expect(again.status).toBe(200);
    expect(again.json.data.task_id).toBe(first);
    expect(emu.stats()).toMatchObject({ tasksCreated: 1, tasksByExternalId: { dup: 1 }, billedUsd: 0.1 });
  });

  it('accept: creates and bills a second task; a lookup finds the newest', async () => {
    const emu = await emulator({ duplicateExternalId: 'accept' });
    const first = (await create(emu, body({ external_task_id: 'dup' }))).json.data.task_id;
    const second = (await create(emu, body({ external_task_id: 'dup' }))).json.data.task_id;
    expect(second).not.toBe(first);
    expect(emu.stats()).toMatchObject({ tasksCreated: 2, tasksByExternalId: { dup: 2 }, billedUsd: 0.2 });
    expect((await get(emu, 'dup')).json.data.task_id).toBe(second);
  });
});

describe('emulator: lookups and the list', () => {
  it('finds a task by external_task_id in the id slot, or answers like an unknown id when lookups are off', async () => {
    const emu = await emulator();
    const id = (await create(emu, body({ external_task_id: 'ext-7' }))).json.data.task_id;
    expect((await get(emu, 'ext-7')).json.data.task_id).toBe(id);
    const unknown = await get(emu, '999');
    expect([unknown.status, unknown.json.code]).toEqual([404, 1203]);

    emu.configure({ externalIdLookup: false });
    const off = await get(emu, 'ext-7');
    expect([off.status, off.json.code, off.json.message]).toEqual([unknown.status, unknown.json.code, unknown.json.message]);
    expect((await get(emu, id)).json.data.task_id).toBe(id);
  });

  it('pages newest first and validates pageNum and pageSize', async () => {
    const clock = manualClock();
    const emu = await emulator({ clock });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push((await create(emu, body({ external_task_id: `e${i}` }))).json.data.task_id);
      clock.advance(10);
    }
    const page = async (query: string) => (await call(emu, 'GET', `${TASKS}?${query}`)).json.data.map((t: { task_id: string }) => t.task_id);
    expect(await page('pageNum=1&pageSize=2')).toEqual([ids[4], ids[3]]);
    expect(await page('pageNum=3&pageSize=2')).toEqual([ids[0]]);
    expect(await page('pageNum=4&pageSize=2')).toEqual([]);
    expect(await page('')).toEqual([...ids].reverse());
    for (const [query, field] of [['pageNum=0', 'pageNum'], ['pageNum=1001', 'pageNum'], ['pageSize=501', 'pageSize'], ['pageSize=x', 'pageSize'], ['pageNum=1.5', 'pageNum']]) {
      const bad = await call(emu, 'GET', `${TASKS}?${query}`);
      expect([bad.status, bad.json.code]).toEqual([400, 1201]);
      expect(bad.json.message).toContain(`\`${field}\``);
    }
  });

  it('answers the list like an unknown gateway path (404 HTML) when it is switched off', async () => {
    const emu = await emulator({ listSupported: false });
    const reply = await call(emu, 'GET', `${TASKS}?pageNum=1&pageSize=10`);
    expect(reply.status).toBe(404);
    expect(reply.headers.get('content-type')).toContain('text/html');
    expect(reply.text).toContain('404 Not Found');
    const unknownPath = await call(emu, 'GET', '/v1/nothing');
    expect([unknownPath.status, unknownPath.text]).toEqual([404, reply.text]);
  });
});

describe('emulator: video URLs', () => {
  it('expire after urlTtlS (403), and querying the task again gives a fresh, working URL', async () => {
    const clock = manualClock();
    const emu = await emulator({ clock, queueS: 0, processingS: 1, urlTtlS: 10, timeScale: 0.5 });
    const id = (await create(emu, body())).json.data.task_id;
    clock.advance(500);
    const url1: string = (await get(emu, id)).json.data.task_result.videos[0].url;
    expect((await get(emu, id)).json.data.task_result.videos[0].url).toBe(url1); // stable while valid
    const ok = await fetch(url1);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toBe('video/mp4');
    expect(Buffer.from(await ok.arrayBuffer()).subarray(4, 8).toString('latin1')).toBe('ftyp');

    clock.advance(5000); // 10 emulated s × 0.5
    const expired = await fetch(url1);
    expect(expired.status).toBe(403);
    await expired.text();
    const url2: string = (await get(emu, id)).json.data.task_result.videos[0].url;
    expect(url2).not.toBe(url1);
    expect((await fetch(url2)).status).toBe(200);
  });

  it('refuses a forged token with 403 and needs no key for downloads', async () => {
    const clock = manualClock();
    const emu = await emulator({ clock, queueS: 0, processingS: 0 });
    const id = (await create(emu, body())).json.data.task_id;
    const url: string = (await get(emu, id)).json.data.task_result.videos[0].url;
    const forged = url.replace(/_([0-9a-f])([0-9a-f]{23})\.mp4$/, (_, first: string, rest: string) => `_${first === 'a' ? 'b' : 'a'}${rest}.mp4`);
    expect(forged).not.toBe(url);
    expect((await fetch(forged)).status).toBe(403);
    expect((await fetch(url, { headers: {} })).status).toBe(200);
  });
});

describe('emulator: stats', () => {
  it('counts tasks, billing with the price table, requests by route and 429s', async () => {
    const clock = manualClock();
    const emu = await emulator({ clock, queueS: 0, processingS: 1, unknownPriceUsd: 0.05 });
    await create(emu, body({ model_name: 'kling-v2-5-turbo', mode: 'pro', duration: '10', external_task_id: 'a' })); // 0.70 (0.07 USD/s)
    await create(emu, body({ model_name: 'kling-v2-6', mode: 'pro', sound: 'on', external_task_id: 'b' })); // 0.70 (0.14 USD/s)
    await create(emu, body({ model_name: 'kling-v1-6', mode: 'std' })); // unknown price: 0.05
    clock.advance(1000);
    const id = (await call(emu, 'GET', TASKS)).json.data[0].task_id;
    const url = (await get(emu, id)).json.data.task_result.videos[0].url;
    await (await fetch(url)).arrayBuffer();
    await call(emu, 'GET', '/nowhere');
    const stats = emu.stats();
    expect(stats).toEqual({
      tasksCreated: 3,
      tasksByExternalId: { a: 1, b: 1 },
      billedUsd: 1.45,
      http429ByCode: { 1102: 0, 1302: 0, 1303: 0 },
      peakConcurrentTasks: 3,
      peakRequestsPerWindow: 5,
      requestsByRoute: { create: 3, get: 1, list: 1, download: 1, unknown: 1 },
      faultsFired: {},
    });
    const viaHttp = await call(emu, 'GET', '/__emulator/stats', { key: null });
    expect(viaHttp.json).toEqual(JSON.parse(JSON.stringify(stats)));
    expect(JSON.stringify(stats)).not.toContain(KEY);
  });
});

describe('emulator: end to end over raw HTTP', () => {
  it('submits like curl, follows the task to succeed and downloads a real MP4 of the right duration', async () => {
    const emu = await emulator({ timeScale: 0.001 }); // 65 emulated s ≈ 65 real ms
    const response = await fetch(`${emu.url}/kling/v1/videos/image2video`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${KEY}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ image: 'https://your-image-host/source.jpg', prompt: 'A cinematic slow push-in', model_name: 'kling-v2-6', mode: 'pro', duration: '5', sound: 'off', external_task_id: 'e2e-1' }),
    });
    const created = (await response.json()) as { code: number; data: { task_id: string } };
    expect(created.code).toBe(0);
    let task: { task_status: string; task_result?: { videos: { url: string; duration: string }[] } } | undefined;
    for (let i = 0; i < 100 && task?.task_status !== 'succeed'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      const polled = await fetch(`${emu.url}/kling/v1/videos/image2video/${created.data.task_id}`, { headers: { Authorization: `Bearer ${KEY}` } });
      task = ((await polled.json()) as { data: typeof task }).data;
    }
    expect(task?.task_status).toBe('succeed');
    const video = task?.task_result?.videos[0];
    expect(video?.duration).toBe('5');
    const download = await fetch(video?.url ?? '');
    const bytes = Buffer.from(await download.arrayBuffer());
    expect(Number(download.headers.get('content-length'))).toBe(bytes.length);
    expect(bytes.subarray(4, 8).toString('latin1')).toBe('ftyp');
    expect(bytes.length).toBeGreaterThan(1000);
    expect(bytes.toString('latin1')).toContain(`klingrun-emulator task ${created.data.task_id}`);
    const probed = await probeMp4(bytes);
    if (probed) expect(probed.durationS).toBeCloseTo(5, 1); // ffprobe is optional (CI has none)
  });
});
