// The videos the emulator hands out: real MP4 fixtures of 5 s and 10 s, retimed to any other length
// the model table allows, tagged per task, behind expiring, signed URLs. Tokens carry their own
// expiry and an HMAC, so the emulator keeps no table of issued URLs (only of those a `stale-url`
// fault expired early), and a stale URL answers like a CDN's or a bucket's expired signature.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** The shipped clips by length in seconds: 5 fps H.264, one video track, v0 boxes. */
const FIXTURES: ReadonlyMap<number, URL> = new Map([
  [5, new URL('./assets/video-5s.mp4', import.meta.url)],
  [10, new URL('./assets/video-10s.mp4', import.meta.url)],
]);
const assetCache = new Map<string, Buffer>();

interface Box {
  readonly type: string;
  readonly body: number;
  readonly end: number;
}

/** The boxes laid end to end in [start, end) of our own fixtures (32-bit sizes only). */
function boxes(bytes: Buffer, start: number, end: number): Box[] {
  const out: Box[] = [];
  for (let at = start; at < end; ) {
    const size = bytes.readUInt32BE(at);
    if (size < 8) throw new Error(`emulator fixture: unexpected box size ${size} at offset ${at}`);
    out.push({ type: bytes.toString('latin1', at + 4, at + 8), body: at + 8, end: at + size });
    at += size;
  }
  return out;
}

function only(bytes: Buffer, parent: { body: number; end: number }, type: string): Box {
  const box = boxes(bytes, parent.body, parent.end).find((b) => b.type === type);
  if (!box) throw new Error(`emulator fixture: no '${type}' box`);
  return box;
}

/**
 * A copy of a fixture that lasts `seconds`: the same frames, each shown longer or shorter. The
 * movie, track and edit durations say exactly `seconds`; the frame duration (`stts`) and the media
 * duration (`mdhd`) follow, rounded to the media's time scale. Enough for the runner's header
 * check and for a player; our own fixtures are v0 boxes with one `stts` run and one edit.
 */
function retime(fixture: Buffer, seconds: number): Buffer {
  const bytes = Buffer.from(fixture);
  const moov = only(bytes, { body: 0, end: bytes.length }, 'moov');
  const mvhd = only(bytes, moov, 'mvhd');
  const movieScale = bytes.readUInt32BE(mvhd.body + 12);
  bytes.writeUInt32BE(seconds * movieScale, mvhd.body + 16);
  for (const trak of boxes(bytes, moov.body, moov.end).filter((b) => b.type === 'trak')) {
    bytes.writeUInt32BE(seconds * movieScale, only(bytes, trak, 'tkhd').body + 20);
    const elst = only(bytes, only(bytes, trak, 'edts'), 'elst');
    if (bytes.readUInt32BE(elst.body + 4) !== 1) throw new Error('emulator fixture: expected one edit');
    bytes.writeUInt32BE(seconds * movieScale, elst.body + 8);
    const mdia = only(bytes, trak, 'mdia');
    const mdhd = only(bytes, mdia, 'mdhd');
    const stts = only(bytes, only(bytes, only(bytes, mdia, 'minf'), 'stbl'), 'stts');
    if (bytes.readUInt32BE(stts.body + 4) !== 1) throw new Error('emulator fixture: expected one stts run');
    const frames = bytes.readUInt32BE(stts.body + 8);
    const delta = Math.round((seconds * bytes.readUInt32BE(mdhd.body + 12)) / frames);
    bytes.writeUInt32BE(delta, stts.body + 12);
    bytes.writeUInt32BE(delta * frames, mdhd.body + 16);
  }
  return bytes;
}

/** The clip of one duration (whole seconds, as the API's string): a fixture, retimed from the nearest one when no fixture has that length. */
export function videoAsset(duration: string): Buffer {
  let bytes = assetCache.get(duration);
  if (!bytes) {
    const seconds = Number(duration);
    const nearest = [...FIXTURES.keys()].reduce((a, b) => (Math.abs(b - seconds) < Math.abs(a - seconds) ? b : a));
    const fixture = readFileSync(FIXTURES.get(nearest) as URL);
    assetCache.set(duration, (bytes = nearest === seconds ? fixture : retime(fixture, seconds)));
  }
  return bytes;
}

/**
 * The clip with a trailing `free` box naming the task: still a valid, playable MP4, but each
 * task's file has its own sha256, so a test can tell whose video a job downloaded.
 */
export function videoFor(taskId: string, duration: string): Buffer {
  const payload = Buffer.from(`klingrun-emulator task ${taskId}`);
  const header = Buffer.alloc(8);
  header.writeUInt32BE(8 + payload.length, 0);
  header.write('free', 4, 'latin1');
  return Buffer.concat([videoAsset(duration), header, payload]);
}

export interface VideoRef {
  readonly taskId: string;
  /** Whole seconds as the API's string, e.g. "5". */
  readonly duration: string;
}

export type TokenCheck = ({ readonly ok: true } & VideoRef) | { readonly ok: false; readonly reason: 'expired' | 'invalid' };

/** Mints and checks the URL tokens; the secret lives only as long as the emulator. */
export class VideoLinks {
  readonly #secret = randomBytes(16);
  /** Tokens expired before their time. */
  readonly #revoked = new Set<string>();

  #sign(payload: string): string {
    return createHmac('sha256', this.#secret).update(payload).digest('hex').slice(0, 24);
  }

  /** A token for `/__videos/<token>.mp4`, valid until `expiresAt` (real ms). */
  mint(ref: VideoRef, expiresAt: number): string {
    // A millisecond later than a revoked token of the same task and expiry, so the fresh URL differs from the dead one.
    for (let at = Math.ceil(expiresAt); ; at++) {
      const payload = `${ref.taskId}_${ref.duration}_${at}`;
      const token = `${payload}_${this.#sign(payload)}`;
      if (!this.#revoked.has(token)) return token;
    }
  }

  /** From now on the token answers as expired. */
  revoke(token: string): void {
    this.#revoked.add(token);
  }

  check(token: string, now: number): TokenCheck {
    const match = /^(\d+)_([1-9]\d*)_(\d+)_([0-9a-f]{24})$/.exec(token);
    if (!match) return { ok: false, reason: 'invalid' };
    const [, taskId, duration, expiresAt, signature] = match as unknown as [string, string, string, string, string];
    const expected = Buffer.from(this.#sign(`${taskId}_${duration}_${expiresAt}`));
    if (!timingSafeEqual(expected, Buffer.from(signature))) return { ok: false, reason: 'invalid' };
    if (now >= Number(expiresAt) || this.#revoked.has(token)) return { ok: false, reason: 'expired' };
    return { ok: true, taskId, duration };
  }
}
