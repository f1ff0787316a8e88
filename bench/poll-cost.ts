// Bench: what following a task costs in requests. A task of length T polled every P needs one
// create and about T / P polls; the target is requests per task <= 1 + T / P. Measured with the
// fixed interval and with adaptive polling (default; its shortest interval stands in for P),
// over three rounds so the adaptive latency hints have samples to learn from.
import { ADAPTIVE } from '../src/runner/poll.js';
import type { BenchCase, BenchResult, Metric } from './index.js';
import { apiRequests, benchPlan, fmt, inFolder, runOnEmulator, taskMs, type EmulatedRun } from './emulated.js';

export interface PollCostSetup {
  readonly tasks: number;
  readonly concurrency: number;
  readonly scale: number;
  readonly pollS: number;
}

export const POLL_COST_SETUP: PollCostSetup = { tasks: 60, concurrency: 20, scale: 0.02, pollS: 5 };

const EMULATOR = { queueS: 5, processingS: 55, rpm: Infinity } as const;

/** Mean emulated ms from a task's end at the provider to the runner seeing it succeeded. */
function meanDetectionMs(run: EmulatedRun, t: number): number {
  const created = new Map<string, number>();
  let sum = 0;
  let n = 0;
  for (const event of run.events) {
    if (event.ev === 'submitted') created.set(event.job, event.created_at ?? event.t);
    if (event.ev === 'succeeded' && created.has(event.job)) {
      sum += event.t - ((created.get(event.job) as number) + t);
      n += 1;
    }
  }
  return sum / Math.max(1, n);
}

export async function measurePollCost(setup: PollCostSetup, dir: string): Promise<BenchResult> {
  const emulator = { ...EMULATOR, concurrency: setup.concurrency };
  const t = taskMs(emulator, '5');
  const once = (pollS: number | undefined): Promise<EmulatedRun> =>
    inFolder(dir, 'videos', (outputDir) =>
      runOnEmulator({ plan: benchPlan(setup.tasks), scale: setup.scale, emulator, limits: { concurrency: setup.concurrency, rpm: 1_000_000, poll_interval_s: pollS }, outputDir }),
    );
  const fixed = await once(setup.pollS);
  const adaptive = await once(undefined);
  const perTask = (run: EmulatedRun): number => apiRequests(run.stats) / setup.tasks;
  const fixedBound = 1 + t / (setup.pollS * 1000);
  const adaptiveBound = 1 + t / ADAPTIVE.minMs;
  const metrics: Metric[] = [
    { name: `fixed ${setup.pollS} s: requests/task / (1 + T/P)`, value: perTask(fixed) / fixedBound, target: 1 },
    { name: `adaptive: requests/task / (1 + T/${ADAPTIVE.minMs / 1000} s)`, value: perTask(adaptive) / adaptiveBound, target: 1 },
  ];
  return {
    detail:
      `T ${t / 1000} s, ${setup.tasks} tasks at C ${setup.concurrency}: fixed ${setup.pollS} s polls ${fmt(perTask(fixed), 2)} requests/task (1 + T/P = ${fmt(fixedBound, 2)}), ` +
      `seen done ${fmt(meanDetectionMs(fixed, t) / 1000, 2)} s after the end; adaptive ${fmt(perTask(adaptive), 2)} requests/task, seen ${fmt(meanDetectionMs(adaptive, t) / 1000, 2)} s after`,
    metrics,
  };
}

export const pollCostCase: BenchCase = {
  name: 'poll-cost',
  description: 'requests per task (create + polls) against 1 + task time / poll interval, fixed 5 s polls and adaptive polling',
  targets: {},
  prepare: async (dir) => dir,
  run: (input) => measurePollCost(POLL_COST_SETUP, input as string),
};
