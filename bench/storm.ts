// Bench: recovery after a 1303 storm. C tasks of mixed length (50 s and 80 s, so completions are
// spread out as in a real batch) run in steady state; then the emulator refuses the next K creates
// with 1303 although it has room. Throughput is the provider-side utilisation (tasks running /
// C, from each task's created_at and known length), averaged over one poll period; the case
// reports how long after the last 1303 it takes to be back to >= 90 % of its pre-storm level.
import type { JournalEvent } from '../src/state/events.js';
import type { BenchCase, BenchResult } from './index.js';
import { apiRequests, benchPlan, fmt, runAtConcurrency, taskMs } from './emulated.js';

export interface StormSetup {
  readonly tasks: number;
  readonly concurrency: number;
  readonly scale: number;
  readonly pollS: number;
  /** Emulated seconds after the start when the storm is switched on; it hits the next creates. */
  readonly stormAtS: number;
  /** 1303 answers in the burst. */
  readonly burst: number;
}

export const STORM_SETUP: StormSetup = { tasks: 160, concurrency: 20, scale: 0.01, pollS: 2, stormAtS: 200, burst: 5 };

const EMULATOR = { queueS: 5, processingS: 45, processingSByDuration: { '10': 75 }, rpm: Infinity } as const;
/** Every third job asks for a 10 s video (80 s at the provider), the rest for 5 s (50 s). */
const isLong = (index: number): boolean => index % 3 === 0;

export interface StormAnalysis {
  readonly baseline: number;
  readonly burstStart: number;
  readonly burstEnd: number;
  readonly rejections: number;
  /** Emulated ms from the last 1303 until throughput is back to >= 90 % of the baseline (0: it never dropped). */
  readonly recoveryMs: number;
  /** Lowest windowed utilisation after the burst, as a fraction of the baseline. */
  readonly lowest: number;
  /** Task-seconds of provider capacity lost below the baseline after the burst. */
  readonly lostTaskS: number;
}

/**
 * Utilisation over time from the journal: each submitted task occupies a provider slot from its
 * created_at for its known length. Sampled every `stepMs`, averaged over `windowMs` around each sample.
 */
export function analyseStorm(events: readonly JournalEvent[], lengthOf: (job: string) => number, options: { concurrency: number; startedAt: number; stormAt: number; windowMs: number; stepMs?: number }): StormAnalysis {
  const step = options.stepMs ?? 100;
  const intervals: Array<[number, number]> = [];
  const rejections: number[] = [];
  for (const event of events) {
    if (event.ev === 'submitted') {
      const start = event.created_at ?? event.t;
      intervals.push([start, start + lengthOf(event.job)]);
    } else if (event.ev === 'rejected' && event.code === 1303) rejections.push(event.t);
  }
  if (rejections.length === 0) throw new Error('the storm caused no 1303 answer: nothing to measure');
  const steadyEnd = Math.max(...intervals.map(([start]) => start));
  const end = Math.max(...intervals.map(([, stop]) => stop));
  // Running count via +1/-1 at interval edges, sampled on a grid.
  const edges = intervals.flatMap(([start, stop]) => [{ at: start, delta: 1 }, { at: stop, delta: -1 }]).sort((a, b) => a.at - b.at);
  const samples: Array<{ t: number; u: number }> = [];
  let running = 0;
  let next = 0;
  for (let t = options.startedAt; t <= end; t += step) {
    for (let edge = edges[next]; edge !== undefined && edge.at <= t; edge = edges[++next]) running += edge.delta;
    samples.push({ t, u: running / options.concurrency });
  }
  // Centred on each sample: a trailing window would add up to one poll period of lag.
  const half = Math.max(0, Math.round(options.windowMs / step / 2));
  const windowed = samples.map((s, i) => {
    const inside = samples.slice(Math.max(0, i - half), i + half + 1);
    return { t: s.t, u: inside.reduce((sum, x) => sum + x.u, 0) / inside.length };
  });
  const mean = (from: number, to: number): number => {
    const inside = samples.filter((s) => s.t >= from && s.t < to);
    return inside.reduce((sum, s) => sum + s.u, 0) / Math.max(1, inside.length);
  };
  // Steady state before the storm: the first rounds start in lockstep, so skip two task lengths.
  const baseline = mean(options.startedAt + 100_000, options.stormAt);
  const burstStart = Math.min(...rejections);
  const burstEnd = Math.max(...rejections);
  const low = (s: { u: number }): boolean => s.u < 0.9 * baseline;
  // The dip the burst causes: the first time below 90 % from the burst on, until back above.
  // (Tasks that restart together after it finish together later, and echo as brief dips; those
  // show in the capacity lost, not here.)
  const after = windowed.filter((s) => s.t >= burstStart && s.t <= steadyEnd);
  const dipStart = after.findIndex(low);
  const dipEnd = dipStart === -1 ? -1 : after.findIndex((s, i) => i > dipStart && !low(s));
  const recoveredAt = dipStart === -1 ? burstEnd : dipEnd === -1 ? steadyEnd : (after[dipEnd] as { t: number }).t;
  const lost = samples.filter((s) => s.t >= burstStart && s.t <= steadyEnd).reduce((sum, s) => sum + Math.max(0, baseline - s.u) * options.concurrency * (step / 1000), 0);
  return {
    baseline,
    burstStart,
    burstEnd,
    rejections: rejections.length,
    recoveryMs: Math.max(0, recoveredAt - burstEnd),
    lowest: Math.min(...after.map((s) => s.u)) / baseline,
    lostTaskS: lost,
  };
}

export async function measureStorm(setup: StormSetup, dir: string): Promise<BenchResult> {
  const plan = benchPlan(setup.tasks, isLong);
  const emulator = { ...EMULATOR, concurrency: setup.concurrency };
  const lengths = new Map(plan.jobs.map((job) => [job.id, taskMs(emulator, job.request.duration ?? '5')]));
  let stormAt = 0;
  const run = await runAtConcurrency(dir, {
    plan,
    scale: setup.scale,
    emulator,
    concurrency: setup.concurrency,
    pollS: setup.pollS,
    during: async ({ clock, emulator: handle, startedAt }) => {
      stormAt = startedAt + setup.stormAtS * 1000;
      await clock.until(stormAt);
      handle.configure({ faults: [{ kind: 'storm1303', p: 1, count: setup.burst }] });
    },
  });
  const pollMs = setup.pollS * 1000;
  const a = analyseStorm(run.events, (job) => lengths.get(job) ?? 0, { concurrency: setup.concurrency, startedAt: run.startedAt, stormAt, windowMs: pollMs });
  return {
    detail:
      `C ${setup.concurrency}, ${setup.tasks} tasks of 50/80 s, poll ${setup.pollS} s; ${a.rejections} × 1303 from ${fmt((a.burstStart - run.startedAt) / 1000, 1)} s ` +
      `to ${fmt((a.burstEnd - run.startedAt) / 1000, 1)} s: utilisation ${fmt(a.baseline * 100, 1)} % before, lowest ${fmt(a.lowest * 100, 0)} % of that after, ` +
      `back >= 90 % after ${fmt(a.recoveryMs / 1000, 1)} s; ${fmt(a.lostTaskS / 65, 1)} tasks' worth of capacity lost; ${fmt(apiRequests(run.stats) / setup.tasks, 1)} requests/task`,
    metrics: [
      { name: 'recovery to >= 90 % (poll periods)', value: a.recoveryMs / pollMs, target: 2 },
      { name: 'lowest throughput after burst / before', value: a.lowest },
    ],
  };
}

export const stormCase: BenchCase = {
  name: 'storm-1303',
  description: `steady state at C ${STORM_SETUP.concurrency}, then ${STORM_SETUP.burst} spurious 1303 answers: time until provider-side throughput is back to >= 90 % (target: 2 poll periods)`,
  targets: {},
  prepare: async (dir) => dir,
  run: (input) => measureStorm(STORM_SETUP, input as string),
};

export interface LimitBelowSetup {
  readonly tasks: number;
  /** What the runner is told. */
  readonly concurrency: number;
  /** What the account really allows (the emulator's limit). */
  readonly accountLimit: number;
  readonly scale: number;
  readonly pollS: number;
}

export const LIMIT_BELOW_SETUP: LimitBelowSetup = { tasks: 120, concurrency: 20, accountLimit: 12, scale: 0.01, pollS: 1 };

/**
 * The other face of 1303: the account allows fewer tasks than the runner was told, so every
 * submit beyond it is refused. The runner should settle at the account's limit (makespan near
 * ceil(N / L) × T) without asking again and again (1303 answers per task).
 */
export async function measureLimitBelow(setup: LimitBelowSetup, dir: string): Promise<BenchResult> {
  const emulator = { queueS: 5, processingS: 55, concurrency: setup.accountLimit, rpm: Infinity };
  const run = await runAtConcurrency(dir, {
    plan: benchPlan(setup.tasks),
    scale: setup.scale,
    emulator,
    concurrency: setup.concurrency,
    pollS: setup.pollS,
  });
  const bound = Math.ceil(setup.tasks / setup.accountLimit) * taskMs(emulator, '5');
  const refused = run.stats.http429ByCode[1303];
  return {
    detail:
      `runner told C ${setup.concurrency}, account allows ${setup.accountLimit}; ${setup.tasks} tasks of 60 s, poll ${setup.pollS} s: makespan ${fmt(run.makespanMs / 1000, 1)} s ` +
      `vs bound ${bound / 1000} s; ${refused} × 1303 for ${run.stats.tasksCreated} tasks; peak ${run.stats.peakConcurrentTasks} in flight`,
    metrics: [
      { name: 'makespan / (ceil(N/L) × T)', value: run.makespanMs / bound, target: 1.05 },
      { name: '1303 answers per task', value: refused / setup.tasks },
    ],
  };
}

export const limitBelowCase: BenchCase = {
  name: 'limit-below',
  description: `account limit ${LIMIT_BELOW_SETUP.accountLimit} below the runner's concurrency ${LIMIT_BELOW_SETUP.concurrency}: makespan against the account's physical limit, and 1303 answers per task`,
  targets: {},
  prepare: async (dir) => dir,
  run: (input) => measureLimitBelow(LIMIT_BELOW_SETUP, input as string),
};
