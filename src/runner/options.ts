// The runner's options: what a user may set (manifest `limits:` block, then flags on top), and
// the one place that applies defaults and produces the resolved, fully-specified options.
import { DEFAULT_TIMEOUT_MS } from '../api/client.js';
import type { Limits } from '../manifest/schema.js';
import type { ResolvedRunOptions } from './context.js';

/** What a user may set: the manifest's `limits:` block (its schema documents each field), flags on top. */
export type RunOptionsInput = Limits;

/** Safe for a new account (1-5 minute tasks, 30-60 minute deadline: docs/api.md). */
export const DEFAULT_RUN_OPTIONS = {
  concurrency: 5,
  rpm: 30,
  task_timeout_min: 60,
  download_concurrency: 4,
  // Public clients saw lookups lag creates by seconds; a minute covers that with room to spare.
  absence_window_s: 60,
  // Gateways give up on an upstream request after a minute or two (one seen held a create 100 s):
  // a quarter of an hour leaves a wide margin.
  transit_window_s: 900,
  // Idleness, not the total: a slow link still finishes (docs/api.md, "Video URLs").
  download_timeout_s: 60,
  // A 10-second 1080p clip is tens of MB; a larger answer is not a clip.
  max_video_mb: 500,
} as const;

/** A model's limit on tasks at once: its own (concurrency_per_model), never above the total. */
export function modelConcurrency(options: Pick<ResolvedRunOptions, 'concurrency' | 'concurrencyPerModel'>, model: string): number {
  const own = typeof options.concurrencyPerModel === 'number' ? options.concurrencyPerModel : options.concurrencyPerModel?.[model];
  return Math.min(options.concurrency, own ?? options.concurrency);
}

/** Later layers win: e.g. `[emulatorDefaults, manifest.limits, flags]`. Undefined values do not override. */
export function resolveRunOptions(
  layers: ReadonlyArray<RunOptionsInput | undefined>,
  switches: { readonly retryFailed?: boolean; readonly resubmitUnconfirmed?: boolean } = {},
): ResolvedRunOptions {
  const merged: RunOptionsInput = {};
  for (const layer of layers) {
    for (const [key, value] of Object.entries(layer ?? {})) {
      if (value !== undefined) (merged as Record<string, unknown>)[key] = value;
    }
  }
  return {
    concurrency: merged.concurrency ?? DEFAULT_RUN_OPTIONS.concurrency,
    concurrencyPerModel: merged.concurrency_per_model,
    rpm: merged.rpm ?? DEFAULT_RUN_OPTIONS.rpm,
    budgetUsd: merged.budget_usd,
    taskTimeoutMs: (merged.task_timeout_min ?? DEFAULT_RUN_OPTIONS.task_timeout_min) * 60_000,
    pollIntervalMs: merged.poll_interval_s === undefined ? undefined : merged.poll_interval_s * 1000,
    downloadConcurrency: merged.download_concurrency ?? DEFAULT_RUN_OPTIONS.download_concurrency,
    retryFailed: switches.retryFailed ?? false,
    resubmitUnconfirmed: switches.resubmitUnconfirmed ?? false,
    absenceWindowMs: (merged.absence_window_s ?? DEFAULT_RUN_OPTIONS.absence_window_s) * 1000,
    absenceLookups: 3,
    transitWindowMs: (merged.transit_window_s ?? DEFAULT_RUN_OPTIONS.transit_window_s) * 1000,
    requestTimeoutMs: merged.request_timeout_s === undefined ? DEFAULT_TIMEOUT_MS : merged.request_timeout_s * 1000,
    downloadIdleTimeoutMs: (merged.download_timeout_s ?? DEFAULT_RUN_OPTIONS.download_timeout_s) * 1000,
    maxVideoBytes: Math.floor((merged.max_video_mb ?? DEFAULT_RUN_OPTIONS.max_video_mb) * 1024 * 1024),
    maxRetries: 6,
    backoffBaseMs: 1_000,
    backoffCapMs: 60_000,
  };
}
