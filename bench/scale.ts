// Bench: scale. (1) Resuming a batch: open, read and check its journal (six lines a job) and fold
// it into job states, target under 3 s at 100,000 jobs; and `klingrun status` on that journal as a
// whole process (plan, replay, clip checks, summary). (2) The bookkeeping of a whole run, target
// under 300 MB peak RSS at 100,000 jobs: the real runner, journal file, video files, report.json
// and gallery against an in-memory provider. Through HTTP to `klingrun emulate` a run costs ~9 ms
// of CPU a job (400,000 localhost round trips, base64 images, a fsync per file): 10,000 jobs took
// 3 minutes, 100,000 would take half an hour, measuring Node's HTTP stack rather than the runner.
import { createHash } from 'node:crypto';
import { closeSync, mkdirSync, openSync, utimesSync, writeFileSync, writeSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { tightenHeapForRun } from '../src/cli/heap.js';
import { loadPlan } from '../src/plan/index.js';
import type { Plan, PlannedJob } from '../src/plan/schema.js';
import { streamReport } from '../src/report/build.js';
import { writeGallery } from '../src/report/gallery.js';
import { writeReportJson } from '../src/report/stream.js';
import { nextAction } from '../src/runner/actions.js';
import { checkDownloads } from '../src/runner/clip-check.js';
import { type DownloadFs, nodeDownloadFs } from '../src/runner/download.js';
import { type JobState, JournalState } from '../src/runner/job-state.js';
import { resolveRunOptions } from '../src/runner/options.js';
import { videoPath } from '../src/runner/paths.js';
import type { JournalEvent } from '../src/state/events.js';
import { nodeJournalFs, openJournal } from '../src/state/journal.js';
import { makePlan } from '../test/helpers/runner-harness.js';
import { scaledClock } from './clock.js';
import { fmt } from './emulated.js';
import { writeMatrixManifest } from './fixtures.js';
import type { BenchCase, BenchResult } from './index.js';
import { MemoryProvider, headerOnlyMp4, runFromEmpty, videoFetch } from './memory-provider.js';
import { type CliInput, measureCli } from './plan.js';

export const SCALE_SIZES = [10_000, 100_000] as const;
const MB = 1024 * 1024;

/** What the journal records of a downloaded clip, beyond its path and hash. */
interface ClipRecord {
  readonly bytes: number;
  readonly mtime_ms?: number;
  readonly sha256?: string;
  readonly fps?: number;
  readonly codec?: string;
  readonly frames?: number;
}

/** The six events a finished job leaves: submitting, submitted, two status changes, succeeded, downloaded. */
function finishedJobEvents(job: PlannedJob, index: number, t: number, clip: ClipRecord): JournalEvent[] {
  const task_id = `7${String(index).padStart(18, '0')}`;
  const base = { job: job.id };
  return [
    { ev: 'submitting', t, ...base, attempt: 1, external_task_id: job.external_task_id, request: job.request },
    { ev: 'submitted', t: t + 400, ...base, attempt: 1, task_id, created_at: t + 350 },
    { ev: 'status', t: t + 20_000, ...base, task_id, task_status: 'processing' },
    { ev: 'status', t: t + 95_000, ...base, task_id, task_status: 'succeed' },
    { ev: 'succeeded', t: t + 95_000, ...base, task_id, videos: [{ id: `video-${task_id}`, url: `https://cdn.example/videos/${task_id}.mp4?token=${job.id.slice(0, 32)}`, duration: '5' }], finished_at: t + 93_000 },
    { ev: 'downloaded', t: t + 96_000, ...base, path: videoPath(job), sha256: job.id, ...clip, duration_s: 5.04, width: 1280, height: 720 },
  ];
}

/** Writes the journal of a finished batch; jobs interleave in groups of 100, as a run's do. */
function writeFinishedJournal(file: string, plan: Plan, clip: ClipRecord = { bytes: 4_812_345 }): { lines: number; bytes: number } {
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
      const perJob = plan.jobs.slice(group, group + 100).map((job, i) => finishedJobEvents(job, group + i, start + (group + i) * 1000, clip));
      for (let step = 0; step < 6; step++) write(perJob.map((events) => events[step] as JournalEvent));
    }
  } finally {
    closeSync(fd);
  }
  return { lines, bytes };
}

export interface ReplayInput {
  readonly file: string;
  readonly jobs: number;
  readonly lines: number;
  readonly bytes: number;
}

/** Untimed: the journal of a finished batch of `jobs` jobs (the plan of makePlan), in `dir`. */
export function prepareReplay(dir: string, jobs: number): ReplayInput {
  const file = join(dir, 'state.jsonl');
  return { file, jobs, ...writeFinishedJournal(file, makePlan(jobs)) };
}

/** What a resume does with the journal before anything else: open and check it, fold it (sharing the plan's requests), decide. */
export async function measureReplay(input: ReplayInput): Promise<BenchResult> {
  const { file, lines, bytes } = input;
  const planned = new Map(makePlan(input.jobs).jobs.map((job) => [job.id, job.request]));
  const cpu = process.cpuUsage();
  const start = performance.now();
  const folded = new JournalState((id) => planned.get(id));
  const journal = openJournal(file, { name: 'test', toolVersion: 'bench', onEvent: folded.add });
  const opened = performance.now();
  const { states } = folded;
  const done = [...states.values()].filter((state) => nextAction(state, { retryFailed: false, fileIntact: true }).kind === 'done').length;
  const decided = performance.now();
  const { user, system } = process.cpuUsage(cpu);
  journal.close();
  if (journal.replayed !== lines) throw new Error(`replayed ${journal.replayed} of ${lines} lines`);
  return {
    detail: `${lines} lines (${fmt(bytes / MB, 0)} MB) read, checked and folded into ${states.size} job states in ${fmt(opened - start, 0)} ms, ${done} found done in ${fmt(decided - opened, 0)} ms`,
    metrics: [{ name: 'lines per second (thousands)', value: lines / (decided - start) }],
    // The plan made before the clock started is not the replay's time.
    process: { ms: decided - start, cpuMs: (user + system) / 1000, rssMb: process.resourceUsage().maxRSS / 1024 },
  };
}

export const replayCase: BenchCase = {
  name: 'replay',
  description: 'resume: open a finished journal (six lines a job), read and check every line, fold into job states, decide each next action (in process)',
  targets: { ms: 3_000 },
  sizes: SCALE_SIZES,
  prepare: async (dir, jobs) => prepareReplay(dir, jobs),
  run: (input) => measureReplay(input as ReplayInput),
};

/** A stand-in clip, dated as the journal records it: a stat finds it untouched, as after a real run. */
const CLIP = Buffer.from('clip');
const CLIP_MTIME_S = 1_735_689_600;
const CLIP_SHA256 = createHash('sha256').update(CLIP).digest('hex');

/** Untimed: the matrix manifest of `jobs` jobs and, in `dir`/out, its finished run: journal and clips, no report.json. */
export async function prepareStatus(dir: string, jobs: number): Promise<CliInput> {
  const manifest = writeMatrixManifest(dir, jobs);
  const { plan } = await loadPlan(manifest, { cwd: dir });
  const out = join(dir, 'out');
  for (const job of plan.jobs) {
    const file = join(out, videoPath(job));
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, CLIP);
    utimesSync(file, CLIP_MTIME_S, CLIP_MTIME_S);
  }
  // As a current run records a clip: its hash (an export copies it by that) and its header's facts.
  writeFinishedJournal(join(out, 'state.jsonl'), plan, { bytes: CLIP.length, mtime_ms: CLIP_MTIME_S * 1000, sha256: CLIP_SHA256, fps: 24, codec: 'h264', frames: 121 });
  return { dir, args: ['status', manifest, '--output', 'out'], jobs };
}

export const statusCase: BenchCase = {
  name: 'status',
  description: 'klingrun status on a finished run: plan the manifest, replay its journal, check every clip on disk, summarize (whole process)',
  // The resume's start as a user sees it; the replay target is the replay case's.
  targets: {},
  sizes: SCALE_SIZES,
  prepare: (dir, jobs) => prepareStatus(dir, jobs),
  run: async (input) => measureCli(input as CliInput),
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
export const scaleRunSetup = (jobs: number): ScaleRunSetup => ({ jobs, concurrency: 100, scale: 1e-3, pollS: 30, downloadConcurrency: 4 });

/** What `klingrun run` does once the work is done (batch.ts): check the clips, write report.json and the gallery from the streamed report. */
async function writeOutputs(plan: Plan, states: ReadonlyMap<string, JobState>, dir: string): Promise<number> {
  const downloaded = [...states].flatMap(([id, state]) => (state.phase === 'downloaded' && state.download ? [[id, state.download] as const] : []));
  const clips = await checkDownloads(dir, downloaded);
  const report = streamReport({ plan, states, clips, manifest: { path: 'bench.yaml', sha256: 'bench' }, toolVersion: 'bench', startedAt: 0, finishedAt: 1 });
  writeReportJson(dir, report);
  writeGallery(dir, report);
  return report.summary.totals.succeeded;
}

export async function measureScaleRun(setup: ScaleRunSetup, dir: string): Promise<BenchResult> {
  tightenHeapForRun(); // as `klingrun run` does
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
    const result = await runFromEmpty({ plan, dir, clock, client: provider, options }, { journal, fetch: videoFetch(headerOnlyMp4()), fs: unsyncedFs, onEvent });
    const ms = performance.now() - started;
    journal.close();
    const duringRun = process.resourceUsage().maxRSS * 1024;
    const reported = await writeOutputs(plan, result.states, dir);
    const written = performance.now() - started - ms;
    // What the run still holds at its end (plan, job states), without the garbage.
    collectGarbage();
    live = process.memoryUsage();
    return { ms, written, reported, requests: provider.requests, backlog, duringRun };
  });
  if (run.reported !== setup.jobs) throw new Error(`only ${run.reported} of ${setup.jobs} jobs reported succeeded`);
  return {
    detail:
      `${setup.jobs} jobs at C ${setup.concurrency} in ${fmt(run.ms / 1000, 1)} s against an in-memory provider (${fmt(run.requests / setup.jobs, 2)} requests/job), ` +
      `real journal file without fsync, 902-byte videos written to disk (at most ${run.backlog} waiting for a download slot), ` +
      `clips checked, report.json and gallery written in ${fmt(run.written / 1000, 1)} s: ` +
      `RSS ${fmt(before.rss / MB, 0)} MB before; peak RSS ${fmt(run.duringRun / MB, 0)} MB before the report, sampled peak RSS ${fmt(peakRss / MB, 0)} MB, heap ${fmt(peakHeap / MB, 0)} MB; ` +
      `live at the end (after a full GC) heap ${fmt(live.heapUsed / MB, 0)} MB, RSS ${fmt(live.rss / MB, 0)} MB`,
    metrics: [{ name: 'RSS before + live heap at the end (MB)', value: (before.rss + live.heapUsed) / MB }],
  };
}

export const scaleRunCase: BenchCase = {
  name: 'run',
  description: 'a whole run (plan, journal, job states, limits, downloads, report.json, gallery) against an in-memory provider on a fast clock (in process)',
  targets: { rssMb: 300 },
  sizes: SCALE_SIZES,
  prepare: async (dir, jobs) => ({ dir, jobs }),
  run: (input) => {
    const { dir, jobs } = input as { dir: string; jobs: number };
    return measureScaleRun(scaleRunSetup(jobs), dir);
  },
};
