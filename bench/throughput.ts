// Bench: throughput against the physical limit. N tasks that each take exactly T at the provider,
// C at a time (the emulator allows exactly C), can finish no sooner than ceil(N / C) × T; the
// runner's makespan over that bound is its overhead (poll detection delay, request latency).
import type { BenchCase, BenchResult } from './index.js';
import { apiRequests, benchPlan, fmt, runAtConcurrency, taskMs } from './emulated.js';

export interface ThroughputSetup {
  readonly tasks: number;
  readonly concurrency: number;
  /** Real ms per emulated ms. */
  readonly scale: number;
  readonly queueS: number;
  readonly processingS: number;
  readonly pollS: number;
}

export const THROUGHPUT_TASKS = 200;

/**
 * T = 60 s, polled every 1 s. At scale 0.01 one real millisecond of request latency reads as 0.1
 * emulated seconds, so C = 20 (four times the requests) runs at 0.02; C = 5 (40 rounds of T)
 * stays at 0.01 to take 24 real seconds.
 */
export const throughputSetup = (concurrency: number, tasks = THROUGHPUT_TASKS): ThroughputSetup => ({
  tasks,
  concurrency,
  scale: concurrency >= 20 ? 0.02 : 0.01,
  queueS: 5,
  processingS: 55,
  pollS: 1,
});

export async function measureThroughput(setup: ThroughputSetup, dir: string): Promise<BenchResult> {
  const emulator = { queueS: setup.queueS, processingS: setup.processingS, concurrency: setup.concurrency, rpm: Infinity };
  const run = await runAtConcurrency(dir, {
    plan: benchPlan(setup.tasks),
    scale: setup.scale,
    emulator,
    concurrency: setup.concurrency,
    pollS: setup.pollS,
  });
  const t = taskMs(emulator, '5');
  const bound = Math.ceil(setup.tasks / setup.concurrency) * t;
  const ratio = run.makespanMs / bound;
  const codes = run.stats.http429ByCode;
  return {
    detail:
      `N ${setup.tasks}, C ${setup.concurrency}, T ${t / 1000} s, poll ${setup.pollS} s, scale ${setup.scale}: makespan ${fmt(run.makespanMs / 1000, 1)} s ` +
      `vs bound ${bound / 1000} s; peak ${run.stats.peakConcurrentTasks} in flight; ${fmt(apiRequests(run.stats) / setup.tasks, 1)} requests/task; real downloads`,
    metrics: [
      { name: 'makespan / bound', value: ratio, target: 1.05 },
      { name: '429s (1302 + 1303)', value: codes[1302] + codes[1303], target: 0 },
    ],
  };
}

export const throughputCase = (concurrency: number): BenchCase => ({
  name: `throughput-c${concurrency}`,
  description: `${THROUGHPUT_TASKS} tasks of a fixed 60 emulated s at concurrency ${concurrency} against the emulator (exactly ${concurrency} allowed), fixed 1 s polls: makespan / (ceil(N/C) × T)`,
  targets: {},
  prepare: async (dir) => dir,
  run: (input) => measureThroughput(throughputSetup(concurrency), input as string),
});
