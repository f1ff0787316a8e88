// Choosing which jobs a run may submit: `--shard i/n` (a deterministic slice, so n machines split
// one batch with no overlap and no coordination), `--only failed|timed_out|<id prefix>` and
// `--sample N` (a pilot spread over every variant, plan/sample.ts), applied in that order.
//
// Shards are contiguous ranges of the jobs in job-id order (ids are sha256: a random-looking but
// fixed order), cut at i·N/n: sizes differ by at most one, whatever N. When the manifest gains
// jobs, each cut moves by at most as many places as jobs were added, so only jobs next to a cut
// change shard (at most n-1 per added job); a job that moves was already run, or not, by its old
// shard: see README, "Sharding a batch across machines".
import { UsageError } from '../errors.js';
import { type SampleSpec, sampleJobs } from '../plan/sample.js';
import type { PlannedJob } from '../plan/schema.js';
import type { JobState } from './job-state.js';

export interface Shard {
  readonly index: number;
  readonly count: number;
}

export function parseShard(text: string): Shard {
  const match = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = Number(match?.[1]);
  const count = Number(match?.[2]);
  if (!match || count < 1 || index < 1 || index > count) {
    throw new UsageError(`Expected \`--shard\` as i/n with 1 <= i <= n (e.g. 2/4), got \`${text}\`.`);
  }
  return { index, count };
}

/** The jobs of one shard of the whole plan, in plan order. */
export function shardJobs<T extends Pick<PlannedJob, 'id'>>(jobs: readonly T[], shard: Shard): T[] {
  const ranked = jobs.map((job) => job.id).sort();
  const from = Math.floor(((shard.index - 1) * ranked.length) / shard.count);
  const to = Math.floor((shard.index * ranked.length) / shard.count);
  const members = new Set(ranked.slice(from, to));
  return jobs.filter((job) => members.has(job.id));
}

export interface Selection<T> {
  /** The jobs the run may submit; undefined: every job. */
  readonly selected: Set<string> | undefined;
  /** With a sample: the jobs it picked from (the `only` selection, else all) and those it picked, in plan order. */
  readonly sample?: { readonly spec: SampleSpec; readonly pool: readonly T[]; readonly picked: readonly T[] };
}

/** The jobs a run may submit among a shard's (or the whole plan's) `jobs`: those `only` selects, then of them the `sample`. */
export function selectJobs<T extends PlannedJob>(
  jobs: readonly T[],
  states: ReadonlyMap<string, JobState>,
  { only, sample }: { only?: string | undefined; sample?: SampleSpec | undefined },
): Selection<T> {
  const selected = only === undefined ? undefined : selectOnly(only, jobs, states);
  if (!sample) return { selected };
  const pool = selected ? jobs.filter((job) => selected.has(job.id)) : [...jobs];
  const picked = sampleJobs(pool, sample);
  return { selected: new Set(picked.map((job) => job.id)), sample: { spec: sample, pool, picked } };
}

/** Whether `prefix` starts the job's id or its external_task_id: how `--only` and `klingrun rate` name jobs. */
export function namedBy(job: { readonly id: string; readonly external_task_id: string | null }, prefix: string): boolean {
  return job.id.startsWith(prefix) || (job.external_task_id?.startsWith(prefix) ?? false);
}

/**
 * The jobs `--only` selects: `failed` and `timed_out` by their journal state, anything else as a
 * prefix of the job id or of the external_task_id. Throws when a prefix matches nothing.
 */
export function selectOnly(only: string, jobs: readonly PlannedJob[], states: ReadonlyMap<string, JobState>): Set<string> {
  const selected = new Set<string>();
  for (const job of jobs) {
    const phase = states.get(job.id)?.phase;
    const hit = only === 'failed' || only === 'timed_out' ? phase === only : namedBy(job, only);
    if (hit) selected.add(job.id);
  }
  if (selected.size === 0 && only !== 'failed' && only !== 'timed_out') {
    throw new UsageError(`\`--only ${only}\` matches no job: give failed, timed_out, or the start of a job id or external_task_id (see report.json).`);
  }
  return selected;
}
