// Bench: two shards of one batch on one account. The emulator allows L tasks in flight for the
// account; two runners (as two `klingrun run --shard i/2` processes would) share it. With
// `--concurrency L/2` each they never collide; with `--concurrency L` each, both believe the
// account is theirs, meet 1303 and lower their own limits (AIMD). Either way the batch can finish
// no sooner than ceil(N / L) × T, so makespan over that bound is what sharing costs, and a shard
// that starved the other would show as a ratio near 2. Duplicate creates must stay at zero.
import { scaledClock } from './clock.js';
import { startEmulator } from '../src/emulator/index.js';
import { shardJobs } from '../src/runner/select.js';
import type { BenchCase, BenchResult } from './index.js';
import { benchPlan, fmt, inFolder, runPlanOn, taskMs } from './emulated.js';

export interface ShardsSetup {
  readonly tasks: number;
  /** The account's limit of tasks in flight. */
  readonly account: number;
  readonly scale: number;
  readonly pollS: number;
}

export const SHARDS_SETUP: ShardsSetup = { tasks: 120, account: 10, scale: 0.02, pollS: 1 };

const EMULATOR = { queueS: 5, processingS: 55, rpm: Infinity } as const;

/** Both shards at once on one emulator, each with `perShard` as its `--concurrency`. */
async function runTwoShards(setup: ShardsSetup, perShard: number, dir: string) {
  const clock = scaledClock(setup.scale);
  const emulator = await startEmulator({ ...EMULATOR, concurrency: setup.account, clock, timeScale: 1 });
  try {
    const plan = benchPlan(setup.tasks);
    const startedAt = clock.now();
    await Promise.all(
      [1, 2].map((index) =>
        inFolder(dir, `shard-${index}`, (outputDir) =>
          runPlanOn(emulator, clock, {
            plan: { ...plan, jobs: shardJobs(plan.jobs, { index, count: 2 }) },
            limits: { concurrency: perShard, rpm: 1_000_000, poll_interval_s: setup.pollS },
            outputDir,
            seed: index,
          }),
        ),
      ),
    );
    const stats = emulator.stats();
    const duplicates = Object.values(stats.tasksByExternalId).filter((count) => count > 1).length;
    return { makespanMs: clock.now() - startedAt, refused: stats.http429ByCode[1303], duplicates, created: stats.tasksCreated };
  } finally {
    await emulator.close();
  }
}

export async function measureShards(setup: ShardsSetup, dir: string): Promise<BenchResult> {
  const bound = Math.ceil(setup.tasks / setup.account) * taskMs(EMULATOR, '5');
  const split = await runTwoShards(setup, setup.account / 2, dir);
  const shared = await runTwoShards(setup, setup.account, dir);
  const line = (name: string, run: typeof split): string =>
    `${name}: makespan ${fmt(run.makespanMs / 1000, 1)} s, ${run.refused} × 1303, ${run.created} created, ${run.duplicates} paid twice`;
  return {
    detail: `${setup.tasks} tasks of 60 s in 2 shards, account limit L ${setup.account}, bound ${bound / 1000} s; ${line('--concurrency L/2 each', split)}; ${line('--concurrency L each', shared)}`,
    metrics: [
      { name: 'makespan / bound, --concurrency L/2 each', value: split.makespanMs / bound, target: 1.15 },
      { name: 'makespan / bound, --concurrency L each (AIMD on 1303)', value: shared.makespanMs / bound, target: 1.15 },
      { name: 'jobs paid twice', value: split.duplicates + shared.duplicates, target: 0 },
    ],
  };
}

export const shardsCase: BenchCase = {
  name: 'shards',
  description: `two shards on one account (limit ${SHARDS_SETUP.account}), ${SHARDS_SETUP.tasks} tasks: makespan / ceil(N/L) × T, with L/2 or L each`,
  targets: {},
  prepare: async (dir) => dir,
  run: (input) => measureShards(SHARDS_SETUP, input as string),
};
