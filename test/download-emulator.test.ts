// The emulator's video host as the downloader meets it: how an expired URL answers
// (`staleUrlAnswer`), a URL that goes stale before its time (`stale-url`), a link that stalls
// half-way (`stalled-download`), and Range requests (206 with Content-Range).
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { EmulatorOptionsInput } from '../src/emulator/index.js';
import { videoFor } from '../src/emulator/videos.js';
import { replay } from '../src/runner/job-state.js';
import { runInProcess } from './helpers/crash.js';
import { body, create, emulator, get, manualClock } from './helpers/emulator.js';
import { makePlan } from './helpers/runner-harness.js';

/** A finished task's video URL and bytes, on an emulator whose clock only moves when told. */
async function finishedVideo(options: EmulatorOptionsInput = {}) {
  const clock = manualClock();
  const emu = await emulator({ clock, queueS: 0, processingS: 0, timeScale: 0.5, urlTtlS: 10, ...options });
  const id: string = (await create(emu, body())).json.data.task_id;
  const lookUp = async (): Promise<string> => (await get(emu, id)).json.data.task_result.videos[0].url;
  return { emu, clock, id, url: await lookUp(), lookUp, bytes: videoFor(id, '5') };
}

describe('an expired video URL answers as staleUrlAnswer says', () => {
  it.each([
    [403, 403, 'text/html'],
    [400, 400, 'application/xml'],
    [401, 401, 'application/xml'],
    [500, 500, 'text/html'],
    ['html', 200, 'text/html'],
  ] as const)('%s: HTTP %i, %s; a lookup gives a fresh URL that works', async (answer, status, type) => {
    const { clock, url, lookUp, bytes } = await finishedVideo({ staleUrlAnswer: answer });
    clock.advance(5000); // 10 emulated s × 0.5
    const stale = await fetch(url);
    expect(stale.status).toBe(status);
    expect(stale.headers.get('content-type')).toContain(type);
    expect(await stale.text()).not.toContain('ftyp');
    const fresh = await lookUp();
    expect(fresh).not.toBe(url);
    expect(Buffer.from(await (await fetch(fresh)).arrayBuffer()).equals(bytes)).toBe(true);
  });

  it('the stale-url fault expires a URL before its time: it stays bad until a lookup issues a fresh one', async () => {
    const { emu, url, lookUp } = await finishedVideo({ staleUrlAnswer: 400, faults: [{ kind: 'stale-url', count: 1 }] });
    expect((await fetch(url)).status).toBe(400);
    expect((await fetch(url)).status).toBe(400); // the fault fired once; the URL is still dead
    const fresh = await lookUp();
    expect(fresh).not.toBe(url);
    expect((await fetch(fresh)).status).toBe(200);
    expect(emu.stats().faultsFired).toMatchObject({ 'stale-url': 1 });
  });
});

describe('Range requests', () => {
  it('answers bytes=N- with 206 and the rest of the file, and a stale If-Range with the whole file', async () => {
    const { url, bytes } = await finishedVideo();
    const whole = await fetch(url);
    expect(whole.headers.get('accept-ranges')).toBe('bytes');
    const etag = whole.headers.get('etag') ?? '';
    await whole.arrayBuffer();
    const rest = await fetch(url, { headers: { Range: 'bytes=100-', 'If-Range': etag } });
    expect(rest.status).toBe(206);
    expect(rest.headers.get('content-range')).toBe(`bytes 100-${bytes.length - 1}/${bytes.length}`);
    expect(Buffer.from(await rest.arrayBuffer()).equals(bytes.subarray(100))).toBe(true);
    const changed = await fetch(url, { headers: { Range: 'bytes=100-', 'If-Range': '"another"' } });
    expect(changed.status).toBe(200);
    expect(Buffer.from(await changed.arrayBuffer()).equals(bytes)).toBe(true);
    const beyond = await fetch(url, { headers: { Range: `bytes=${bytes.length}-` } });
    expect(beyond.status).toBe(416);
  });
});

describe('stalled-download', () => {
  it('the runner cuts the stalled answer for idleness and resumes with Range: two requests, the whole file', async () => {
    const key = `sk-stall-${randomBytes(8).toString('hex')}`;
    // Half the video, then 1,000 emulated s (2 real s) of nothing; the runner waits 300 ms.
    const emu = await emulator({ keys: [key], timeScale: 0.002, queueS: 5, processingS: 20, downloadStallS: 1000, faults: [{ kind: 'stalled-download', count: 1 }] });
    const ranges: Array<string | null> = [];
    const recording = ((input: string | URL | Request, init?: RequestInit) => {
      ranges.push(new Headers(init?.headers).get('range'));
      return fetch(input, init);
    }) as typeof fetch;
    const run = await runInProcess(emu, makePlan(1), { key, overrides: { fetch: recording, downloadTimeoutMs: 300 } });
    onTestFinished(() => rmSync(run.outputDir, { recursive: true, force: true }));
    const state = [...replay(run.events).values()][0]!;
    expect(state.phase).toBe('downloaded');
    const half = Math.floor(videoFor(state.taskId!, '5').length / 2);
    expect(ranges).toEqual([null, `bytes=${half}-`]);
    expect(state.download?.bytes).toBe(videoFor(state.taskId!, '5').length);
  });
});
