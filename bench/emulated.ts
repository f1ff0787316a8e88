// One batch through the real runner against the in-process emulator, on a shared emulated clock:
// the runner gets the scaled clock, the emulator the same clock with timeScale 1. That is the same
// as timeScale = scale on the wall clock, except that the emulator's timestamps (created_at,
// updated_at), rpm window and Retry-After headers are then in the runner's units too.
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createClient } from '../src/api/client.js';
import { seededRandom, silentLogger } from '../src/effects.js';
import { startEmulator, type EmulatorHandle, type EmulatorOptionsInput, type EmulatorStats } from '../src/emulator/index.js';
import type { Plan } from '../src/plan/schema.js';
import { ConcurrencyGate, RequestLimiter } from '../src/runner/limits.js';
import { resolveRunOptions, type RunOptionsInput } from '../src/runner/options.js';
import { runJobs, type RunResult } from '../src/runner/run.js';
import type { JournalEvent } from '../src/state/events.js';
import { makePlan } from '../test/helpers/runner-harness.js';
import { scaledClock, type ScaledClock } from './clock.js';

export interface EmulatedSetup {
  /** The plan to run; `makePlan(n)` jobs (kling-v2-5-turbo, pro, 5 s, image URLs) by default. */
  readonly plan: Plan;
  /** Real ms per emulated ms. */
  readonly scale: number;
  /** Emulator options (emulated seconds); clock and timeScale are set here. */
  readonly emulator: Omit<EmulatorOptionsInput, 'clock' | 'timeScale'>;
  /** The runner's limits, as a manifest's `limits:` block would give them. */
  readonly limits: RunOptionsInput;
  /** Where the videos go (a temp folder of the bench case). */
  readonly outputDir: string;
  /** Runs beside the batch, e.g. to inject a fault at an emulated time. */
  readonly during?: (live: { readonly clock: ScaledClock; readonly emulator: EmulatorHandle; readonly startedAt: number }) => Promise<void>;
  readonly seed?: number;
  /**
   * Run a short batch first on a throwaway emulator, so the JIT and the HTTP stack are warm.
   * At scale 0.01 one real millisecond is 0.1 emulated seconds: a cold start's first requests
   * (30-140 ms each) would otherwise read as 3-14 s of runner overhead. @default true
   */
  readonly warmUp?: boolean;
}

export interface EmulatedRun {
  /** The journal, in memory (`t` in emulated ms). */
  readonly events: readonly JournalEvent[];
  readonly stats: EmulatorStats;
  /** Emulated ms at the start of runJobs, and from there to its end. */
  readonly startedAt: number;
  readonly makespanMs: number;
  readonly result: RunResult;
  readonly gate: ConcurrencyGate;
}

/** makePlan(n), with the jobs selected by `longer` asking for 10-second videos. */
export function benchPlan(count: number, longer: (index: number) => boolean = () => false): Plan {
  const plan = makePlan(count);
  return { ...plan, jobs: plan.jobs.map((job, i) => (longer(i) ? { ...job, request: { ...job.request, duration: '10' as const } } : job)) };
}

/**
 * Runs the plan with real HTTP calls and real video downloads (emulator URLs, ~17 KB files written
 * under `outputDir`); the journal stays in memory so no fsync adds noise.
 */
export async function runOnEmulator(setup: EmulatedSetup): Promise<EmulatedRun> {
  if (setup.warmUp !== false) await warmUp(setup);
  const clock = scaledClock(setup.scale);
  const emulator = await startEmulator({ ...setup.emulator, clock, timeScale: 1 });
  try {
    const side = setup.during?.({ clock, emulator, startedAt: clock.now() });
    const run = await runPlanOn(emulator, clock, setup);
    await side;
    return { ...run, stats: emulator.stats() };
  } finally {
    await emulator.close();
  }
}

/**
 * One runner (its own journal, gate and limiter, as one `klingrun run` process has) against an
 * emulator that may serve others at the same time; throws unless every job was downloaded.
 */
export async function runPlanOn(
  emulator: EmulatorHandle,
  clock: ScaledClock,
  setup: Pick<EmulatedSetup, 'plan' | 'limits' | 'outputDir' | 'seed'>,
): Promise<Omit<EmulatedRun, 'stats'>> {
  // Tasks end within minutes; the default 60-minute deadline is 36 real seconds at scale 0.01,
  // which a loaded machine could reach, and a timed-out job would spoil the numbers.
  const options = resolveRunOptions([{ task_timeout_min: 24 * 60 }, setup.limits]);
  const events: JournalEvent[] = [{ ev: 'header', t: clock.now(), version: 1, name: setup.plan.name, tool_version: 'bench' }];
  const gate = new ConcurrencyGate({ max: options.concurrency });
  const startedAt = clock.now();
  const result = await runJobs({
    plan: setup.plan,
    manifestDir: setup.outputDir,
    outputDir: setup.outputDir,
    states: new Map(),
    journal: { append: (event) => void events.push(event) },
    client: createClient({ baseUrl: emulator.url, apiKey: 'emulator-key', now: () => clock.now() }),
    options,
    limiter: new RequestLimiter({ rpm: options.rpm, clock }),
    gate,
    clock,
    random: seededRandom(setup.seed ?? 1),
    logger: silentLogger,
  });
  const makespanMs = clock.now() - startedAt;
  const unfinished = [...result.states.values()].filter((s) => s.phase !== 'downloaded');
  if (unfinished.length > 0 || result.states.size !== setup.plan.jobs.length) {
    throw new Error(`bench run did not finish every job: ${unfinished.length} not downloaded (${unfinished.slice(0, 3).map((s) => s.phase).join(', ')})`);
  }
  return { events, startedAt, makespanMs, result, gate };
}

/** A fresh folder under the case's temp folder, removed afterwards. */
/** runOnEmulator in a fresh video folder, with no rpm limit and a fixed poll interval: the cases about concurrency. */
export function runAtConcurrency(
  dir: string,
  setup: Omit<EmulatedSetup, 'limits' | 'outputDir'> & { readonly concurrency: number; readonly pollS: number },
): Promise<EmulatedRun> {
  const { concurrency, pollS, ...rest } = setup;
  return inFolder(dir, 'videos', (outputDir) => runOnEmulator({ ...rest, limits: { concurrency, rpm: 1_000_000, poll_interval_s: pollS }, outputDir }));
}

export async function inFolder<T>(parent: string, name: string, body: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(parent, `${name}-`));
  try {
    return await body(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** API requests the runner made (create, get, list; downloads are not API calls). */
export const apiRequests = (stats: EmulatorStats): number => stats.requestsByRoute.create + stats.requestsByRoute.get + stats.requestsByRoute.list;

/** Emulated ms a task of this duration spends at the provider. */
export function taskMs(emulator: EmulatedSetup['emulator'], duration: string): number {
  const queueS = emulator.queueS ?? 5;
  const processingS = emulator.processingSByDuration?.[duration] ?? emulator.processingS ?? 60;
  return (queueS + processingS) * 1000;
}

export const fmt = (value: number, digits = 3): string => (Number.isInteger(value) ? String(value) : value.toFixed(digits));

/** Two rounds of short tasks at the setup's concurrency, through the same code paths. */
async function warmUp(setup: EmulatedSetup): Promise<void> {
  const concurrency = setup.limits.concurrency ?? 5;
  await runOnEmulator({
    plan: benchPlan(2 * concurrency),
    scale: setup.scale,
    emulator: { queueS: 0.5, processingS: 1, concurrency, rpm: Infinity },
    limits: { concurrency, rpm: 1_000_000, poll_interval_s: 0.2 },
    outputDir: setup.outputDir,
    warmUp: false,
  });
}
