// Bench: rate-limit discipline. The emulator allows R requests per emulated minute and the runner
// is told the same R; polls every 5 s from 10 tasks in flight want twice that, so the runner's
// request limiter is the bottleneck for the whole run. Every 1302 answer is one the runner caused.
import type { BenchCase, BenchResult } from './index.js';
import { apiRequests, benchPlan, fmt, inFolder, runOnEmulator } from './emulated.js';

export interface RateSetup {
  readonly tasks: number;
  /** Requests per emulated minute, on both sides. */
  readonly rpm: number;
  readonly concurrency: number;
  readonly scale: number;
  readonly pollS: number;
}

/** 40 tasks of 30 s at 60 rpm keep the limiter saturated for about 6 emulated minutes (~7 real s). */
export const RATE_SETUP: RateSetup = { tasks: 40, rpm: 60, concurrency: 10, scale: 0.02, pollS: 5 };

export async function measureRateLimit(setup: RateSetup, dir: string): Promise<BenchResult> {
  const run = await inFolder(dir, 'videos', (outputDir) =>
    runOnEmulator({
      plan: benchPlan(setup.tasks),
      scale: setup.scale,
      emulator: { queueS: 5, processingS: 25, concurrency: setup.concurrency, rpm: setup.rpm },
      limits: { concurrency: setup.concurrency, rpm: setup.rpm, poll_interval_s: setup.pollS },
      outputDir,
    }),
  );
  const { stats } = run;
  const requests = apiRequests(stats);
  const minutes = run.makespanMs / 60_000;
  return {
    detail:
      `R ${setup.rpm}/min on both sides, ${setup.tasks} tasks of 30 s, C ${setup.concurrency}, poll ${setup.pollS} s: ${requests} requests in ` +
      `${fmt(minutes, 2)} emulated min (${fmt(requests / minutes, 1)}/min, the limit leaves room for ${fmt((setup.rpm * 60) / 61, 1)}/min)`,
    metrics: [
      { name: '1302 answers caused', value: stats.http429ByCode[1302], target: 0 },
      { name: 'peak requests in a 60 s window / R', value: stats.peakRequestsPerWindow / setup.rpm, target: 1 },
    ],
  };
}

export const rateLimitCase: BenchCase = {
  name: 'rate-limit',
  description: 'emulator rpm = runner rpm = 60 per emulated minute, demand twice that: 1302s caused (target 0), peak requests in any 60 s window (<= R)',
  targets: {},
  prepare: async (dir) => dir,
  run: (input) => measureRateLimit(RATE_SETUP, input as string),
};
