// Everything a running batch shares: the effects passed in, the limits, the journal writer.
import type { ProviderError } from '../api/errors.js';
import type { ProviderClient } from '../api/provider.js';
import type { Clock, Logger, Random } from '../effects.js';
import type { JobRequest } from '../plan/schema.js';
import type { JobEvent } from '../state/events.js';
import type { JobState } from './job-state.js';
import type { TaskFinder } from './reconcile.js';

/** An event as the runner records it; the context stamps `t` from the clock. */
export type EventInput = JobEvent extends infer E ? (E extends JobEvent ? Omit<E, 't'> : never) : never;

export interface Limiter {
  take(signal?: AbortSignal): Promise<void>;
  /** Takes waiting for a grant (read by progress displays). */
  readonly waiting?: number;
}

export interface Gate {
  acquire(signal?: AbortSignal): Promise<void>;
  release(): void;
  hold(): void;
  onRejected(): void;
  onAccepted(): void;
  /** Slots held, the limit acquisitions wait for now, and acquisitions waiting (read by progress displays). */
  readonly inFlight?: number;
  readonly effectiveLimit?: number;
  readonly waiting?: number;
}

/** Proof that this process still owns the output folder (state/lock.ts), asked before every paid step. */
export interface FolderGuard {
  /** Throws when another runner has taken the folder over. */
  assertHeld(): void;
  /** Aborted as soon as the folder is found lost: everything stops. */
  readonly lost?: AbortSignal;
}

/**
 * A job as the runner drives it: a planned job, or one the journal holds from an earlier version of
 * the manifest (it was paid for, so it is finished whatever the manifest says now).
 */
export interface RunnableJob {
  readonly id: string;
  /** For attempt 1; later attempts add `-a<n>`. */
  readonly external_task_id: string;
  readonly request: JobRequest;
  /** Estimated USD of one task, null when the price is unknown. */
  readonly cost_usd: number | null;
  /** Where its video goes, relative to the output folder. */
  readonly path: string;
  /** True for a job only the journal knows. */
  readonly fromJournal: boolean;
}

export interface ResolvedRunOptions {
  /** Tasks in flight at once, all models together. */
  readonly concurrency: number;
  /** Per model: one limit for every model, or by model_name; undefined: the total alone. */
  readonly concurrencyPerModel: number | Readonly<Record<string, number>> | undefined;
  readonly rpm: number;
  readonly budgetUsd: number | undefined;
  readonly taskTimeoutMs: number;
  /** Fixed poll interval; undefined = adaptive polling. */
  readonly pollIntervalMs: number | undefined;
  /** Real time per unit of the provider's time (runner/options.ts): the adaptive poll schedule is multiplied by it. */
  readonly timeScale: number;
  readonly downloadConcurrency: number;
  readonly retryFailed: boolean;
  /** `--resubmit-unconfirmed`: send again jobs whose task may exist (this may pay twice). */
  readonly resubmitUnconfirmed: boolean;
  /** How long a task must stay unfound after its POST before "not found" counts as absent. */
  readonly absenceWindowMs: number;
  /** Looks spread over that window (at least). */
  readonly absenceLookups: number;
  /** How long after it was sent an unanswered create may still reach the provider and make its task. */
  readonly transitWindowMs: number;
  /** The longest a create request may be under way: a task may appear up to this long after `submitting`. */
  readonly requestTimeoutMs: number;
  /** How long a video download may receive nothing before it is cut (and resumed). */
  readonly downloadIdleTimeoutMs: number;
  /** A video answer larger than this is refused. */
  readonly maxVideoBytes: number;
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
  /** The slots a job's task holds: its model's, nested in the account's (limits.ts, NestedGate). */
  route(job: RunnableJob): Gate;
  readonly finder: TaskFinder;
  readonly guard: FolderGuard | undefined;
  readonly options: ResolvedRunOptions;
  /** Aborted on Ctrl-C, a run-stopping provider error, or with hardSignal: no new submits. */
  readonly softSignal: AbortSignal;
  /** Aborted to stop everything at once (tests, a second Ctrl-C in-process, an unreachable provider). */
  readonly hardSignal: AbortSignal;
  /** Append an event to the journal and the in-memory states; returns the job's new state. */
  record(event: EventInput): JobState;
  state(jobId: string): JobState;
  /** Stop submitting for the rest of the run (auth or balance refused, disk full). */
  stopRun(reason: unknown): void;
  /**
   * The provider refused this job's model (a refusal of scope 'model'): the job and every other job
   * of the model not yet sent are recorded as not submitted, with the reason; the other models go on.
   */
  blockModel(job: RunnableJob, attempt: number, reason: ProviderError): void;
  /** Stop everything: nothing can make progress (the provider cannot be reached). */
  abortRun(reason: unknown): void;
  readonly jobs: ReadonlyMap<string, RunnableJob>;
}

/** Full-jitter exponential backoff: a random wait in [0, min(cap, base · 2^n)). */
export function backoffMs(context: Pick<RunContext, 'options' | 'random'>, failures: number): number {
  const { backoffBaseMs, backoffCapMs } = context.options;
  return Math.floor(context.random() * Math.min(backoffCapMs, backoffBaseMs * 2 ** Math.max(0, failures - 1)));
}
