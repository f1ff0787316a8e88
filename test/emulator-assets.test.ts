import { describe, expect, it } from 'vitest';
import { videoAsset, videoFor } from '../src/emulator/videos.js';
import { probeMp4, withoutFfprobe } from './helpers/emulator.js';

describe('emulator: MP4 fixtures', () => {
  it.each(['5', '10'] as const)('the %s s video is a small MP4 (ftyp box first)', (duration) => {
    const bytes = videoAsset(duration);
    expect(bytes.subarray(4, 8).toString('latin1')).toBe('ftyp');
    expect(bytes.readUInt32BE(0)).toBeGreaterThanOrEqual(16);
    expect(bytes.length).toBeGreaterThan(2_000);
    expect(bytes.length).toBeLessThan(60_000);
  });

  it('tags each task with a trailing free box, so every task has its own bytes', () => {
    const a = videoFor('1000000000000000001', '5');
    const b = videoFor('1000000000000000002', '5');
    const asset = videoAsset('5');
    expect(a.subarray(0, asset.length).equals(asset)).toBe(true);
    const box = a.subarray(asset.length);
    expect(box.readUInt32BE(0)).toBe(box.length);
    expect(box.subarray(4, 8).toString('latin1')).toBe('free');
    expect(a.equals(b)).toBe(false);
  });

  it.skipIf(withoutFfprobe).each(['5', '10'] as const)('ffprobe accepts the tagged %s s video with the right duration', async (duration) => {
    const probed = await probeMp4(videoFor('1000000000000000001', duration));
    expect(probed).toMatchObject({ codec: 'h264', width: 256, height: 144 });
    expect(probed?.durationS).toBeCloseTo(Number(duration), 1);
  });
});
