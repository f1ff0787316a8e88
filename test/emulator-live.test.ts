// The emulator's `live` profile (answers as public clients saw the live service give them) and the
// options behind "not found is not proof": lookup lag, a list cut short, other tools' tasks.
import { describe, expect, it } from 'vitest';
import { taskSchema } from '../src/api/schemas.js';
import { MODERATION_MESSAGE } from '../src/emulator/index.js';
import { body, call, create, emulator, get, manualClock, TASKS } from './helpers/emulator.js';
import { errorsOf, validateCreateResponse } from './helpers/openapi.js';

/** A request the price table lists. */
const PRICED = { model_name: 'kling-v2-5-turbo', mode: 'pro', duration: '5' } as const;
const list = async (emu: Awaited<ReturnType<typeof emulator>>, query = 'pageNum=1&pageSize=30') => call(emu, 'GET', `${TASKS}?${query}`);
const idsOf = (reply: { json: { data: { task_id: string }[] } }) => reply.json.data.map((task) => task.task_id);

describe('emulator: the live profile', () => {
  it('answers queries with nulls, extra fields, and numbers and strings swapped on every other task', async () => {
    const clock = manualClock();
    const emu = await emulator({ profile: 'live', clock, queueS: 1, processingS: 1 });
    const odd = (await create(emu, body({ ...PRICED, external_task_id: 'live-1' }))).json.data.task_id as string;
    const even = (await create(emu, body(PRICED))).json.data.task_id as string;
    expect([odd.at(-1), even.at(-1)]).toEqual(['1', '2']);

    const queued = (await get(emu, even)).json.data;
    expect(queued).toMatchObject({ task_status: 'submitted', task_status_msg: null, task_result: null, task_info: { external_task_id: null }, watermark_info: { enabled: false } });
    expect(typeof queued.created_at).toBe('number');
    const swappedQueued = (await get(emu, odd)).json.data;
    expect(swappedQueued).toMatchObject({ task_info: { external_task_id: 'live-1', parent_video: null }, created_at: String(clock.now()), updated_at: String(clock.now()) });

    clock.advance(2000);
    // Units of $0.14 (Kling's standard pack), to the hundredth, of what the create was billed.
    const listPrice = emu.stats().billedUsd / 2;
    const units = Math.round((listPrice / 0.14) * 100) / 100;
    expect(units).toBeGreaterThan(0);
    const swapped = (await get(emu, odd)).json.data;
    expect(swapped.task_result).toEqual({ videos: [{ id: Number(odd.slice(-12)), url: expect.stringMatching(/\.mp4$/), duration: 5, watermark_url: null }] });
    const plain = (await get(emu, even)).json.data;
    expect(plain.task_result).toEqual({ videos: [{ id: `video-${even}`, url: expect.stringMatching(/\.mp4$/), duration: '5', watermark_url: null }] });
    expect(plain.task_status_msg).toBeNull();
    // What the task cost sits beside its status, not in its result.
    expect(plain).toMatchObject({ final_unit_deduction: String(units), final_balance_deduction: { quota: units, list_price: listPrice }, watermark_info: { enabled: false } });
    expect(swapped).toMatchObject({ final_unit_deduction: units, final_balance_deduction: { list_price: listPrice } });

    // Both read the same once parsed.
    for (const [id, raw] of [[odd, swapped], [even, plain]] as const) {
      const task = taskSchema.parse(raw);
      expect(task).toMatchObject({ task_id: id, task_status: 'succeed', created_at: clock.now() - 2000, updated_at: clock.now(), final_unit_deduction: units, final_balance_deduction: { list_price: listPrice } });
      expect(task.task_result?.videos?.[0]).toMatchObject({ duration: '5', id: expect.any(String) });
    }
  });

  it('answers create calls in the types of the OpenAPI document, with nulls only where it allows them', async () => {
    const emu = await emulator({ profile: 'live', duplicateExternalId: 'return-existing' });
    const answers = [await create(emu, body()), await create(emu, body({ external_task_id: 'live-2' })), await create(emu, body({ external_task_id: 'live-2' }))];
    for (const answer of answers) {
      expect(answer.status).toBe(200);
      expect(validateCreateResponse(answer.json), errorsOf(validateCreateResponse)).toBe(true);
      expect(answer.json.data).toMatchObject({ task_result: null, task_status: 'submitted' });
      expect(answer.json.data).not.toHaveProperty('task_status_msg');
    }
    expect(answers[0]?.json.data.task_info).toEqual({ external_task_id: null, parent_video: null });
  });

  it('gives a failed task its reason in task_status_msg, and no cost', async () => {
    const clock = manualClock();
    const emu = await emulator({ profile: 'live', clock, queueS: 0, processingS: 1 });
    const id = (await create(emu, body({ prompt: 'x [[moderate]]' }))).json.data.task_id;
    clock.advance(1000);
    const failed = (await get(emu, id)).json.data;
    expect(failed).toMatchObject({ task_status: 'failed', task_status_msg: MODERATION_MESSAGE, task_result: null });
    // Whether a failed task is billed is not documented: the emulator does not say.
    expect(failed).not.toHaveProperty('final_unit_deduction');
  });

  it('says "not found" as HTTP 400 with code 1201, for task ids and, with lookups off, external ids', async () => {
    const emu = await emulator({ profile: 'live', externalIdLookup: false });
    const id = (await create(emu, body({ external_task_id: 'live-3' }))).json.data.task_id;
    for (const unknown of ['999', 'live-3']) {
      const reply = await get(emu, unknown);
      expect([reply.status, reply.json.code, reply.json.message]).toEqual([400, 1201, `Task not found by id ${unknown}`]);
    }
    expect((await get(emu, id)).status).toBe(200);
  });

  it('refuses a switched-off list with a JSON 400 once the key is checked', async () => {
    const emu = await emulator({ profile: 'live', listSupported: false });
    const refused = await list(emu);
    expect(refused.status).toBe(400);
    expect(refused.headers.get('content-type')).toContain('application/json');
    expect(refused.json).toMatchObject({ code: 1201, message: expect.not.stringMatching(/not found/i) });
    expect((await call(emu, 'GET', TASKS, { key: 'wrong' })).json.code).toBe(1002);
  });

  it('is chosen by configure() and POST /__emulator/config too, and back', async () => {
    const emu = await emulator();
    expect((await get(emu, '999')).status).toBe(404);
    await call(emu, 'POST', '/__emulator/config', { body: { profile: 'live' }, key: null });
    expect((await get(emu, '999')).status).toBe(400);
    emu.configure({ profile: 'default' });
    expect((await get(emu, '999')).json.code).toBe(1203);
    expect(() => emu.configure({ profile: 'real' as never })).toThrow(/`profile`/);
  });
});

describe('emulator: lookupLagS', () => {
  it('hides a new task from lookups by external id and from the list until the lag has passed; get by task id finds it at once', async () => {
    const clock = manualClock();
    const emu = await emulator({ clock, lookupLagS: 10, timeScale: 0.5 });
    const id = (await create(emu, body({ external_task_id: 'lag-1' }))).json.data.task_id;
    expect((await get(emu, id)).status).toBe(200);
    expect((await get(emu, 'lag-1')).json.code).toBe(1203);
    expect(idsOf(await list(emu))).toEqual([]);
    clock.advance(4999); // 10 emulated s at timeScale 0.5 = 5000 ms
    expect((await get(emu, 'lag-1')).status).toBe(404);
    clock.advance(1);
    expect((await get(emu, 'lag-1')).json.data.task_id).toBe(id);
    expect(idsOf(await list(emu))).toEqual([id]);
  });

  it('pages over the tasks that are visible only', async () => {
    const clock = manualClock();
    const emu = await emulator({ clock, lookupLagS: 1 });
    const old = [];
    for (let i = 0; i < 3; i++) old.push((await create(emu, body())).json.data.task_id);
    clock.advance(1000);
    await create(emu, body());
    expect(idsOf(await list(emu, 'pageNum=1&pageSize=2'))).toEqual([old[2], old[1]]);
    expect(idsOf(await list(emu, 'pageNum=2&pageSize=2'))).toEqual([old[0]]);
  });
});

describe('emulator: listMaxPages and foreignTasks', () => {
  it('makes foreign tasks at a key\'s first request: finished, older than its own, every other one with an external id, never billed', async () => {
    const clock = manualClock();
    const emu = await emulator({ clock, foreignTasks: 5, keys: ['a', 'b'] });
    const own = (await create(emu, body({ external_task_id: 'mine' }), 'a')).json.data.task_id;
    const page = (await call(emu, 'GET', `${TASKS}?pageNum=1&pageSize=10`, { key: 'a' })).json.data;
    expect(page).toHaveLength(6);
    expect(page[0].task_id).toBe(own);
    const foreign = page.slice(1);
    expect(foreign.map((t: { task_status: string }) => t.task_status)).toEqual(Array(5).fill('succeed'));
    expect(foreign.map((t: { task_info: { external_task_id?: string } }) => t.task_info.external_task_id)).toEqual([undefined, 'other-tool-2', undefined, 'other-tool-4', undefined]);
    const times = page.map((t: { created_at: number }) => t.created_at);
    expect([...times].sort((x, y) => y - x)).toEqual(times);
    expect((await get(emu, 'other-tool-4', 'a')).json.data.task_status).toBe('succeed');
    expect(emu.stats()).toMatchObject({ tasksCreated: 1, billedUsd: 0.1, peakConcurrentTasks: 1 });
    // Each account has its own.
    expect((await call(emu, 'GET', `${TASKS}?pageNum=1&pageSize=10`, { key: 'b' })).json.data).toHaveLength(5);
    expect((await get(emu, 'other-tool-4', 'b')).json.data.task_id).not.toBe((await get(emu, 'other-tool-4', 'a')).json.data.task_id);
  });

  it('answers empty pages beyond listMaxPages, so a scan of a large account is cut short', async () => {
    const emu = await emulator({ foreignTasks: 7, listMaxPages: 2 });
    expect(idsOf(await list(emu, 'pageNum=1&pageSize=3'))).toHaveLength(3);
    expect(idsOf(await list(emu, 'pageNum=2&pageSize=3'))).toHaveLength(3);
    expect(idsOf(await list(emu, 'pageNum=3&pageSize=3'))).toEqual([]);
    emu.configure({ listMaxPages: Infinity });
    expect(idsOf(await list(emu, 'pageNum=3&pageSize=3'))).toHaveLength(1);
  });
});

describe('emulator: a provider that accepts duplicates and offers neither lookups nor the list', () => {
  it.each(['default', 'live'] as const)('%s profile: two creates with one external id are two paid tasks, and nothing can find either', async (profile) => {
    const emu = await emulator({ profile, duplicateExternalId: 'accept', externalIdLookup: false, listSupported: false });
    const first = await create(emu, body({ external_task_id: 'dup' }));
    const second = await create(emu, body({ external_task_id: 'dup' }));
    expect(second.json.data.task_id).not.toBe(first.json.data.task_id);
    expect(emu.stats()).toMatchObject({ tasksCreated: 2, tasksByExternalId: { dup: 2 } });
    expect((await get(emu, 'dup')).json.code).toBe(profile === 'live' ? 1201 : 1203);
    expect((await list(emu)).status).toBe(profile === 'live' ? 400 : 404);
  });
});
