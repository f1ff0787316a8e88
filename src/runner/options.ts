// The runner's options: what a user may set (manifest `limits:` block, then flags on top), and
// the one place that applies defaults and produces the resolved, fully-specified options.
import type { ResolvedRunOptions } from './context.js';

export interface RunOptionsInput {
  /** Tasks in flight at the provider. @default 5 */
  readonly concurrency?: number;
  /** Requests per minute, all calls together. @default 30 */
  readonly rpm?: number;
  /** Hard cap on committed USD. @default none */
  readonly budget_usd?: number;
  /** Minutes before an unfinished task is marked timed_out. @default 60 */
  readonly task_timeout_min?: number;
  /** Fixed poll interval in seconds. @default adaptive */
  readonly poll_interval_s?: number;
  /** Parallel video downloads. @default 4 */
  readonly download_concurrency?: number;
}

/** Safe for a new account (docs/api.md: 1-5 minute tasks, 30-60 minute deadline). */
export const DEFAULT_RUN_OPTIONS = {
  concurrency: 5,
  rpm: 30,
  task_timeout_min: 60,
  download_concurrency: 4,
} as const;

/** Later layers win: e.g. `[emulatorDefaults, manifest.limits, flags]`. Undefined values do not override. */
export function resolveRunOptions(layers: ReadonlyArray<RunOptionsInput | undefined>, retryFailed: boolean): ResolvedRunOptions {
  const merged: RunOptionsInput = {};
  for (const layer of layers) {
    for (const [key, value] of Object.entries(layer ?? {})) {
      if (value !== undefined) (merged as Record<string, unknown>)[key] = value;
    }
  }
  return {
    concurrency: merged.concurrency ?? DEFAULT_RUN_OPTIONS.concurrency,
    rpm: merged.rpm ?? DEFAULT_RUN_OPTIONS.rpm,
    budgetUsd: merged.budget_usd,
    taskTimeoutMs: (merged.task_timeout_min ?? DEFAULT_RUN_OPTIONS.task_timeout_min) * 60_000,
    pollIntervalMs: merged.poll_interval_s === undefined ? undefined : merged.poll_interval_s * 1000,
    downloadConcurrency: merged.download_concurrency ?? DEFAULT_RUN_OPTIONS.download_concurrency,
    retryFailed,
    maxRetries: 6,
    backoffBaseMs: 1_000,
    backoffCapMs: 60_000,
  };
}
