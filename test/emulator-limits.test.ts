import { describe, expect, it } from 'vitest';
import { body, call, create, emulator, get, manualClock, TASKS } from './helpers/emulator.js';

describe('emulator: requests per minute (1302)', () => {
  it('refuses the request over the limit with 429/1302 and a Retry-After in scaled seconds', async () => {
    const clock = manualClock();
    // The window is 60 emulated s = 600 real ms at timeScale 0.01.
    const emu = await emulator({ clock, rpm: 3, timeScale: 0.01 });
    for (let i = 0; i < 3; i++) expect((await call(emu, 'GET', TASKS)).status).toBe(200);
    const refused = await call(emu, 'GET', TASKS);
    expect([refused.status, refused.json.code]).toEqual([429, 1302]);
    expect(refused.headers.get('retry-after')).toBe('0.6');

    clock.advance(250);
    expect((await create(emu, body())).headers.get('retry-after')).toBe('0.35'); // refusals do not use up the limit
    clock.advance(350);
    expect((await create(emu, body())).status).toBe(200);
    const stats = emu.stats();
    expect(stats.http429ByCode).toEqual({ 1102: 0, 1302: 2, 1303: 0 });
    expect(stats.tasksCreated).toBe(1);
    // The peak counts every request the key sent in one window, refused ones included.
    expect(stats.peakRequestsPerWindow).toBe(5);
  });

  it('counts whole-second Retry-After at real time and keeps each key apart', async () => {
    const clock = manualClock();
    const emu = await emulator({ clock, rpm: 1, keys: ['a', 'b'] });
    expect((await call(emu, 'GET', TASKS, { key: 'a' })).status).toBe(200);
    clock.advance(15_000);
    expect((await call(emu, 'GET', TASKS, { key: 'a' })).headers.get('retry-after')).toBe('45');
    expect((await call(emu, 'GET', TASKS, { key: 'b' })).status).toBe(200);
  });

  it('measures the peak over a sliding window, not fixed minutes, and ignores downloads and /__emulator', async () => {
    const clock = manualClock();
    const emu = await emulator({ clock, queueS: 0, processingS: 0 });
    const id = (await create(emu, body())).json.data.task_id; // t = 0
    clock.advance(40_000);
    const url = (await get(emu, id)).json.data.task_result.videos[0].url; // t = 40 s
    clock.advance(30_000);
    await get(emu, id); // t = 70 s, twice: no fixed minute holds more than 2, the window (10 s, 70 s] holds 3
    await get(emu, id);
    for (let i = 0; i < 3; i++) await (await fetch(url)).arrayBuffer();
    await call(emu, 'GET', '/__emulator/stats');
    expect(emu.stats().peakRequestsPerWindow).toBe(3);
    clock.advance(60_000);
    await get(emu, id); // t = 130 s: the two at 70 s have left the window (70 s, 130 s]
    await get(emu, id);
    expect(emu.stats().peakRequestsPerWindow).toBe(3);
    await get(emu, id);
    expect(emu.stats().peakRequestsPerWindow).toBe(3);
    await get(emu, id);
    expect(emu.stats().peakRequestsPerWindow).toBe(4);
  });
});

describe('emulator: concurrency (1303)', () => {
  it('refuses a create over the unfinished-task limit until a task ends; queries hold no slot', async () => {
    const clock = manualClock();
    const emu = await emulator({ clock, concurrency: 2, queueS: 1, processingS: 1 });
    const first = (await create(emu, body())).json.data.task_id;
    expect((await create(emu, body())).status).toBe(200);
    const refused = await create(emu, body());
    expect([refused.status, refused.json.code]).toEqual([429, 1303]);
    expect((await get(emu, first)).status).toBe(200);
    clock.advance(1999);
    expect((await create(emu, body())).json.code).toBe(1303);
    clock.advance(1);
    expect((await get(emu, first)).json.data.task_status).toBe('succeed');
    expect((await create(emu, body())).status).toBe(200);
    expect(emu.stats()).toMatchObject({ tasksCreated: 3, peakConcurrentTasks: 2, http429ByCode: { 1303: 2 } });
  });

  it('holds the slot of a task that ends failed until it ends', async () => {
    const clock = manualClock();
    const emu = await emulator({ clock, concurrency: 1, queueS: 0, processingS: 1 });
    await create(emu, body({ prompt: '[[moderate]]' }));
    expect((await create(emu, body())).json.code).toBe(1303);
    clock.advance(1000);
    expect((await create(emu, body())).status).toBe(200);
  });

  it('computes the peak from the lazy lifecycle: finished tasks no longer count', async () => {
    const clock = manualClock();
    const emu = await emulator({ clock, queueS: 0, processingS: 1, keys: ['a', 'b'] });
    await create(emu, body(), 'a');
    await create(emu, body(), 'a');
    clock.advance(1000); // both ended, though nobody polled them
    await create(emu, body(), 'a');
    await create(emu, body(), 'b');
    await create(emu, body(), 'b');
    expect(emu.stats().peakConcurrentTasks).toBe(2); // per key, never 3 or 5
    await create(emu, body(), 'b');
    expect(emu.stats().peakConcurrentTasks).toBe(3);
  });
});

describe('emulator: concurrency per model (1303), as Kling counts it', () => {
  it('refuses a create over its model\'s limit while other models still get slots, up to the key\'s total', async () => {
    const clock = manualClock();
    const emu = await emulator({ clock, concurrency: 5, concurrencyPerModel: 2, queueS: 1, processingS: 1 });
    const v3 = body({ model_name: 'kling-v3' });
    const turbo = body({ model_name: 'kling-v2-5-turbo' });
    for (let i = 0; i < 2; i++) expect((await create(emu, v3)).status).toBe(200);
    const refused = await create(emu, v3);
    expect([refused.status, refused.json.code]).toEqual([429, 1303]);
    for (let i = 0; i < 2; i++) expect((await create(emu, turbo)).status).toBe(200);
    expect((await create(emu, turbo)).json.code).toBe(1303);
    expect((await create(emu, body({ model_name: 'kling-v2-6' }))).status).toBe(200); // 5 in flight: the key's total
    expect((await create(emu, body({ model_name: 'kling-v2-1' }))).json.code).toBe(1303);
    clock.advance(2000);
    expect((await create(emu, v3)).status).toBe(200);
    expect(emu.stats()).toMatchObject({ tasksCreated: 6, peakConcurrentTasks: 5, http429ByCode: { 1303: 3 } });
  });

  it('takes a map from model_name to its limit; a model it does not name has only the key\'s limit', async () => {
    const emu = await emulator({ concurrency: 4, concurrencyPerModel: { 'kling-v3': 1 }, processingS: 3600 });
    expect((await create(emu, body({ model_name: 'kling-v3' }))).status).toBe(200);
    expect((await create(emu, body({ model_name: 'kling-v3' }))).json.code).toBe(1303);
    for (let i = 0; i < 3; i++) expect((await create(emu, body({ model_name: 'kling-v2-6' }))).status).toBe(200);
  });
});

describe('emulator: balance (1102)', () => {
  it('refuses a create that would exceed the balance, billing with the price table', async () => {
    const emu = await emulator({ balanceUsd: 1.05 });
    const turbo = body({ model_name: 'kling-v2-5-turbo', mode: 'pro', duration: '5' }); // 0.35 each (0.07 USD/s)
    for (let i = 0; i < 3; i++) expect((await create(emu, turbo)).status).toBe(200);
    const refused = await create(emu, turbo);
    expect([refused.status, refused.json.code]).toEqual([429, 1102]);
    expect(refused.json.message).toContain('insufficient balance');
    expect(emu.stats()).toMatchObject({ tasksCreated: 3, billedUsd: 1.05, http429ByCode: { 1102: 1 } });
    // Nothing left: a model the table does not price bills unknownPriceUsd (0.1 by default).
    expect((await create(emu, body())).json.code).toBe(1102);
    emu.configure({ balanceUsd: 1.15 });
    expect((await create(emu, body())).status).toBe(200);
    expect(emu.stats().billedUsd).toBe(1.15);
  });
});
