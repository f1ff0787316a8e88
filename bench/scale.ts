// Bench: scale. (1) Resuming a 100,000-job batch: open, read and check its ~600,000-line journal
// and fold it into job states, target under 5 s. (2) The bookkeeping of a whole 100,000-job run,
// target under 300 MB peak RSS: the real runner, journal file and video files, against an
// in-memory provider (HTTP to the emulator would make it 400,000 localhost round trips, minutes
// of CPU that measure Node's HTTP stack, not the runner's memory).
import { closeSync, openSync, writeSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { seededRandom, silentLogger } from '../src/effects.js';
import { nextAction } from '../src/runner/actions.js';
import { type DownloadFs, nodeDownloadFs } from '../src/runner/download.js';
import { JournalState } from '../src/runner/job-state.js';
import { ConcurrencyGate, RequestLimiter } from '../src/runner/limits.js';
import { resolveRunOptions } from '../src/runner/options.js';
import { videoPath } from '../src/runner/paths.js';
import { runJobs } from '../src/runner/run.js';
import type { JournalEvent } from '../src/state/events.js';
import { nodeJournalFs, openJournal } from '../src/state/journal.js';
import { makePlan } from '../test/helpers/runner-harness.js';
import { scaledClock } from './clock.js';
import { fmt } from './emulated.js';
import type { BenchCase, BenchResult } from './index.js';
import { MemoryProvider, headerOnlyMp4, videoFetch } from './memory-provider.js';

export const SCALE_JOBS = 100_000;
const MB = 1024 * 1024;

/** The six events a finished job leaves: submitting, submitted, two status changes, succeeded, downloaded. */
function finishedJobEvents(job: ReturnType<typeof makePlan>['jobs'][number], index: number, t: number): JournalEvent[] {
  const task_id = `7${String(index).padStart(18, '0')}`;
  const base = { job: job.id };
  return [
    { ev: 'submitting', t, ...base, attempt: 1, external_task_id: job.external_task_id, request: job.request },
    { ev: 'submitted', t: t + 400, ...base, attempt: 1, task_id, created_at: t + 350 },
    { ev: 'status', t: t + 20_000, ...base, task_id, task_status: 'processing' },
    { ev: 'status', t: t + 95_000, ...base, task_id, task_status: 'succeed' },
    { ev: 'succeeded', t: t + 95_000, ...base, task_id, videos: [{ id: `video-${task_id}`, url: `https://cdn.example/videos/${task_id}.mp4?token=${job.id.slice(0, 32)}`, duration: '5' }], finished_at: t + 93_000 },
    { ev: 'downloaded', t: t + 96_000, ...base, path: videoPath(job), sha256: job.id, bytes: 4_812_345, duration_s: 5.04, width: 1280, height: 720 },
  ];
}

/** Writes the journal of a finished 100,000-job batch; jobs interleave in groups of 100, as a run's do. */
function writeFinishedJournal(file: string, jobs: number): { lines: number; bytes: number } {
  const plan = makePlan(jobs);
  const fd = openSync(file, 'w');
  let lines = 0;
  let bytes = 0;
  const write = (events: readonly JournalEvent[]): void => {
    const text = events.map((event) => `${JSON.stringify(event)}\n`).join('');
    bytes += writeSync(fd, text);
    lines += events.length;
  };
  try {
    const start = Date.UTC(2025, 0, 1);
    write([{ ev: 'header', t: start, version: 1, name: plan.name, tool_version: 'bench' }]);
    for (let group = 0; group < plan.jobs.length; group += 100) {
      const perJob = plan.jobs.slice(group, group + 100).map((job, i) => finishedJobEvents(job, group + i, start + (group + i) * 1000));
      for (let step = 0; step < 6; step++) write(perJob.map((events) => events[step] as JournalEvent));
    }
  } finally {
    closeSync(fd);
  }
  return { lines, bytes };
}

export interface ReplayInput {
  readonly file: string;
  readonly lines: number;
  readonly bytes: number;
}

/** Untimed: the journal of a finished batch of `jobs` jobs, in `dir`. */
export function prepareReplay(dir: string, jobs: number): ReplayInput {
  const file = join(dir, 'state.jsonl');
  return { file, ...writeFinishedJournal(file, jobs) };
}

/** What a resume does with the journal before anything else: open and check it, fold it, decide. */
export async function measureReplay(input: ReplayInput): Promise<BenchResult> {
  const { file, lines, bytes } = input;
  const start = performance.now();
  const folded = new JournalState();
  const journal = openJournal(file, { name: 'test', toolVersion: 'bench', onEvent: folded.add });
  const opened = performance.now();
  const { states } = folded;
  const done = [...states.values()].filter((state) => nextAction(state, { retryFailed: false, fileIntact: true }).kind === 'done').length;
  const decided = performance.now();
  journal.close();
  if (journal.replayed !== lines) throw new Error(`replayed ${journal.replayed} of ${lines} lines`);
  return {
    detail: `${lines} lines (${fmt(bytes / MB, 0)} MB) read, checked and folded into ${states.size} job states in ${fmt(opened - start, 0)} ms, ${done} found done in ${fmt(decided - opened, 0)} ms`,
    metrics: [{ name: 'lines per second (thousands)', value: lines / (decided - start) }],
  };
}

export const replayCase: BenchCase = {
  name: 'replay-100k',
  description: 'resume: open a finished 100,000-job journal (~600,000 lines), read and check every line, fold into job states, decide each next action',
  targets: { ms: 5_000 },
  prepare: async (dir) => prepareReplay(dir, SCALE_JOBS),
  run: (input) => measureReplay(input as ReplayInput),
};

/** Peak RSS and heap, sampled every 50 ms while `body` runs (no forced GC: what a user would see). */
async function sampled<T>(body: () => Promise<T>): Promise<{ value: T; peakRss: number; peakHeap: number }> {
  let peakRss = 0;
  let peakHeap = 0;
  const sample = (): void => {
    const usage = process.memoryUsage();
    peakRss = Math.max(peakRss, usage.rss);
    peakHeap = Math.max(peakHeap, usage.heapUsed);
  };
  const timer = setInterval(sample, 50);
  try {
    const value = await body();
    sample();
    return { value, peakRss, peakHeap };
  } finally {
    clearInterval(timer);
  }
}

/** A full garbage collection, without starting node with --expose-gc. */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

/** Real files, without the per-file fsync: 100,000 fsyncs would measure the disk, not the runner. */
const unsyncedFs: DownloadFs = {
  ...nodeDownloadFs,
  async open(path, flags) {
    const handle = await open(path, flags);
    return { write: (data) => handle.write(data), sync: async () => {}, close: () => handle.close() };
  },
};

export interface ScaleRunSetup {
  readonly jobs: number;
  readonly concurrency: number;
  /** Real ms per emulated ms: 1e-3 makes a 60 s task 60 real ms. */
  readonly scale: number;
  readonly pollS: number;
  readonly downloadConcurrency: number;
}

/**
 * 100 tasks of 60 s every 60 real ms: about as fast as two cores run the runner's own work, while
 * the four download slots still keep up (at C 1,000 / 6 ms nearly every job would wait for a
 * download slot at once, a backlog no real run has, and the measure would be of that).
 */
export const SCALE_RUN_SETUP: ScaleRunSetup = { jobs: SCALE_JOBS, concurrency: 100, scale: 1e-3, pollS: 30, downloadConcurrency: 4 };

export async function measureScaleRun(setup: ScaleRunSetup, dir: string): Promise<BenchResult> {
  collectGarbage();
  const before = process.memoryUsage();
  let live = before;
  const { value: run, peakRss, peakHeap } = await sampled(async () => {
    const plan = makePlan(setup.jobs);
    const clock = scaledClock(setup.scale);
    const provider = new MemoryProvider(clock, 60_000);
    // The real journal file, fsyncs left out (one per submit: 100,000 would time the disk).
    const journal = openJournal(join(dir, 'state.jsonl'), { name: plan.name, toolVersion: 'bench', fs: { ...nodeJournalFs, fsyncSync: () => {} } });
    const options = resolveRunOptions([{ concurrency: setup.concurrency, rpm: 1_000_000, poll_interval_s: setup.pollS, download_concurrency: setup.downloadConcurrency }]);
    // Videos waiting for a download slot: each holds its job's pending work in memory.
    let waiting = 0;
    let backlog = 0;
    const onEvent = (event: JournalEvent): void => {
      if (event.ev === 'succeeded') backlog = Math.max(backlog, ++waiting);
      else if (event.ev === 'downloaded') waiting -= 1;
    };
    const started = performance.now();
    const result = await runJobs({
      plan,
      manifestDir: dir,
      outputDir: dir,
      states: new Map(),
      journal,
      client: provider,
      options,
      limiter: new RequestLimiter({ rpm: options.rpm, clock }),
      gate: new ConcurrencyGate({ max: options.concurrency }),
      clock,
      random: seededRandom(1),
      logger: silentLogger,
      fetch: videoFetch(headerOnlyMp4()),
      fs: unsyncedFs,
      onEvent,
    });
    const ms = performance.now() - started;
    journal.close();
    // What the run still holds at its end (plan, journal, job states), without the garbage.
    collectGarbage();
    live = process.memoryUsage();
    const downloaded = [...result.states.values()].filter((state) => state.phase === 'downloaded').length;
    return { ms, downloaded, requests: provider.requests, backlog };
  });
  if (run.downloaded !== setup.jobs) throw new Error(`only ${run.downloaded} of ${setup.jobs} jobs downloaded`);
  return {
    detail:
      `${setup.jobs} jobs at C ${setup.concurrency} in ${fmt(run.ms / 1000, 1)} s against an in-memory provider (${fmt(run.requests / setup.jobs, 2)} requests/job), ` +
      `real journal file without fsync, 902-byte videos written to disk (at most ${run.backlog} waiting for a download slot): ` +
      `RSS ${fmt(before.rss / MB, 0)} MB before; sampled peak RSS ${fmt(peakRss / MB, 0)} MB, heap ${fmt(peakHeap / MB, 0)} MB; ` +
      `live at the end (after a full GC) heap ${fmt(live.heapUsed / MB, 0)} MB, RSS ${fmt(live.rss / MB, 0)} MB`,
    metrics: [
      // This run makes garbage a thousand times faster than a real one, and V8 lets the heap grow
      // with it; a real run idles between polls and is collected down to what it holds.
      { name: 'peak RSS, sampled (MB)', value: peakRss / MB, target: 300 },
      { name: 'RSS before + live heap at the end (MB)', value: (before.rss + live.heapUsed) / MB, target: 300 },
    ],
  };
}

export const scaleRunCase: BenchCase = {
  name: 'run-100k',
  description: 'bookkeeping of a 100,000-job run (plan, journal, job states, limits, downloads) against an in-memory provider on a fast clock: peak RSS < 300 MB',
  targets: { rssMb: 300 },
  prepare: async (dir) => dir,
  run: (input) => measureScaleRun(SCALE_RUN_SETUP, input as string),
};
