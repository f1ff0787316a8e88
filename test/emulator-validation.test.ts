import { describe, expect, it } from 'vitest';
import { body, call, create, emulator, pngBase64, TASKS } from './helpers/emulator.js';

/** A 600x400 baseline JPEG header (SOI, JFIF, SOF0): all the provider's size check reads. */
const jpegBase64 = Buffer.from([
  0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00,
  0xff, 0xc0, 0x00, 0x11, 0x08, 0x01, 0x90, 0x02, 0x58, 0x03, 1, 0x11, 0, 2, 0x11, 0, 3, 0x11, 0, 0xff, 0xd9,
]).toString('base64');
const gifBase64 = Buffer.from('GIF89a\x90\x01\x2c\x01\x00\x00\x00', 'latin1').toString('base64');
const masks = (count: number, points = 2) =>
  Array.from({ length: count }, () => ({ mask: 'https://example.com/m.png', trajectories: Array.from({ length: points }, (_, i) => ({ x: i, y: i })) }));

// [case, body overrides, field named in the message (backticked), another fragment of the message]
const invalid: [string, Record<string, unknown>, string, string][] = [
  ['missing image', { image: undefined }, 'image', 'Missing required field'],
  ['a mask without trajectories', { model_name: 'kling-v1', dynamic_masks: [{ mask: 'https://e.com/m.png' }] }, 'dynamic_masks[0].trajectories', 'Missing'],
  ['empty image', { image: '' }, 'image', 'Invalid field'],
  ['prompt over 500 chars', { prompt: 'x'.repeat(501) }, 'prompt', '500'],
  ['negative_prompt over 200 chars', { negative_prompt: 'x'.repeat(201) }, 'negative_prompt', '200'],
  ['unknown mode', { mode: 'turbo' }, 'mode', 'std/pro'],
  ['unknown model', { model_name: 'kling-v9' }, 'model_name', 'kling-v1'],
  ['a mode CometAPI does not document (Kling\'s 4k)', { model_name: 'kling-v3', mode: '4k' }, 'mode', 'std/pro'],
  ['cfg_scale above 1', { cfg_scale: 1.5 }, 'cfg_scale', '1'],
  ['cfg_scale as a string', { cfg_scale: '0.5' }, 'cfg_scale', 'number'],
  ['duration as a number', { duration: 5 }, 'duration', 'string'],
  ['duration not whole seconds', { duration: '7.5' }, 'duration', 'whole number of seconds'],
  ['duration not 5 or 10', { duration: '7' }, 'duration', '5 or 10'],
  ['a duration CometAPI does not document (Kling\'s 15 s)', { model_name: 'kling-v3', duration: '15' }, 'duration', '5 or 10'],
  ['sound not on/off', { sound: 'loud' }, 'sound', '"on"|"off"'],
  ['external_task_id over 32 chars', { external_task_id: 'x'.repeat(33) }, 'external_task_id', '32'],
  ['callback_url not a string', { callback_url: 5 }, 'callback_url', 'string'],
  ['an unknown field', { seed: 1 }, 'seed', 'Unknown field'],
  ['more than 6 dynamic masks', { model_name: 'kling-v1', dynamic_masks: masks(7) }, 'dynamic_masks', '6'],
  ['a trajectory of 1 point', { model_name: 'kling-v1', dynamic_masks: masks(1, 1) }, 'dynamic_masks[0].trajectories', '2'],
  ['a trajectory of 78 points', { model_name: 'kling-v1', dynamic_masks: masks(1, 78) }, 'dynamic_masks[0].trajectories', '77'],
  ['a fractional trajectory point', { dynamic_masks: [{ mask: 'https://e.com/m.png', trajectories: [{ x: 0.5, y: 1 }, { x: 1, y: 1 }] }] }, 'dynamic_masks[0].trajectories[0].x', 'int'],
  ['image with a data: prefix', { image: `data:image/png;base64,${pngBase64(400, 300)}` }, 'image', 'data:'],
  ['image neither URL nor base64', { image: 'not an image!' }, 'image', 'neither'],
  ['image base64 of text', { image: Buffer.from('hello, this is not an image at all').toString('base64') }, 'image', 'not a JPG or PNG'],
  ['image a GIF', { image: gifBase64 }, 'image', 'got gif'],
  ['image under 300 px', { image: pngBase64(200, 400) }, 'image', 'at least 300 px'],
  ['image wider than 2.5:1', { image: pngBase64(1000, 300) }, 'image', 'aspect ratio'],
  ['image taller than 1:2.5', { image: pngBase64(300, 800) }, 'image', 'aspect ratio'],
  ['image over 10 MB', { image: pngBase64(400, 300, 10 * 1024 * 1024) }, 'image', '10 MB'],
  ['image_tail too small', { model_name: 'kling-v1', image_tail: pngBase64(100, 100) }, 'image_tail', '300 px'],
  ['image_tail with static_mask', { image_tail: 'https://e.com/t.jpg', static_mask: 'https://e.com/m.png' }, 'image_tail', 'mutually exclusive'],
  ['image_tail with dynamic_masks', { image_tail: 'https://e.com/t.jpg', dynamic_masks: masks(1) }, 'dynamic_masks', 'mutually exclusive'],
  ['static_mask of another size', { model_name: 'kling-v1', image: pngBase64(400, 300), static_mask: pngBase64(800, 600) }, 'static_mask', 'must match'],
  ['mode on a single-quality model', { model_name: 'kling-v2-master', mode: 'pro' }, 'mode', 'kling-v2-master'],
  ['cfg_scale on a model without it', { model_name: 'kling-v2-5-turbo', cfg_scale: 0.5 }, 'cfg_scale', 'kling-v2-5-turbo'],
  ['masks on a model without them', { model_name: 'kling-v1-6', static_mask: 'https://e.com/m.png' }, 'static_mask', 'kling-v1-6'],
  ['image_tail in the wrong mode', { model_name: 'kling-v1-5', mode: 'std', image_tail: 'https://e.com/t.jpg' }, 'image_tail', 'only in mode pro'],
  ['image_tail with the wrong duration', { model_name: 'kling-v1', duration: '10', image_tail: 'https://e.com/t.jpg' }, 'image_tail', 'only with duration 5'],
  ['image_tail with sound on', { model_name: 'kling-v2-6', mode: 'pro', sound: 'on', image_tail: 'https://e.com/t.jpg' }, 'image_tail', 'sound'],
  ['image_tail with sound left to the default', { model_name: 'kling-v2-6', mode: 'pro', image_tail: 'https://e.com/t.jpg' }, 'image_tail', 'unless it is `off`'],
  ['sound on in a silent mode', { model_name: 'kling-v2-6', mode: 'std', sound: 'on' }, 'sound', 'kling-v2-6'],
  ['sound on a model without sound', { model_name: 'kling-v1', sound: 'on' }, 'sound', 'kling-v1'],
  ['image_tail on a model without it', { model_name: 'kling-v2-master', image_tail: 'https://e.com/t.jpg' }, 'image_tail', 'kling-v2-master'],
];

describe('emulator: create validation (HTTP 400, code 1201, the field named)', () => {
  it.each(invalid)('%s', async (_, overrides, field, fragment) => {
    const emu = await emulator();
    const reply = await create(emu, body(overrides));
    expect(reply.status).toBe(400);
    expect(reply.json.code).toBe(1201);
    expect(reply.json.message).toContain(`\`${field}\``);
    expect(reply.json.message).toContain(fragment);
    expect(emu.stats().tasksCreated).toBe(0);
  });

  it('refuses a body that is not JSON, or not an object', async () => {
    const emu = await emulator();
    const garbled = await call(emu, 'POST', TASKS, { body: '{"image": ' });
    expect([garbled.status, garbled.json.code, garbled.json.message]).toEqual([400, 1201, 'The request body is not valid JSON']);
    const array = await call(emu, 'POST', TASKS, { body: [] });
    expect([array.status, array.json.code]).toEqual([400, 1201]);
    expect(array.json.message).toContain('JSON object');
  });

  it.each([
    ['an http(s) URL', { image: 'http://example.com/a.png' }],
    ['a base64 PNG at the limits (300 px, 2.5:1)', { image: pngBase64(750, 300) }],
    ['a base64 JPEG', { image: jpegBase64 }],
    ['every optional field, on a model that takes them', {
      model_name: 'kling-v1', mode: 'pro', duration: '5', cfg_scale: 0.5, negative_prompt: 'blur', callback_url: 'https://e.com/cb',
      image: pngBase64(400, 300), static_mask: pngBase64(400, 300), dynamic_masks: masks(6, 77), external_task_id: 'x'.repeat(32), sound: 'off',
    }],
    ['image_tail with sound off on kling-v2-6 pro', { model_name: 'kling-v2-6', mode: 'pro', sound: 'off', image_tail: jpegBase64 }],
    ['sound on where the model has it', { model_name: 'kling-v3', mode: 'pro', sound: 'on', duration: '10' }],
    ['image_tail with sound on kling-v3', { model_name: 'kling-v3', mode: 'std', sound: 'on', image_tail: jpegBase64 }],
  ])('accepts %s', async (_, overrides) => {
    const emu = await emulator();
    const reply = await create(emu, body(overrides));
    expect(reply.json).toMatchObject({ code: 0 });
    expect(reply.status).toBe(200);
  });
});
