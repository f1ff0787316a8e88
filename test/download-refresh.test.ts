// A video URL gone stale answers in many ways besides 403: an expired signed URL of a cloud bucket
// answers 400, a refused one 401, a broken CDN 5xx, a "link expired" page 200 with HTML. Whatever
// it answers, if it is not the video the task is looked up again (once for each URL, before giving up)
// and the video downloaded from the fresh URL; the key never goes to the video host.
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { ProviderError } from '../src/api/errors.js';
import type { EmulatorOptionsInput } from '../src/emulator/index.js';
import { videoFor } from '../src/emulator/videos.js';
import { systemClock } from '../src/effects.js';
import { replay } from '../src/runner/job-state.js';
import type { RunInput } from '../src/runner/run.js';
import type { JournalEvent } from '../src/state/events.js';
import { type InProcessRun, runInProcess, sha256 } from './helpers/crash.js';
import { emulator } from './helpers/emulator.js';
import { FAKE_MP4, createHarness, eventsOf, makePlan } from './helpers/runner-harness.js';

const KEY = `sk-download-${randomBytes(12).toString('hex')}`;
/** A task takes 50 ms: 5 emulated seconds queued and 20 processing, at 1/500 speed. */
const FAST = { keys: [KEY], timeScale: 0.002, queueS: 5, processingS: 20 } as const satisfies EmulatorOptionsInput;

interface Sent {
  readonly url: string;
  readonly headers: Headers;
}

/** The real fetch, each video request recorded with the headers it carried. */
function recordingFetch(sent: Sent[]): typeof fetch {
  return ((input: string | URL | Request, init?: RequestInit) => {
    sent.push({ url: String(input), headers: new Headers(init?.headers) });
    return fetch(input, init);
  }) as typeof fetch;
}

const videoUrls = (events: readonly JournalEvent[]): string[] => events.flatMap((e) => (e.ev === 'succeeded' ? [e.videos[0]?.url ?? ''] : []));

function expectDownloadedOnce(run: InProcessRun, sent: readonly Sent[]): void {
  const job = makePlan(1).jobs[0]!;
  const state = replay(run.events).get(job.id);
  expect(state?.phase).toBe('downloaded');
  // One fresh lookup: a second `succeeded` with a new URL.
  const [stale, fresh, ...more] = videoUrls(run.events);
  expect(more).toEqual([]);
  expect(fresh).not.toBe(stale);
  expect(sent.filter((s) => s.url === stale)).toHaveLength(1);
  expect(sent.map((s) => s.url)).toEqual([stale, fresh]);
  const bytes = readFileSync(join(run.outputDir, state!.download!.path));
  expect(sha256(bytes)).toBe(state!.download!.sha256);
  expect(bytes.equals(videoFor(state!.taskId!, '5'))).toBe(true);
  for (const request of sent) {
    expect(request.headers.get('authorization')).toBeNull();
    expect(JSON.stringify([request.url, [...request.headers]])).not.toContain(KEY);
  }
}

describe('a stale video URL that does not answer 403', () => {
  it.each([400, 401, 500, 'html'] as const)('answering %s: the task is looked up once and the video comes from the fresh URL', async (answer) => {
    const emu = await emulator({ ...FAST, staleUrlAnswer: answer, faults: [{ kind: 'stale-url', count: 1 }] });
    const sent: Sent[] = [];
    const run = await runInProcess(emu, makePlan(1), { key: KEY, overrides: { fetch: recordingFetch(sent) } });
    onTestFinished(() => rmSync(run.outputDir, { recursive: true, force: true }));
    expectDownloadedOnce(run, sent);
    expect(emu.stats().requestsByRoute.download).toBe(2);
  });

  it('a fresh URL that goes stale too is refreshed again: once for each URL, not once a run', async () => {
    const emu = await emulator({ ...FAST, staleUrlAnswer: 400, faults: [{ kind: 'stale-url', count: 2 }] });
    const sent: Sent[] = [];
    const run = await runInProcess(emu, makePlan(1), { key: KEY, overrides: { fetch: recordingFetch(sent) } });
    onTestFinished(() => rmSync(run.outputDir, { recursive: true, force: true }));
    const job = makePlan(1).jobs[0]!;
    expect(replay(run.events).get(job.id)?.phase).toBe('downloaded');
    const urls = videoUrls(run.events);
    expect(new Set(urls).size).toBe(3);
    // Each URL fetched once: two stale answers, two lookups, then the video.
    expect(sent.map((s) => s.url)).toEqual(urls);
  });

  it('a URL past its lifetime answering 400 (staleUrlAnswer, no fault) is refreshed the same way', async () => {
    // The emulator's clock jumps past the URL's lifetime just before the first download.
    let offset = 0;
    const clock = { now: () => Date.now() + offset, sleep: systemClock.sleep };
    const emu = await emulator({ ...FAST, urlTtlS: 60, staleUrlAnswer: 400, clock });
    const sent: Sent[] = [];
    const record = recordingFetch(sent);
    const expiring = ((input: string | URL | Request, init?: RequestInit) => {
      if (sent.length === 0) offset += 60 * 1000 * FAST.timeScale + 50;
      return record(input, init);
    }) as typeof fetch;
    const run = await runInProcess(emu, makePlan(1), { key: KEY, overrides: { fetch: expiring } });
    onTestFinished(() => rmSync(run.outputDir, { recursive: true, force: true }));
    expectDownloadedOnce(run, sent);
  });
});

describe('a host that never gives the video', () => {
  it.each([
    ['HTTP 400', () => new Response('<Error><Code>ExpiredToken</Code></Error>', { status: 400, headers: { 'content-type': 'application/xml' } })],
    ['a 200 HTML page', () => new Response('<h1>This link has expired</h1>', { status: 200, headers: { 'content-type': 'text/html' } })],
    ['a 200 body that is not an MP4', () => new Response('not a video at all', { status: 200, headers: { 'content-type': 'application/octet-stream' } })],
  ])('answering %s: each run looks the task up once before giving up, and a run where it heals downloads', async (_name, answer) => {
    const harness = createHarness(makePlan(1));
    onTestFinished(() => harness.cleanup());
    let healed = false;
    const urls: string[] = [];
    const fetch = (async (input: string | URL | Request) => {
      urls.push(String(input));
      return healed ? new Response(FAKE_MP4, { status: 200, headers: { 'content-type': 'video/mp4' } }) : answer();
    }) as typeof globalThis.fetch;
    await harness.run({ overrides: { fetch } });
    const lookups = (): number => harness.provider.calls.filter((c) => c === 'get').length;
    const afterFirst = lookups();
    expect(eventsOf(harness.events, 'download_failed')).toHaveLength(1);
    expect(eventsOf(harness.events, 'succeeded')).toHaveLength(2); // the poll's, then one fresh lookup
    expect(urls.length).toBeLessThanOrEqual(6);
    // The rerun asks the provider again, not only the dead URL.
    await harness.run({ overrides: { fetch } });
    expect(lookups()).toBe(afterFirst + 1);
    healed = true;
    const result = await harness.run({ overrides: { fetch } });
    expect([...result.states.values()][0]?.phase).toBe('downloaded');
  });
});

describe('a lookup for a fresh URL that gets no answer', () => {
  it('does not count as the refresh: the next try asks again, and the video comes in the same run', async () => {
    const harness = createHarness(makePlan(1));
    onTestFinished(() => harness.cleanup());
    const { provider } = harness;
    let staleAnswers = 0;
    let freshLookups = 0;
    // The URL answers like an expired signature until a lookup has given it out again.
    const fetch = (async () => {
      if (freshLookups > 0) return new Response(FAKE_MP4, { status: 200, headers: { 'content-type': 'video/mp4' } });
      staleAnswers += 1;
      return new Response('<Error><Code>ExpiredToken</Code></Error>', { status: 400, headers: { 'content-type': 'application/xml' } });
    }) as typeof globalThis.fetch;
    // The first lookup after the stale answer meets a server error.
    let failedOnce = false;
    const client: RunInput['client'] = {
      createTask: (body) => provider.createTask(body),
      findByExternalId: (id) => provider.findByExternalId(id),
      listTasks: (options) => provider.listTasks(options),
      getTask: async (taskId: string) => {
        if (staleAnswers > 0 && !failedOnce) {
          failedOnce = true;
          throw new ProviderError('HTTP 500 (GET /kling/v1/videos/image2video/T1)', { code: 5000, errorClass: 'retryable-server' });
        }
        const task = await provider.getTask(taskId);
        if (staleAnswers > 0) freshLookups += 1;
        return task;
      },
    };
    const result = await harness.run({ overrides: { fetch, client } });
    expect(failedOnce).toBe(true);
    expect([...result.states.values()][0]?.phase).toBe('downloaded');
    expect(eventsOf(harness.events, 'download_failed')).toEqual([]);
  });
});
