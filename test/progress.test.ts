// The progress display tells the truth: "in flight" is the tasks holding an account slot (never
// more than the concurrency), downloads and unconfirmed jobs are counted apart, the display says
// what the run is waiting for when nothing has finished for a while, and at 80 columns the bars
// keep ok, failed, spend and ETA whole (labels are shortened instead).
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Progress, QUIET_MS, waitingFor } from '../src/cli/progress.js';
import type { Plan, PlannedJob } from '../src/plan/schema.js';
import type { JobState } from '../src/runner/job-state.js';
import { ConcurrencyGate, RequestLimiter } from '../src/runner/limits.js';
import type { WaitSnapshot } from '../src/runner/run.js';
import type { JournalEvent } from '../src/state/events.js';
import { FAKE_MP4, createHarness, makePlan, virtualClock } from './helpers/runner-harness.js';

afterEach(() => {
  vi.useRealTimers();
});

/** Visible lines of what a terminal would show: escape codes removed. */
const visible = (text: string): string[] =>
  text
    .split('\n')
    .map((line) => line.replace(/\x1b\[[0-9;?]*[A-Za-z]|\x1b[78]/g, '').replace(/\r/g, ''))
    .filter((line) => line.trim() !== '');

/** A plan of `count` jobs in variants that differ by a long prompt (a prompt sweep). */
function sweepPlan(prompts: readonly string[], perVariant = 2): Plan {
  const base = makePlan(prompts.length * perVariant);
  const jobs = base.jobs.map((job, i): PlannedJob => {
    const prompt = prompts[Math.floor(i / perVariant)] as string;
    return { ...job, variant: { prompt }, request: { ...job.request, prompt } };
  });
  return { ...base, jobs };
}

const state = (job: PlannedJob, phase: JobState['phase'], extra: Partial<JobState> = {}): JobState => ({ job: job.id, phase, attempt: 1, earlierTasks: 0, ...extra });

describe('the counts', () => {
  it('"in flight" is the tasks at the provider: a job waiting for its download and an unconfirmed one are counted apart', () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const plan = makePlan(6);
    const [a, b, c, d] = plan.jobs as [PlannedJob, PlannedJob, PlannedJob, PlannedJob];
    const states = new Map([
      [a.id, state(a, 'submitted', { taskId: 'T1' })],
      [b.id, state(b, 'submitting')],
      [c.id, state(c, 'succeeded', { taskId: 'T3' })],
      [d.id, state(d, 'submitting', { unconfirmed: 'its answer was lost' })],
    ]);
    let log = '';
    const progress = new Progress({ plan, states, isTTY: false, write: (text) => void (log += text) });
    progress.start();
    vi.advanceTimersByTime(30_000);
    progress.stop();
    expect(log).toMatch(/^progress: 0\/6 done \| queued 2 \| in flight 2 \| downloading 1 \| unconfirmed 1 \| ok 0 \| failed 0 \| spent ~\$0\.33 \| ETA …\n$/);
  });

  it('in a run whose downloads lag, "in flight" never exceeds the concurrency', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const harness = createHarness(makePlan(8));
    try {
      let log = '';
      const progress = new Progress({ plan: makePlan(8), states: new Map(), isTTY: false, write: (text) => void (log += text) });
      progress.start();
      // Each download takes a few turns of the event loop, while polls (on the virtual clock) take none.
      const slowFetch = (async () => {
        for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
        return new Response(FAKE_MP4, { status: 200, headers: { 'content-length': String(FAKE_MP4.length) } });
      }) as unknown as typeof fetch;
      await harness.run({
        limits: { concurrency: 2 },
        overrides: {
          fetch: slowFetch,
          onEvent: (event, jobState, job) => {
            progress.onEvent(event, jobState, job);
            vi.advanceTimersByTime(30_000); // one heartbeat after every event
          },
        },
      });
      progress.stop();
      const inFlight = [...log.matchAll(/in flight (\d+)/g)].map((m) => Number(m[1]));
      const downloading = [...log.matchAll(/downloading (\d+)/g)].map((m) => Number(m[1]));
      expect(inFlight.length).toBeGreaterThan(10);
      expect(Math.max(...inFlight)).toBe(2);
      // The lag is real: finished tasks did wait for their downloads, apart from the ones in flight.
      expect(Math.max(...downloading)).toBeGreaterThan(0);
      expect(log.trimEnd().split('\n').at(-1)).toMatch(/^progress: 8\/8 done \| queued 0 \| in flight 0 \| ok 8 \| failed 0 \| spent ~\$2\.64 \| ETA done/);
    } finally {
      harness.cleanup();
    }
  });
});

describe('what the run is waiting for', () => {
  const counts = { total: 10, queued: 5, inFlight: 3, downloading: 2, unconfirmed: 0, succeeded: 0, failed: 0, skipped: 0 };
  const idle: WaitSnapshot = { slotsHeld: 3, slotsUsable: 5, waitingForSlot: 0, waitingForRate: 0, downloads: 2 };

  it('names the rate limit, account slots, the provider and downloads, most binding first', () => {
    expect(waitingFor(counts, idle, { slots: 0, rate: 0 })).toEqual(["the provider's answer on 3 task(s) in flight", '2 download(s)']);
    expect(waitingFor(counts, { ...idle, waitingForSlot: 1, slotsUsable: 3 }, { slots: 2, rate: 0 })).toEqual([
      'account slots (3 of 3 in use; 2 refused with 1303)',
      "the provider's answer on 3 task(s) in flight",
      '2 download(s)',
    ]);
    expect(waitingFor(counts, { ...idle, waitingForRate: 4 }, { slots: 0, rate: 1 })[0]).toBe('the rate limit (4 request(s) queued; 1 refused with 1302)');
  });

  it('the heartbeat says it once nothing has finished for a while, from the runner\'s snapshot and the refusals seen', () => {
    let now = 1_000_000;
    const plan = makePlan(4);
    const [a, b] = plan.jobs as [PlannedJob, PlannedJob];
    const progress = new Progress({ plan, states: new Map(), isTTY: false, write: () => {}, now: () => now });
    progress.watch(() => ({ slotsHeld: 2, slotsUsable: 2, waitingForSlot: 1, waitingForRate: 0, downloads: 0 }));
    progress.onEvent({ ev: 'submitted', t: 1, job: a.id, attempt: 1, task_id: 'T1' }, state(a, 'submitted'), a);
    progress.onEvent({ ev: 'submitted', t: 1, job: b.id, attempt: 1, task_id: 'T2' }, state(b, 'submitted'), b);
    const refusal: JournalEvent = { ev: 'rejected', t: 2, job: b.id, attempt: 1, code: 1303, message: 'parallel task over resource pack limit', retryable: true };
    progress.onEvent(refusal, state(b, 'pending'), b);
    progress.onEvent({ ev: 'submitted', t: 3, job: b.id, attempt: 1, task_id: 'T3' }, state(b, 'submitted'), b);
    expect(progress.heartbeatLine()).not.toContain('waiting');
    now += QUIET_MS;
    expect(progress.heartbeatLine()).toMatch(/ \| waiting for account slots \(2 of 2 in use; 1 refused with 1303\); the provider's answer on 2 task\(s\) in flight$/);
    // A job finishing starts a new quiet period, and the refusals before it are history.
    progress.onEvent({ ev: 'failed', t: 4, job: a.id, attempt: 1, code: 'task_failed', message: 'x', retriable: true }, state(a, 'failed'), a);
    expect(progress.heartbeatLine()).not.toContain('waiting');
  });

  it('the runner tells how many submits wait for a slot and how many downloads are under way', async () => {
    const harness = createHarness(makePlan(3));
    try {
      let snapshot: (() => WaitSnapshot) | undefined;
      const seen: Array<{ ev: string } & WaitSnapshot> = [];
      await harness.run({
        overrides: {
          gate: new ConcurrencyGate({ max: 1 }),
          watch: (read) => void (snapshot = read),
          onEvent: (event) => void (snapshot && seen.push({ ev: event.ev, ...snapshot() })),
        },
      });
      const firstSubmitted = seen.find((s) => s.ev === 'submitted');
      // One task at the provider, the next job's submit queued for its slot.
      expect(firstSubmitted).toMatchObject({ slotsHeld: 1, slotsUsable: 1, waitingForSlot: 1, waitingForRate: 0 });
      // Each download counts itself while it records its result; the last one is alone.
      const downloads = seen.filter((s) => s.ev === 'downloaded').map((s) => s.downloads);
      expect(downloads).toHaveLength(3);
      expect(downloads.every((n) => n >= 1)).toBe(true);
      expect(downloads.at(-1)).toBe(1);
      expect(seen.at(-1)).toMatchObject({ slotsHeld: 0, waitingForSlot: 0 });
    } finally {
      harness.cleanup();
    }
  });

  it('the gate and the limiter count their waiters', async () => {
    const gate = new ConcurrencyGate({ max: 1 });
    await gate.acquire();
    const next = gate.acquire();
    expect(gate.waiting).toBe(1);
    gate.release();
    await next;
    expect(gate.waiting).toBe(0);

    const limiter = new RequestLimiter({ rpm: 1, clock: virtualClock() });
    await limiter.take();
    const later = limiter.take();
    expect(limiter.waiting).toBe(1);
    await later;
    expect(limiter.waiting).toBe(0);
  });
});

describe('at 80 columns', () => {
  const prompts = ['the harbor at dawn, a slow push-in over the water', 'a meadow in the wind, clouds drifting overhead'];

  it('every line fits; the bars keep their numbers (ok, failed, spend, ETA) and the labels are shortened', () => {
    const plan = sweepPlan(prompts);
    const [a] = plan.jobs as [PlannedJob];
    let screen = '';
    const states = new Map([[a.id, state(a, 'downloaded', { download: { path: 'a.mp4', sha256: 'x', bytes: 1 } })]]);
    const progress = new Progress({ plan, states, isTTY: true, write: (text) => void (screen += text), columns: 80 });
    progress.start();
    progress.stop();
    const lines = visible(screen);
    for (const line of lines) expect(line.length, line).toBeLessThanOrEqual(80);
    const [same, all, first, second, status] = lines;
    // What the variants share is said once; each label is what tells it apart, cut at a word.
    expect(same).toBe('same for every job: kling-v2-5-turbo pro 5s');
    expect(all).toMatch(/^all +\[[█░]{10,}\] 1\/4 ok 1 failed 0 ~\$0\.33 ETA …$/);
    expect(first).toMatch(/^prompt="the harbor at dawn, a slow…\s+\[[█░]{10,}\] 1\/2 ok 1 failed 0$/);
    expect(second).toMatch(/ 0\/2 ok 0 failed 0$/);
    // What the bars leave out on a narrow terminal is on the status line.
    expect(status).toBe('queued 3 · in flight 0');
  });

  it('on a wide terminal every count is on the bars', () => {
    let screen = '';
    const progress = new Progress({ plan: sweepPlan(prompts), states: new Map(), isTTY: true, write: (text) => void (screen += text), columns: 160 });
    progress.start();
    progress.stop();
    const [, all, first] = visible(screen);
    expect(all).toMatch(/\] 0\/4 \| queued 4 \| in flight 0 \| ok 0 \| failed 0 \| spent ~\$0\.00 \| ETA …$/);
    // Labels longer than 40 characters are cut even when there is room, at a word boundary.
    expect(first).toMatch(/^prompt="the harbor at dawn, a slow… +\[░{24}\] 0\/2 \| queued 2 \| in flight 0 \| ok 0 \| failed 0$/);
  });
});

describe("the run's warnings", () => {
  it('on a terminal a warning is written above the bars, even one logged just before they stop', () => {
    let screen = '';
    const progress = new Progress({ plan: makePlan(2), states: new Map(), isTTY: true, write: (text) => void (screen += text), columns: 100 });
    progress.start();
    progress.log('warning: task T1 succeeded without a video URL; asking again\n');
    progress.stop();
    const lines = visible(screen);
    const warning = lines.indexOf('warning: task T1 succeeded without a video URL; asking again');
    expect(warning).toBeGreaterThan(-1);
    // The final bars are drawn after it, not torn by it.
    expect(lines.slice(warning + 1).some((line) => line.startsWith('all '))).toBe(true);
    expect(lines.filter((line) => line.includes('warning:'))).toHaveLength(1);
  });

  it('before the bars start and after they stop, a warning is written as it is', () => {
    let screen = '';
    const progress = new Progress({ plan: makePlan(2), states: new Map(), isTTY: true, write: (text) => void (screen += text), columns: 100 });
    progress.log('warning: before\n');
    progress.start();
    progress.stop();
    progress.log('warning: after\n');
    progress.note('Interrupted: after the end');
    expect(screen.startsWith('warning: before\n')).toBe(true);
    expect(screen.endsWith('warning: after\nInterrupted: after the end\n')).toBe(true);
  });
});
