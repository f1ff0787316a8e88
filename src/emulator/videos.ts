// The videos the emulator hands out: real MP4 fixtures of 5 s and 10 s, tagged per task, behind
// expiring, signed URLs. Tokens carry their own expiry and an HMAC, so the emulator keeps no table of
// issued URLs and a stale URL answers 403 like a CDN's expired signature.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Duration } from '../api/schemas.js';

const ASSETS: Record<Duration, URL> = {
  '5': new URL('./assets/video-5s.mp4', import.meta.url),
  '10': new URL('./assets/video-10s.mp4', import.meta.url),
};
const assetCache = new Map<Duration, Buffer>();

/** The fixture of one duration, as shipped. */
export function videoAsset(duration: Duration): Buffer {
  let bytes = assetCache.get(duration);
  if (!bytes) assetCache.set(duration, (bytes = readFileSync(ASSETS[duration])));
  return bytes;
}

/**
 * The fixture with a trailing `free` box naming the task: still a valid, playable MP4, but each
 * task's file has its own sha256, so a test can tell whose video a job downloaded.
 */
export function videoFor(taskId: string, duration: Duration): Buffer {
  const payload = Buffer.from(`klingrun-emulator task ${taskId}`);
  const header = Buffer.alloc(8);
  header.writeUInt32BE(8 + payload.length, 0);
  header.write('free', 4, 'latin1');
  return Buffer.concat([videoAsset(duration), header, payload]);
}

export interface VideoRef {
  readonly taskId: string;
  readonly duration: Duration;
}

export type TokenCheck = ({ readonly ok: true } & VideoRef) | { readonly ok: false; readonly reason: 'expired' | 'invalid' };

/** Mints and checks the URL tokens; the secret lives only as long as the emulator. */
export class VideoLinks {
  readonly #secret = randomBytes(16);

  #sign(payload: string): string {
    return createHmac('sha256', this.#secret).update(payload).digest('hex').slice(0, 24);
  }

  /** A token for `/__videos/<token>.mp4`, valid until `expiresAt` (real ms). */
  mint(ref: VideoRef, expiresAt: number): string {
    const payload = `${ref.taskId}_${ref.duration}_${Math.ceil(expiresAt)}`;
    return `${payload}_${this.#sign(payload)}`;
  }

  check(token: string, now: number): TokenCheck {
    const match = /^(\d+)_(5|10)_(\d+)_([0-9a-f]{24})$/.exec(token);
    if (!match) return { ok: false, reason: 'invalid' };
    const [, taskId, duration, expiresAt, signature] = match as unknown as [string, string, Duration, string, string];
    const expected = Buffer.from(this.#sign(`${taskId}_${duration}_${expiresAt}`));
    if (!timingSafeEqual(expected, Buffer.from(signature))) return { ok: false, reason: 'invalid' };
    if (now >= Number(expiresAt)) return { ok: false, reason: 'expired' };
    return { ok: true, taskId, duration };
  }
}
