import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../src/effects.js';
import { checkClip, probeMp4 } from '../src/runner/mp4.js';

// Small ISO BMFF builders: just enough structure for the probe, byte for byte as the spec lays it out.
const ascii = (text: string): number[] => [...text].map((c) => c.charCodeAt(0));
const u32 = (n: number): number[] => [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
const u64 = (n: number): number[] => [...u32(Math.floor(n / 2 ** 32)), ...u32(n >>> 0)];
const zeros = (n: number): number[] => new Array<number>(n).fill(0);

function box(type: string, ...payload: number[][]): number[] {
  const body = payload.flat();
  return [...u32(8 + body.length), ...ascii(type), ...body];
}
/** The same box with a 64-bit size (size field 1, then the large size). */
function largeBox(type: string, ...payload: number[][]): number[] {
  const body = payload.flat();
  return [...u32(1), ...ascii(type), ...u64(16 + body.length), ...body];
}

function mvhd(version: 0 | 1, timescale: number, duration: number): number[] {
  const times = version === 0 ? [...zeros(8), ...u32(timescale), ...u32(duration)] : [...zeros(16), ...u32(timescale), ...u64(duration)];
  return box('mvhd', [version, 0, 0, 0], times, zeros(80));
}
function tkhd(version: 0 | 1, width: number, height: number): number[] {
  const times = version === 0 ? zeros(20) : zeros(32);
  return box('tkhd', [version, 0, 0, 7], times, zeros(52), u32(width * 65536), u32(height * 65536));
}
const hdlr = (handler: string): number[] => box('hdlr', zeros(8), ascii(handler), zeros(12), [0]);
/** The media header: like mvhd up to the duration, then language and pre_defined. */
function mdhd(version: 0 | 1, timescale: number, duration: number): number[] {
  const times = version === 0 ? [...zeros(8), ...u32(timescale), ...u32(duration)] : [...zeros(16), ...u32(timescale), ...u64(duration)];
  return box('mdhd', [version, 0, 0, 0], times, zeros(4));
}
/** One sample entry of `codec` (a visual sample entry's fields left zero). */
const stsd = (codec: string, entries = 1): number[] => box('stsd', zeros(4), u32(entries), entries ? box(codec, zeros(78)) : []);
const stts = (...runs: (readonly [count: number, delta: number])[]): number[] => box('stts', zeros(4), u32(runs.length), ...runs.map(([count, delta]) => [...u32(count), ...u32(delta)]));
/** Per-sample sizes (sample_size 0), all 0 here. */
const stsz = (count: number): number[] => box('stsz', zeros(4), u32(0), u32(count), zeros(4 * count));

interface Media {
  readonly version?: 0 | 1;
  readonly timescale?: number;
  readonly duration?: number;
  readonly codec?: string;
  readonly runs?: (readonly [count: number, delta: number])[];
  /** stsz's sample count. @default the frames of runs */
  readonly sizes?: number;
  /** Replaces the sample table's boxes. */
  readonly stbl?: number[][];
}
/** A track's media box: 125 frames of 512 ticks at 12,800 per second (5 s, 25 fps, H.264) unless told. */
function mdia(handler: string, media: Media = {}): number[] {
  const { version = 0, timescale = 12_800, codec = 'avc1', runs = [[125, 512]] } = media;
  const frames = runs.reduce((sum, [count]) => sum + count, 0);
  const duration = media.duration ?? runs.reduce((sum, [count, delta]) => sum + count * delta, 0);
  const stbl = media.stbl ?? [stsd(codec), stts(...runs), stsz(media.sizes ?? frames)];
  return box('mdia', mdhd(version, timescale, duration), hdlr(handler), box('minf', box('stbl', ...stbl)));
}
const trak = (handler: string, header: number[], media?: Media): number[] => box('trak', header, mdia(handler, media));
/** What the default media reads as. */
const H264_25 = { fps: 25, codec: 'avc1', frames: 125 } as const;
const ftyp = box('ftyp', ascii('isom'), u32(512), ascii('isomiso2avc1mp41'));

function mp4(moovChildren: number[][], options: { mdatFirst?: boolean } = {}): Uint8Array {
  const moov = box('moov', ...moovChildren);
  const mdat = box('mdat', zeros(64));
  return Uint8Array.from([...ftyp, ...(options.mdatFirst ? [...mdat, ...moov] : [...moov, ...mdat])]);
}

describe('probeMp4', () => {
  it('reads a version 0 mvhd and the video track, skipping an audio track listed first', () => {
    const file = mp4([mvhd(0, 1000, 5_041), trak('soun', tkhd(0, 0, 0)), trak('vide', tkhd(0, 1280, 720))]);
    expect(probeMp4(file)).toEqual({ ok: true, duration_s: 5.041, width: 1280, height: 720, ...H264_25 });
  });

  it('reads version 1 boxes (64-bit times) and a moov written after the media data', () => {
    const file = mp4([mvhd(1, 90_000, 900_000), trak('vide', tkhd(1, 1080, 1920))], { mdatFirst: true });
    expect(probeMp4(file)).toEqual({ ok: true, duration_s: 10, width: 1080, height: 1920, ...H264_25 });
  });

  it('follows 64-bit box sizes', () => {
    const moov = largeBox('moov', mvhd(0, 600, 3_000), trak('vide', tkhd(0, 640, 480)));
    const file = Uint8Array.from([...ftyp, ...largeBox('mdat', zeros(32)), ...moov]);
    expect(probeMp4(file)).toEqual({ ok: true, duration_s: 5, width: 640, height: 480, ...H264_25 });
  });

  it('accepts a last box whose size is 0 ("to the end of the file")', () => {
    const moov = box('moov', mvhd(0, 1, 5), trak('vide', tkhd(0, 8, 8)));
    const file = Uint8Array.from([...ftyp, ...moov, ...u32(0), ...ascii('mdat'), ...zeros(10)]);
    expect(probeMp4(file)).toMatchObject({ ok: true, duration_s: 5 });
  });

  it('reads the codec, the frame count and the frame rate of the video track', () => {
    const hevc = mp4([mvhd(0, 1000, 6000), trak('soun', tkhd(0, 0, 0), { codec: 'mp4a', runs: [[10, 1024]] }), trak('vide', tkhd(0, 1920, 1080), { codec: 'hvc1', runs: [[100, 512], [25, 1024]] })]);
    // 100 × 512 + 25 × 1024 ticks at 12,800 per second = 6 s for 125 frames.
    expect(probeMp4(hevc)).toMatchObject({ ok: true, codec: 'hvc1', frames: 125, fps: 20.833 });
    const v1 = mp4([mvhd(1, 90_000, 900_000), trak('vide', tkhd(1, 8, 8), { version: 1, timescale: 30_000, runs: [[300, 1001]] })]);
    expect(probeMp4(v1)).toMatchObject({ ok: true, codec: 'avc1', frames: 300, fps: 29.97 });
    // A muxer that left mdhd's duration 0 still gave every frame's duration.
    const noLength = mp4([mvhd(0, 1000, 5000), trak('vide', tkhd(0, 8, 8), { duration: 0, runs: [[50, 1280]] })]);
    expect(probeMp4(noLength)).toMatchObject({ ok: true, frames: 50, fps: 10 });
  });

  it.each([
    ['missing moov', Uint8Array.from([...ftyp, ...box('mdat', zeros(16))]), /no 'moov' box/],
    ['moov without mvhd', mp4([trak('vide', tkhd(0, 1, 1))]), /no 'mvhd'/],
    ['no video track', mp4([mvhd(0, 1000, 5000), trak('soun', tkhd(0, 0, 0))]), /no video track/],
    ['zero timescale', mp4([mvhd(0, 0, 5000), trak('vide', tkhd(0, 1, 1))]), /timescale of 0/],
    ['unknown duration', mp4([mvhd(0, 1000, 0xffffffff), trak('vide', tkhd(0, 1, 1))]), /no duration/],
    ['unknown mvhd version', Uint8Array.from([...ftyp, ...box('moov', box('mvhd', [2, 0, 0, 0], zeros(100)))]), /unknown version 2/],
    ['short mvhd', Uint8Array.from([...ftyp, ...box('moov', box('mvhd', [1, 0, 0, 0], zeros(10)))]), /'mvhd' box \(version 1\) is too short/],
    ['box smaller than its header', Uint8Array.from([...u32(4), ...ascii('ftyp'), ...zeros(8)]), /less than its own header/],
    ['empty file', new Uint8Array(0), /no 'moov' box/],
    ['a JPEG', Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, 0, 16, ...ascii('JFIF'), ...zeros(20)]), /no box header at offset 0/],
    ['an HTML error page', new TextEncoder().encode('<html><body>403 Forbidden</body></html>'), /no box header|declares/],
    ['no sample table', mp4([mvhd(0, 1000, 5000), box('trak', tkhd(0, 8, 8), box('mdia', mdhd(0, 600, 3000), hdlr('vide')))]), /no 'minf' box in the video track's 'mdia'/],
    ['no sample entry', mp4([mvhd(0, 1000, 5000), trak('vide', tkhd(0, 8, 8), { stbl: [stsd('avc1', 0), stts([1, 1]), stsz(1)] })]), /'stsd' box lists no sample entry/],
    ['no stts', mp4([mvhd(0, 1000, 5000), trak('vide', tkhd(0, 8, 8), { stbl: [stsd('avc1'), stsz(1)] })]), /no 'stts' box/],
    ['stts and stsz disagree', mp4([mvhd(0, 1000, 5000), trak('vide', tkhd(0, 8, 8), { sizes: 124 })]), /'stts' counts 125 frames, 'stsz' 124/],
    ['stts longer than its box', mp4([mvhd(0, 1000, 5000), trak('vide', tkhd(0, 8, 8), { stbl: [stsd('avc1'), box('stts', zeros(4), u32(1000), u32(1), u32(1)), stsz(1)] })]), /declares 1000 entries/],
    ['no frames', mp4([mvhd(0, 1000, 5000), trak('vide', tkhd(0, 8, 8), { runs: [] })]), /no frames/],
    ['zero media timescale', mp4([mvhd(0, 1000, 5000), trak('vide', tkhd(0, 8, 8), { timescale: 0 })]), /'mdhd' box has a timescale of 0/],
  ])('explains what is wrong: %s', (_name, bytes, reason) => {
    const probe = probeMp4(bytes);
    expect(probe.ok).toBe(false);
    expect(probe.ok ? '' : probe.reason).toMatch(reason);
  });

  it('reports a truncated download at every cut point, never throwing', () => {
    const file = mp4([mvhd(0, 1000, 5000), trak('vide', tkhd(0, 1280, 720))], { mdatFirst: true });
    for (let length = 0; length < file.length; length++) {
      const probe = probeMp4(file.subarray(0, length));
      expect(probe.ok, `cut at ${length}`).toBe(false);
    }
    expect(probeMp4(file.subarray(0, file.length - 1))).toMatchObject({ ok: false, reason: expect.stringMatching(/truncated/) });
  });

  it('never throws on random bytes, nor on random damage to a good file', () => {
    const random = seededRandom(7);
    const good = mp4([mvhd(1, 1000, 5000), trak('vide', tkhd(1, 1280, 720))]);
    for (let i = 0; i < 2_000; i++) {
      const garbage = Uint8Array.from({ length: Math.floor(random() * 300) }, () => Math.floor(random() * 256));
      expect(() => probeMp4(garbage)).not.toThrow();
      const damaged = Uint8Array.from(good);
      for (let j = 0; j < 4; j++) damaged[Math.floor(random() * damaged.length)] = Math.floor(random() * 256);
      expect(() => probeMp4(damaged)).not.toThrow();
    }
  });

  it('reads a view into a larger buffer at its own offset', () => {
    const file = mp4([mvhd(0, 1000, 5000), trak('vide', tkhd(0, 320, 240))]);
    const padded = new Uint8Array(file.length + 10);
    padded.set(file, 7);
    expect(probeMp4(padded.subarray(7, 7 + file.length))).toMatchObject({ ok: true, width: 320 });
  });

  const assets = fileURLToPath(new URL('../src/emulator/assets/', import.meta.url));
  for (const [name, seconds] of [['video-5s.mp4', 5], ['video-10s.mp4', 10]] as const) {
    it.skipIf(!existsSync(assets + name))(`reads the emulator's real ${name}`, () => {
      const probe = probeMp4(readFileSync(assets + name));
      // An H.264 clip at 5 frames per second.
      expect(probe).toMatchObject({ ok: true, codec: 'avc1', fps: 5, frames: 5 * seconds });
      if (!probe.ok) return;
      expect(Math.abs(probe.duration_s - seconds)).toBeLessThanOrEqual(1);
      expect(probe.width).toBeGreaterThan(0);
      expect(probe.height).toBeGreaterThan(0);
      expect(checkClip(probe, String(seconds))).toEqual([]);
    });
  }
});

describe('checkClip', () => {
  const clip = (duration_s: number) => ({ ok: true, duration_s, width: 1280, height: 720, ...H264_25 }) as const;

  it('accepts a clip within one second of the request', () => {
    expect(checkClip(clip(5.04), '5')).toEqual([]);
    expect(checkClip(clip(9), '10')).toEqual([]);
  });

  it('flags a clip off by more than one second', () => {
    expect(checkClip(clip(10.04), '5')).toEqual(['the video lasts 10.04 s but 5 s was requested']);
    expect(checkClip(clip(3.9), '5')).toHaveLength(1);
  });

  it('flags an unreadable file with the reason', () => {
    expect(checkClip({ ok: false, reason: "no 'moov' box" }, '5')).toEqual(["the video is not a readable MP4: no 'moov' box"]);
  });
});
