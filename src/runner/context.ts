// Everything a running batch shares: the effects passed in, the limits, the journal writer.
import type { ProviderClient } from '../api/provider.js';
import type { Clock, Logger, Random } from '../effects.js';
import type { PlannedJob } from '../plan/schema.js';
import type { JobEvent } from '../state/events.js';
import type { JobState } from './job-state.js';

/** An event as the runner records it; the context stamps `t` from the clock. */
export type EventInput = JobEvent extends infer E ? (E extends JobEvent ? Omit<E, 't'> : never) : never;

export interface Limiter {
  take(signal?: AbortSignal): Promise<void>;
}

export interface Gate {
  acquire(signal?: AbortSignal): Promise<void>;
  release(): void;
  hold(): void;
  onRejected(): void;
  onAccepted(): void;
}

export interface ResolvedRunOptions {
  readonly concurrency: number;
  readonly rpm: number;
  readonly budgetUsd: number | undefined;
  readonly taskTimeoutMs: number;
  /** Fixed poll interval; undefined = adaptive polling. */
  readonly pollIntervalMs: number | undefined;
  readonly downloadConcurrency: number;
  readonly retryFailed: boolean;
  /** Retries per job for retryable errors (rate and concurrency answers do not use them up). */
  readonly maxRetries: number;
  /** Backoff base and cap for retries (full jitter). */
  readonly backoffBaseMs: number;
  readonly backoffCapMs: number;
}

export interface RunContext {
  readonly client: ProviderClient;
  readonly clock: Clock;
  readonly random: Random;
  readonly logger: Logger;
  readonly limiter: Limiter;
  readonly gate: Gate;
  readonly options: ResolvedRunOptions;
  /** Aborted on Ctrl-C or a run-stopping provider error: no new submits. */
  readonly softSignal: AbortSignal;
  /** Aborted to stop everything at once (tests, a second Ctrl-C in-process). */
  readonly hardSignal: AbortSignal;
  /** Append an event to the journal and the in-memory states; returns the job's new state. */
  record(event: EventInput): JobState;
  state(jobId: string): JobState;
  /** Stop submitting for the rest of the run (auth or balance refused, disk full). */
  stopRun(reason: unknown): void;
  jobs: ReadonlyMap<string, PlannedJob>;
}

/** Full-jitter exponential backoff: a random wait in [0, min(cap, base · 2^n)). */
export function backoffMs(context: Pick<RunContext, 'options' | 'random'>, failures: number): number {
  const { backoffBaseMs, backoffCapMs } = context.options;
  return Math.floor(context.random() * Math.min(backoffCapMs, backoffBaseMs * 2 ** Math.max(0, failures - 1)));
}
