// The runner's options: what a user may set (manifest `limits:` block, then flags on top), and
// the one place that applies defaults and produces the resolved, fully-specified options.
import { DEFAULT_TIMEOUT_MS } from '../api/client.js';
import type { Limits } from '../manifest/schema.js';
import type { ResolvedRunOptions } from './context.js';

/** What a user may set: the manifest's `limits:` block (its schema documents each field), flags on top. */
export type RunOptionsInput = Limits;

/** Grounded in the provider's documented limits; docs/api.md ("Defaults") gives the source of each. */
export const DEFAULT_RUN_OPTIONS = {
  // The smallest documented account limit: a trial resource pack runs 5 tasks at once per model.
  concurrency: 5,
  // No request limit is documented (1302 says when one is hit). Five tasks polled on the adaptive
  // schedule, with their creates and first lookups, take about 35 requests a minute: 60 leaves room.
  rpm: 60,
  // Tasks usually take 1-5 minutes, sometimes far longer; the documents advise a 30-60 minute deadline.
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

export interface RunSwitches {
  readonly retryFailed?: boolean;
  readonly resubmitUnconfirmed?: boolean;
  /**
   * Real time per unit of the provider's time (`--time-scale`): 1 for a real service; below 1 for
   * a test double whose clock runs fast (0.01: its minute lasts 0.6 s). Every wait that follows the
   * provider's clock is multiplied by it: the task timeout, polling, the absence and transit
   * windows, backoff; the request rate is per provider minute. Timeouts of the network (a request,
   * a download's idleness) are real time and stay as they are. @default 1
   */
  readonly timeScale?: number;
}

/** Later layers win: e.g. `[emulatorDefaults, manifest.limits, flags]`. Undefined values do not override. */
export function resolveRunOptions(layers: ReadonlyArray<RunOptionsInput | undefined>, switches: RunSwitches = {}): ResolvedRunOptions {
  const merged: RunOptionsInput = {};
  for (const layer of layers) {
    for (const [key, value] of Object.entries(layer ?? {})) {
      if (value !== undefined) (merged as Record<string, unknown>)[key] = value;
    }
  }
  const timeScale = switches.timeScale ?? 1;
  /** Real milliseconds for seconds of the provider's clock. */
  const scaled = (seconds: number): number => seconds * 1000 * timeScale;
  return {
    concurrency: merged.concurrency ?? DEFAULT_RUN_OPTIONS.concurrency,
    concurrencyPerModel: merged.concurrency_per_model,
    // Requests per provider minute, counted by the limiter per real minute.
    rpm: Math.max(1, Math.floor((merged.rpm ?? DEFAULT_RUN_OPTIONS.rpm) / timeScale)),
    budgetUsd: merged.budget_usd,
    taskTimeoutMs: scaled((merged.task_timeout_min ?? DEFAULT_RUN_OPTIONS.task_timeout_min) * 60),
    pollIntervalMs: merged.poll_interval_s === undefined ? undefined : scaled(merged.poll_interval_s),
    timeScale,
    downloadConcurrency: merged.download_concurrency ?? DEFAULT_RUN_OPTIONS.download_concurrency,
    retryFailed: switches.retryFailed ?? false,
    resubmitUnconfirmed: switches.resubmitUnconfirmed ?? false,
    absenceWindowMs: scaled(merged.absence_window_s ?? DEFAULT_RUN_OPTIONS.absence_window_s),
    absenceLookups: 3,
    transitWindowMs: scaled(merged.transit_window_s ?? DEFAULT_RUN_OPTIONS.transit_window_s),
    requestTimeoutMs: merged.request_timeout_s === undefined ? DEFAULT_TIMEOUT_MS : merged.request_timeout_s * 1000,
    downloadIdleTimeoutMs: (merged.download_timeout_s ?? DEFAULT_RUN_OPTIONS.download_timeout_s) * 1000,
    maxVideoBytes: Math.floor((merged.max_video_mb ?? DEFAULT_RUN_OPTIONS.max_video_mb) * 1024 * 1024),
    maxRetries: 6,
    backoffBaseMs: scaled(1),
    backoffCapMs: scaled(60),
  };
}
