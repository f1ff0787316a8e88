// How a set of jobs turned out: which statuses count as succeeded or failed, the success rate and
// the latencies. report.json's per-variant table uses outcomesOf; the gallery's columns, added up
// job by job, use the same sets and percentile, so the two can never disagree.
import type { ReportJob, ReportStatus } from './schema.js';

/** The task succeeded (the video may still be on its way to disk). */
export const SUCCEEDED: ReadonlySet<ReportStatus> = new Set(['succeeded', 'not_downloaded']);
/** The job ended without a usable video. */
export const FAILED: ReadonlySet<ReportStatus> = new Set(['failed', 'timed_out', 'orphaned', 'lost_at_provider', 'invalid_output']);

export interface Outcomes<J> {
  readonly succeeded: readonly J[];
  readonly failed: number;
  /** Succeeded ÷ finished, null while nothing has finished. */
  readonly successRate: number | null;
  /** Latencies of the succeeded jobs, in seconds, ascending. */
  readonly latencies: readonly number[];
}

export function outcomesOf<J extends Pick<ReportJob, 'status' | 'latency_s'>>(jobs: readonly J[]): Outcomes<J> {
  const succeeded = jobs.filter((j) => SUCCEEDED.has(j.status));
  const failed = jobs.filter((j) => FAILED.has(j.status)).length;
  const finished = succeeded.length + failed;
  return {
    succeeded,
    failed,
    successRate: finished === 0 ? null : succeeded.length / finished,
    latencies: succeeded.map((j) => j.latency_s).filter((l): l is number => l !== null).sort((a, b) => a - b),
  };
}

/** Nearest-rank percentile of an ascending list. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? null;
}
