// Choosing which jobs a run may submit: `--shard i/n` (a deterministic slice, so n machines split
// one batch with no overlap and no coordination) and `--only failed|timed_out|<id prefix>`.
import { UsageError } from '../errors.js';
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

/** Job ids are sha256 hex: their leading bits are uniform, so a modulo splits evenly. */
export function inShard(job: PlannedJob, shard: Shard): boolean {
  return Number.parseInt(job.id.slice(0, 12), 16) % shard.count === shard.index - 1;
}

/**
 * The jobs `--only` selects: `failed` and `timed_out` by their journal state, anything else as a
 * prefix of the job id or of the external_task_id. Throws when a prefix matches nothing.
 */
export function selectOnly(only: string, jobs: readonly PlannedJob[], states: ReadonlyMap<string, JobState>): Set<string> {
  const selected = new Set<string>();
  for (const job of jobs) {
    const phase = states.get(job.id)?.phase;
    const hit = only === 'failed' || only === 'timed_out' ? phase === only : job.id.startsWith(only) || job.external_task_id.startsWith(only);
    if (hit) selected.add(job.id);
  }
  if (selected.size === 0 && only !== 'failed' && only !== 'timed_out') {
    throw new UsageError(`\`--only ${only}\` matches no job: give failed, timed_out, or the start of a job id or external_task_id (see report.json).`);
  }
  return selected;
}
