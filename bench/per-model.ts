// Bench: concurrency as Kling counts it, per model version. Two models, each allowed L tasks at
// once (emulator and runner alike), the account's total 2L; all of the first model's jobs come
// first in plan order. Each model's jobs can finish no sooner than ceil(N_m / L) × T, so the
// makespan over the larger of the two bounds is the runner's overhead, and a full model holding
// up the other would show as a ratio near 2.
import type { Plan } from '../src/plan/schema.js';
import type { BenchCase, BenchResult } from './index.js';
import { benchPlan, fmt, inFolder, runOnEmulator, taskMs } from './emulated.js';

export interface PerModelSetup {
  /** Jobs per model. */
  readonly tasksPerModel: number;
  /** Tasks at once per model, on both sides. */
  readonly perModel: number;
  readonly models: readonly [string, string];
  readonly scale: number;
  readonly pollS: number;
}

/** 10 tasks in flight make twice the requests of throughput-c5: scale 0.02, so request latency weighs the same. */
export const PER_MODEL_SETUP: PerModelSetup = { tasksPerModel: 50, perModel: 5, models: ['kling-v3', 'kling-v2-6'], scale: 0.02, pollS: 1 };

/** The first half of the jobs for the first model, the rest for the second. */
function twoModelPlan(setup: PerModelSetup): Plan {
  const plan = benchPlan(2 * setup.tasksPerModel);
  return { ...plan, jobs: plan.jobs.map((job, i) => ({ ...job, request: { ...job.request, model_name: setup.models[i < setup.tasksPerModel ? 0 : 1] } })) };
}

export async function measurePerModel(setup: PerModelSetup, dir: string): Promise<BenchResult> {
  const total = 2 * setup.perModel;
  const emulator = { queueS: 5, processingS: 55, concurrency: total, concurrencyPerModel: setup.perModel, rpm: Infinity };
  const run = await inFolder(dir, 'videos', (outputDir) =>
    runOnEmulator({
      plan: twoModelPlan(setup),
      scale: setup.scale,
      emulator,
      limits: { concurrency: total, concurrency_per_model: setup.perModel, rpm: 1_000_000, poll_interval_s: setup.pollS },
      outputDir,
    }),
  );
  const bound = Math.ceil(setup.tasksPerModel / setup.perModel) * taskMs(emulator, '5');
  const refused = run.stats.http429ByCode[1303];
  return {
    detail:
      `${setup.models.join(' + ')}, ${setup.tasksPerModel} tasks of 60 s each, L ${setup.perModel} per model (total ${total}), poll ${setup.pollS} s: ` +
      `makespan ${fmt(run.makespanMs / 1000, 1)} s vs bound ${bound / 1000} s; peak ${run.stats.peakConcurrentTasks} in flight; ${refused} × 1303`,
    metrics: [
      { name: 'makespan / max(ceil(N_m/L) × T)', value: run.makespanMs / bound, target: 1.05 },
      { name: '1303 answers', value: refused, target: 0 },
    ],
  };
}

export const perModelCase: BenchCase = {
  name: 'per-model',
  description: `two models, ${PER_MODEL_SETUP.tasksPerModel} tasks each, ${PER_MODEL_SETUP.perModel} at once per model (emulator and runner): makespan / the per-model bound`,
  targets: {},
  prepare: async (dir) => dir,
  run: (input) => measurePerModel(PER_MODEL_SETUP, input as string),
};
