// The expected latency of a variant, learnt from its finished jobs, so adaptive polling first
// looks when a task is likely done instead of polling a queue that cannot have moved.
import { type PlannedJob, effectiveParams } from '../plan/schema.js';
import type { JobState } from './job-state.js';

type HintedJob = Pick<PlannedJob, 'id' | 'request'>;

const keyOf = (job: HintedJob): string => {
  const p = effectiveParams(job.request);
  return `${p.model_name}|${p.mode ?? ''}|${p.duration}`;
};

export class LatencyHints {
  readonly #samples = new Map<string, number[]>();

  constructor(jobs: readonly HintedJob[], states: ReadonlyMap<string, JobState>) {
    for (const job of jobs) this.observe(job, states.get(job.id));
  }

  observe(job: HintedJob | undefined, state: JobState | undefined): void {
    if (!job || !state?.submittedAt || !state.finishedAt || state.finishedAt < state.submittedAt) return;
    const key = keyOf(job);
    const samples = this.#samples.get(key) ?? [];
    samples.push(state.finishedAt - state.submittedAt);
    if (samples.length > 101) samples.shift();
    this.#samples.set(key, samples);
  }

  /** 80 % of the median latency seen for this job's variant, or undefined with no sample yet. */
  hintFor(job: HintedJob): number | undefined {
    const samples = this.#samples.get(keyOf(job));
    if (!samples?.length) return undefined;
    const sorted = [...samples].sort((a, b) => a - b);
    return Math.round(0.8 * (sorted[Math.floor(sorted.length / 2)] ?? 0));
  }
}
