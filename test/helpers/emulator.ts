// Helpers for the emulator's tests: a started emulator closed after the test, raw HTTP calls,
// a hand-driven clock, and real PNG images built in memory.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { deflateSync } from 'node:zlib';
import { onTestFinished } from 'vitest';
import type { Clock } from '../../src/effects.js';
import { startEmulator, type EmulatorHandle, type EmulatorOptionsInput } from '../../src/emulator/index.js';

export const KEY = 'emulator-key';
export const TASKS = '/kling/v1/videos/image2video';

/** Starts an emulator on a free port, closed when the current test finishes. */
export async function emulator(options: EmulatorOptionsInput = {}): Promise<EmulatorHandle> {
  const handle = await startEmulator(options);
  onTestFinished(() => handle.close());
  return handle;
}

/** A clock that only moves when told to. */
export function manualClock(start = 1_700_000_000_000): Clock & { advance(ms: number): void } {
  let now = start;
  return {
    now: () => now,
    sleep: async () => {},
    advance: (ms) => {
      now += ms;
    },
  };
}

export interface Reply {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  /** The parsed body, or undefined when it is not JSON. */
  // any: tests navigate answers of many shapes, and a wrong guess fails the assertion anyway.
  readonly json: any;
}

/** One raw HTTP call, as curl would make it. */
export async function call(
  handle: EmulatorHandle,
  method: string,
  path: string,
  init: { body?: unknown; key?: string | null; headers?: Record<string, string>; timeoutMs?: number } = {},
): Promise<Reply> {
  const headers: Record<string, string> = { ...init.headers };
  if (init.key !== null) headers.Authorization = `Bearer ${init.key ?? KEY}`;
  if (init.body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(`${handle.url}${path}`, {
    method,
    headers,
    body: init.body === undefined ? undefined : typeof init.body === 'string' ? init.body : JSON.stringify(init.body),
    signal: AbortSignal.timeout(init.timeoutMs ?? 5000),
  });
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

export const create = (handle: EmulatorHandle, body: unknown, key?: string) => call(handle, 'POST', TASKS, { body, ...(key ? { key } : {}) });
export const get = (handle: EmulatorHandle, id: string, key?: string) => call(handle, 'GET', `${TASKS}/${encodeURIComponent(id)}`, key ? { key } : {});

/** A minimal valid create body (the image is a URL, which the emulator accepts unseen). */
export function body(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { image: 'https://example.com/source.jpg', prompt: 'A slow push-in', ...overrides };
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Buffer): number {
  let c = 0xffffffff;
  for (const byte of bytes) c = (CRC_TABLE[(c ^ byte) & 0xff] as number) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/** A real grayscale PNG; `padBytes` adds a private ancillary chunk to reach a file size. */
export function png(width: number, height: number, padBytes = 0): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 0, 0, 0, 0], 8); // 8-bit grayscale, no interlace
  const raw = Buffer.alloc((width + 1) * height); // filter byte 0 + black pixels, per row
  const parts = [Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr)];
  if (padBytes > 0) parts.push(chunk('prVt', Buffer.alloc(padBytes)));
  parts.push(chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0)));
  return Buffer.concat(parts);
}

export const pngBase64 = (width: number, height: number, padBytes = 0): string => png(width, height, padBytes).toString('base64');

/** Whether ffprobe is on PATH. Tests that need it skip without it, except in CI (`.ci/run` installs it). */
export const hasFfprobe: boolean = await promisify(execFile)('ffprobe', ['-version']).then(
  () => true,
  () => false,
);

/** ffprobe's view of an MP4 (null without ffprobe); rejects when ffprobe refuses the file. */
export async function probeMp4(bytes: Buffer): Promise<{ durationS: number; codec: string; width: number; height: number } | null> {
  if (!hasFfprobe) return null;
  const dir = await mkdtemp(join(tmpdir(), 'klingrun-probe-'));
  try {
    const file = join(dir, 'video.mp4');
    await writeFile(file, bytes);
    const { stdout } = await promisify(execFile)('ffprobe', ['-v', 'error', '-show_entries', 'format=duration:stream=codec_name,width,height', '-of', 'json', file]);
    const info = JSON.parse(stdout) as { format: { duration: string }; streams: { codec_name: string; width: number; height: number }[] };
    const stream = info.streams[0];
    if (!stream) throw new Error('ffprobe found no stream');
    return { durationS: Number(info.format.duration), codec: stream.codec_name, width: stream.width, height: stream.height };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Skip a test that needs ffprobe on a machine without it; in CI a missing ffprobe fails instead. */
export const withoutFfprobe: boolean = !hasFfprobe && process.env.CI !== 'true';
