import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadModelTable } from '../src/data/tables.js';
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
  ['sound on in a silent mode', { model_name: 'kling-v2-6', mode: 'std', sound: 'on' }, 'sound', 'kling-v2-6'],
  ['sound on a model without sound', { model_name: 'kling-v1', sound: 'on' }, 'sound', 'kling-v1'],
  ['image_tail on a model without it', { model_name: 'kling-v2-master', image_tail: 'https://e.com/t.jpg' }, 'image_tail', 'kling-v2-master'],
  // Kling's 2026 controls (issue 19): shapes from the registry, where they work from the model table.
  ['aspect_ratio, which image-to-video does not take', { aspect_ratio: '16:9' }, 'aspect_ratio', 'Unknown field'],
  ['camera_control simple with two axes', { model_name: 'kling-v1', camera_control: { type: 'simple', config: { zoom: 5, pan: 2 } } }, 'camera_control.config', 'exactly one'],
  ['camera_control simple without an axis', { model_name: 'kling-v1', camera_control: { type: 'simple', config: { zoom: 0 } } }, 'camera_control.config', 'got none'],
  ['camera_control axis beyond 10', { model_name: 'kling-v1', camera_control: { type: 'simple', config: { zoom: 11 } } }, 'camera_control.config.zoom', '10'],
  ['camera_control config on a complete move', { model_name: 'kling-v1', camera_control: { type: 'down_back', config: { zoom: 1 } } }, 'camera_control.config', 'only type simple'],
  ['camera_control on a model without it', { model_name: 'kling-v2-6', camera_control: { type: 'down_back' } }, 'camera_control', 'kling-v2-6'],
  ['camera_control in a mode without it', { model_name: 'kling-v1', mode: 'pro', camera_control: { type: 'down_back' } }, 'camera_control', 'only in mode std'],
  ['camera_control of a type the model lacks', { model_name: 'kling-v1-5', mode: 'pro', camera_control: { type: 'forward_up' } }, 'camera_control', 'only of type simple'],
  ['camera_control with image_tail', { model_name: 'kling-v1', camera_control: { type: 'down_back' }, image_tail: 'https://e.com/t.jpg' }, 'camera_control', 'mutually exclusive'],
  ['camera_control with masks', { model_name: 'kling-v1', camera_control: { type: 'down_back' }, static_mask: 'https://e.com/m.png' }, 'camera_control', 'mutually exclusive'],
  ['7 shots', { model_name: 'kling-v3', multi_shot: true, shot_type: 'customize', multi_prompt: Array.from({ length: 7 }, (_, i) => ({ index: i + 1, prompt: 'p', duration: '1' })) }, 'multi_prompt', '6'],
  ['a shot prompt of 513 characters', { model_name: 'kling-v3', multi_shot: true, shot_type: 'customize', multi_prompt: [{ index: 1, prompt: 'x'.repeat(513), duration: '5' }] }, 'multi_prompt[0].prompt', '512'],
  ['shots that do not add up to the video', { model_name: 'kling-v3', multi_shot: true, shot_type: 'customize', multi_prompt: [{ index: 1, prompt: 'a', duration: '2' }, { index: 2, prompt: 'b', duration: '2' }] }, 'multi_prompt', 'add up'],
  ['multi_shot without shot_type', { model_name: 'kling-v3', multi_shot: true }, 'multi_shot', 'shot_type'],
  ['multi_prompt without multi_shot', { model_name: 'kling-v3', shot_type: 'customize', multi_prompt: [{ index: 1, prompt: 'a', duration: '5' }] }, 'shot_type', 'multi_shot: true'],
  ['multi_prompt on a model without multi-shot', { model_name: 'kling-v2-6', multi_shot: true, shot_type: 'intelligence' }, 'multi_shot', 'kling-v2-6'],
  ['4 elements', { model_name: 'kling-v3', element_list: [1, 2, 3, 4].map((element_id) => ({ element_id })) }, 'element_list', '3'],
  ['element_list on a model without it', { model_name: 'kling-v2-6', element_list: [{ element_id: 1 }] }, 'element_list', 'kling-v2-6'],
  ['3 voices', { model_name: 'kling-v3', sound: 'on', voice_list: [{ voice_id: 'a' }, { voice_id: 'b' }, { voice_id: 'c' }] }, 'voice_list', '2'],
  ['voices without sound on', { model_name: 'kling-v2-6', mode: 'pro', voice_list: [{ voice_id: 'a' }] }, 'voice_list', 'sound: "on"'],
  ['a prompt naming a voice the list lacks', { model_name: 'kling-v2-6', mode: 'pro', sound: 'on', voice_list: [{ voice_id: 'a' }], prompt: '<<<voice_2>>> speaks' }, 'prompt', '<<<voice_2>>>'],
  ['voice_list on a model before kling-v2-6', { model_name: 'kling-v2-5-turbo', voice_list: [{ voice_id: 'a' }] }, 'voice_list', 'kling-v2-5-turbo'],
  ['watermark_info without enabled', { watermark_info: {} }, 'watermark_info.enabled', 'Missing'],
  ['an end-frame-only job in std', { image: undefined, image_tail: 'https://e.com/t.jpg', model_name: 'kling-v1-6', mode: 'std' }, 'image', 'takes no end-frame-only job'],
  ['an end-frame-only job on a model without it', { image: undefined, image_tail: 'https://e.com/t.jpg', model_name: 'kling-v2-6', mode: 'pro' }, 'image', 'kling-v1-5, kling-v1-6 do'],
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
    // Left out, `sound` is Kling's default, off: a tail frame is fine (issue 19).
    ['image_tail with sound left out on kling-v2-6 pro', { model_name: 'kling-v2-6', mode: 'pro', image_tail: jpegBase64 }],
    ['a simple camera move on kling-v1 std 5 s', { model_name: 'kling-v1', camera_control: { type: 'simple', config: { zoom: 5, pan: 0 } } }],
    ['a camera move of its own on kling-v1', { model_name: 'kling-v1', camera_control: { type: 'left_turn_forward' } }],
    ['a simple camera move on kling-v1-5 pro', { model_name: 'kling-v1-5', mode: 'pro', camera_control: { type: 'simple', config: { tilt: -10 } } }],
    ['six shots adding up to 10 s on kling-v3', { model_name: 'kling-v3', duration: '10', multi_shot: true, shot_type: 'customize', multi_prompt: [1, 2, 3, 4, 5, 6].map((index) => ({ index, prompt: `shot ${index}`, duration: index <= 4 ? '2' : '1' })) }],
    ['intelligent shots, elements and a watermark on kling-v3', { model_name: 'kling-v3', multi_shot: true, shot_type: 'intelligence', element_list: [{ element_id: 42 }, { element_id: 'el-7' }], watermark_info: { enabled: false } }],
    ['an end-frame-only job (image_tail without image) on kling-v1-5 pro', { image: undefined, image_tail: jpegBase64, model_name: 'kling-v1-5', mode: 'pro' }],
    ['an end-frame-only job on kling-v1-6 pro', { image: undefined, image_tail: 'https://e.com/t.jpg', model_name: 'kling-v1-6', mode: 'pro' }],
    ['two voices with sound on kling-v2-6 pro', { model_name: 'kling-v2-6', mode: 'pro', sound: 'on', voice_list: [{ voice_id: 'v1' }, { voice_id: 'v2' }], prompt: '<<<voice_1>>> greets <<<voice_2>>>' }],
  ])('accepts %s', async (_, overrides) => {
    const emu = await emulator();
    const reply = await create(emu, body(overrides));
    expect(reply.json).toMatchObject({ code: 0 });
    expect(reply.status).toBe(200);
  });
});

describe("emulator: Kling's own limits from src/data/kling/models.yaml", () => {
  const kling = loadModelTable(fileURLToPath(new URL('../src/data/kling/models.yaml', import.meta.url)));

  it('takes 2,500-character prompts, kling-v3 in 3 to 15 s and 4k, where the CometAPI table refuses them', async () => {
    const long = { prompt: 'x'.repeat(2500), negative_prompt: 'n'.repeat(2500) };
    const shippedEmu = await emulator();
    const refused = await create(shippedEmu, body(long));
    expect([refused.status, refused.json.message]).toEqual([400, 'Invalid field `prompt`: 2500 characters; Model `kling-v1` takes at most 500']);
    const emu = await emulator({ models: kling });
    for (const overrides of [long, { model_name: 'kling-v3', mode: '4k', duration: '15' }, { model_name: 'kling-v3', duration: '3' }]) {
      const reply = await create(emu, body(overrides));
      expect([reply.status, reply.json.code]).toEqual([200, 0]);
    }
    const over = await create(emu, body({ prompt: 'x'.repeat(2501) }));
    expect([over.status, over.json.message]).toEqual([400, 'Invalid field `prompt`: 2501 characters; Model `kling-v1` takes at most 2500']);
  });
});
