// The emulator reads the same model and price tables as the plan: a table that allows a 15 s or
// a 4k job makes the emulator accept it, bill it per second and serve a real MP4 that lasts
// 15 s; `run --emulator --models` hands its tables to the emulator it starts.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadModelTable, loadPriceTable, type ModelCapability, type ModelTable } from '../src/data/tables.js';
import { videoAsset, videoFor } from '../src/emulator/videos.js';
import { checkClip, probeMp4 } from '../src/runner/mp4.js';
import { runInProcess } from './helpers/bad-input.js';
import { body, create, emulator, get, manualClock, probeMp4 as ffprobe, withoutFfprobe } from './helpers/emulator.js';
import { png, tempTree } from './helpers/manifest.js';

const shipped = loadModelTable();
/** kling-v3 as Kling itself documents it: 3 to 15 s, and a 4k mode. */
const wide: ModelTable = {
  file: 'kling.yaml',
  models: { ...shipped.models, 'kling-v3': { ...(shipped.models['kling-v3'] as ModelCapability), modes: ['std', 'pro', '4k'], durations: { min: 3, max: 15 } } },
};

/** The box payloads the duration lives in, read independently of the runner's parser. */
function timing(bytes: Buffer): { movie: number; media: number; frames: number } {
  const at = (type: string) => bytes.indexOf(type, 0, 'latin1') + 4; // payload of the first box of that type
  const mvhd = at('mvhd');
  const mdhd = at('mdhd');
  const stts = at('stts');
  const mediaScale = bytes.readUInt32BE(mdhd + 12);
  return {
    movie: bytes.readUInt32BE(mvhd + 16) / bytes.readUInt32BE(mvhd + 12),
    media: bytes.readUInt32BE(mdhd + 16) / mediaScale,
    frames: (bytes.readUInt32BE(stts + 8) * bytes.readUInt32BE(stts + 12)) / mediaScale,
  };
}

describe('emulator videos of any length', () => {
  it.each(['3', '7', '15'])('a %s s clip is a fixture retimed: header, media and frames all say that length', (duration) => {
    const bytes = videoAsset(duration);
    const probe = probeMp4(bytes);
    expect(probe).toMatchObject({ ok: true, duration_s: Number(duration), width: 256, height: 144 });
    expect(checkClip(probe, duration)).toEqual([]);
    const { movie, media, frames } = timing(bytes);
    expect(movie).toBe(Number(duration));
    expect(media).toBeCloseTo(Number(duration), 2);
    expect(frames).toBeCloseTo(Number(duration), 2);
    // The same frames as the nearest fixture: only timing fields changed, so the size is the same.
    expect(bytes.length).toBe(videoAsset(Number(duration) > 7 ? '10' : '5').length);
  });

  it('serves the shipped fixtures untouched for 5 and 10 s', () => {
    const assets = new URL('../src/emulator/assets/', import.meta.url);
    expect(videoAsset('5').equals(readFileSync(new URL('video-5s.mp4', assets)))).toBe(true);
    expect(videoAsset('10').equals(readFileSync(new URL('video-10s.mp4', assets)))).toBe(true);
  });

  it.skipIf(withoutFfprobe)('ffprobe reads a retimed 15 s clip as 15 s of H.264', async () => {
    const probed = await ffprobe(videoFor('1000000000000000001', '15'));
    expect(probed).toMatchObject({ codec: 'h264', width: 256, height: 144 });
    expect(probed?.durationS).toBeCloseTo(15, 1);
  });
});

describe('emulator tables', () => {
  it('accepts what its model table allows (15 s, 4k) and serves a clip of the requested length', async () => {
    const clock = manualClock();
    const emu = await emulator({ clock, models: wide, queueS: 0, processingS: 1 });
    const created = await create(emu, body({ model_name: 'kling-v3', mode: 'pro', duration: '15', sound: 'off' }));
    expect(created.json).toMatchObject({ code: 0 });
    expect((await create(emu, body({ model_name: 'kling-v3', mode: '4k', duration: '5' }))).json).toMatchObject({ code: 0 });
    clock.advance(2_000);
    const task = (await get(emu, created.json.data.task_id)).json.data;
    expect(task.task_result.videos[0].duration).toBe('15');
    const response = await fetch(task.task_result.videos[0].url);
    expect(response.status).toBe(200);
    expect(probeMp4(new Uint8Array(await response.arrayBuffer()))).toMatchObject({ ok: true, duration_s: 15 });
  });

  it('refuses them with the shipped table', async () => {
    const emu = await emulator();
    const reply = await create(emu, body({ model_name: 'kling-v3', duration: '15' }));
    expect([reply.status, reply.json.code]).toEqual([400, 1201]);
    expect(reply.json.message).toBe('Model `kling-v3` does not support `duration` `15` (it makes 5 or 10 s)');
  });

  it('bills per second by model, mode and sound, like the plan estimates', async () => {
    const billed = async (overrides: Record<string, unknown>) => {
      const emu = await emulator({ models: wide, prices: loadPriceTable(), unknownPriceUsd: 9 });
      expect((await create(emu, body(overrides))).json).toMatchObject({ code: 0 });
      return emu.stats().billedUsd;
    };
    expect(await billed({ model_name: 'kling-v3', mode: 'pro', duration: '10', sound: 'on' })).toBe(1.68);
    expect(await billed({ model_name: 'kling-v3', mode: 'std', duration: '15', sound: 'off' })).toBe(1.26);
    expect(await billed({ model_name: 'kling-v3', mode: '4k', duration: '5' })).toBe(2.1);
    expect(await billed({ model_name: 'kling-v2-6', mode: 'pro', sound: 'off' })).toBe(0.35);
    expect(await billed({ model_name: 'kling-v1' })).toBe(9); // not on the price list: the emulator's stand-in price
  });
});

describe('run --emulator with --models', () => {
  it('runs a 15 s job the given table allows: the emulator accepts it, the clip lasts 15 s, the report prices it', async () => {
    const table = 'kling-v3:\n  modes: [std, pro]\n  durations: { min: 3, max: 15 }\n  cfg_scale: false\n  image_tail: true\n  masks: false\n  sound: true\n';
    const manifest = 'version: 1\nname: long\njobs:\n  - { image: a.png, model_name: kling-v3, mode: pro, duration: 15, sound: "off" }\n';
    const dir = tempTree({ 'm.yaml': manifest, 'a.png': png(1), 'kling.yaml': table });
    const refused = await runInProcess(['run', 'm.yaml', '--emulator', '--yes'], dir);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('kling-v3 makes videos of 5 or 10 seconds, not 15');

    const result = await runInProcess(['run', 'm.yaml', '--emulator', '--yes', '--models', 'kling.yaml', '--budget', '2'], dir);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain('downloaded videos/kling-v3_pro_15s/');
    const report = JSON.parse(readFileSync(join(dir, 'output', 'long', 'report.json'), 'utf8'));
    expect(report.jobs[0]).toMatchObject({ status: 'succeeded', cost_usd: 1.68, warnings: [], video: { duration_s: 15 } });
  });
});
