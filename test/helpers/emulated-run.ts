// Runs runJobs against a real emulator on one shared clock running 1000 times faster than the wall
// clock (bench/clock.ts): a 10-second task takes 10 real ms, and the journal stays in memory.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onTestFinished } from 'vitest';
import { scaledClock } from '../../bench/clock.js';
import { createClient } from '../../src/api/client.js';
import { seededRandom, silentLogger } from '../../src/effects.js';
import { startEmulator, type EmulatorHandle, type EmulatorOptionsInput } from '../../src/emulator/index.js';
import type { Plan } from '../../src/plan/schema.js';
import { replay } from '../../src/runner/job-state.js';
import { ConcurrencyGate, RequestLimiter } from '../../src/runner/limits.js';
import { resolveRunOptions, type RunOptionsInput } from '../../src/runner/options.js';
import { type RunResult, runJobs } from '../../src/runner/run.js';
import type { JournalEvent } from '../../src/state/events.js';

export const SCALE = 0.001;

export interface EmulatedBatch {
  readonly emulator: EmulatorHandle;
  readonly events: JournalEvent[];
  /** One run of the plan, resuming from the journal of the runs before it. */
  run(limits?: RunOptionsInput): Promise<RunResult>;
}

/** An emulator (closed after the test) and a runner that keeps its journal across runs. */
export async function emulatedBatch(plan: Plan, options: Omit<EmulatorOptionsInput, 'clock' | 'timeScale'>): Promise<EmulatedBatch> {
  const clock = scaledClock(SCALE);
  const emulator = await startEmulator({ queueS: 1, processingS: 9, ...options, clock, timeScale: 1 });
  const outputDir = mkdtempSync(join(tmpdir(), 'klingrun-emulated-'));
  onTestFinished(async () => {
    await emulator.close();
    rmSync(outputDir, { recursive: true, force: true });
  });
  const events: JournalEvent[] = [{ ev: 'header', t: clock.now(), version: 1, name: plan.name, tool_version: 'test' }];
  const run = (limits: RunOptionsInput = {}): Promise<RunResult> => {
    const resolved = resolveRunOptions([{ poll_interval_s: 1, task_timeout_min: 24 * 60 }, limits]);
    return runJobs({
      plan,
      manifestDir: outputDir,
      outputDir,
      states: replay(events),
      journal: { append: (event) => void events.push(event) },
      client: createClient({ baseUrl: emulator.url, apiKey: 'emulator-key', now: () => clock.now() }),
      options: resolved,
      limiter: new RequestLimiter({ rpm: 1_000_000, clock }),
      gate: new ConcurrencyGate({ max: resolved.concurrency }),
      clock,
      random: seededRandom(1),
      logger: silentLogger,
    });
  };
  return { emulator, events, run };
}

/** makePlan's jobs, the first `split` of them for model `a`, the rest for model `b`. */
export function twoModels(plan: Plan, split: number, a: string, b: string): Plan {
  return { ...plan, jobs: plan.jobs.map((job, i) => ({ ...job, request: { ...job.request, model_name: i < split ? a : b } })) };
}
