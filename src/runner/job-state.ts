// Replaying the journal into one state per job. The journal is the only memory of a run: this
// fold is the single place that gives its events meaning.
import type { JobRequest } from '../plan/schema.js';
import type { JobEvent, JournalEvent } from '../state/events.js';

export type Phase =
  | 'pending' // nothing reached the provider (or it refused): safe to submit
  | 'submitting' // a POST may have reached the provider; its answer is unknown
  | 'submitted' // the provider has the task; poll it
  | 'succeeded' // the task succeeded; the video is not on disk yet
  | 'downloaded'
  | 'failed'
  | 'timed_out'
  | 'lost_at_provider' // the provider no longer knows a task it gave us
  | 'orphaned' // a duplicate refusal says a task exists that no lookup shows yet
  | 'skipped_budget';

/** The task's video as the run needs it (the journal keeps the provider's whole list). */
export interface Video {
  readonly url: string;
  readonly duration?: string;
}

export interface Download {
  readonly path: string;
  readonly sha256: string;
  readonly bytes: number;
  readonly mtime_ms?: number;
  readonly duration_s?: number;
  readonly width?: number;
  readonly height?: number;
  readonly fps?: number;
  readonly codec?: string;
  readonly frames?: number;
  readonly warnings?: readonly string[];
  readonly invalid?: boolean;
}

export interface JobState {
  readonly job: string;
  readonly phase: Phase;
  /** The current attempt (0 before the first submit). */
  readonly attempt: number;
  readonly externalTaskId?: string;
  readonly taskId?: string;
  readonly taskStatus?: string;
  /** When the current attempt's first `submitting` was written. */
  readonly submittedAt?: number;
  /** When its last `submitting` was written: a task may appear up to a request timeout after it. */
  readonly sentAt?: number;
  /** When the provider accepted the current attempt's task: its deadline counts from here, not from slot waits. */
  readonly acceptedAt?: number;
  readonly finishedAt?: number;
  /** The first video of the succeeded task: the one downloaded and reported. */
  readonly video?: Video;
  readonly download?: Download;
  readonly error?: { readonly code: number | string; readonly message: string; readonly retriable: boolean };
  /** How the task of a lost answer was found again, if it was. */
  readonly adoptedVia?: 'lookup' | 'list' | 'duplicate';
  /** Why a `submitting` job is left alone: its task may exist, its absence could not be proven. */
  readonly unconfirmed?: string;
  /**
   * Its last POST has no final answer (none yet, none ever: a crash, a timeout, a gateway's 504) and
   * may still reach the provider, so "not found" proves nothing. False once an `unconfirmed` record
   * says it was answered; undefined when no POST is pending.
   */
  readonly inTransit?: boolean;
  /** Why the last download gave up (a rerun tries again). */
  readonly downloadError?: string;
  /** What the provider says the task cost, in its units (`final_unit_deduction`). */
  readonly units?: number;
  /** Kling's list price of the task, as the provider states it (`final_balance_deduction.list_price`). */
  readonly listPrice?: number;
  /** Tasks that earlier attempts created (failed, timed out…): the provider may have billed each. */
  readonly earlierTasks: number;
  /** The attempt a job skipped for budget starts when it is submitted. */
  readonly nextAttempt?: number;
  /** What the last `submitting` recorded, so a job the manifest no longer has can still be finished. */
  readonly request?: JobRequest;
  readonly path?: string;
  readonly estimateUsd?: number | null;
}

/**
 * Every state has every field, in this order (unset ones undefined): states then share one shape,
 * and the fold's copies stay on V8's fast path, which a 600,000-event replay feels.
 */
export const initialState = (job: string): JobState => ({
  job,
  phase: 'pending',
  attempt: 0,
  externalTaskId: undefined,
  taskId: undefined,
  taskStatus: undefined,
  submittedAt: undefined,
  sentAt: undefined,
  acceptedAt: undefined,
  finishedAt: undefined,
  video: undefined,
  download: undefined,
  error: undefined,
  adoptedVia: undefined,
  unconfirmed: undefined,
  inTransit: undefined,
  downloadError: undefined,
  units: undefined,
  listPrice: undefined,
  earlierTasks: 0,
  nextAttempt: undefined,
  request: undefined,
  path: undefined,
  estimateUsd: undefined,
});

/**
 * One copy of each of the few values that every finished job repeats (a codec, a duration): as
 * parsed, each job would hold its own.
 */
const shared = new Map<string, string>();
function sharedText<T extends string | undefined>(text: T): T {
  if (text === undefined || text.length > 16) return text;
  const known = shared.get(text);
  if (known !== undefined) return known as T;
  if (shared.size < 1_000) shared.set(text, text);
  return text;
}

/** Only what is used of a task's videos is kept: 100,000 finished jobs hold one each. */
function firstVideo(videos: readonly { readonly url: string; readonly duration?: string | undefined }[]): Video | undefined {
  const first = videos[0];
  if (!first) return undefined;
  return first.duration === undefined ? { url: first.url } : { url: first.url, duration: sharedText(first.duration) };
}

/**
 * When the task finished: the provider's `updated_at` when it lies between the submit and the poll
 * that saw it (its clock may be hours off ours), else that poll's time. Latency hints rest on it.
 */
function finishTime(state: JobState, event: Extract<JobEvent, { ev: 'succeeded' }>): number {
  const reported = event.finished_at;
  return reported !== undefined && reported <= event.t && reported >= (state.submittedAt ?? event.t) ? reported : event.t;
}

/** A task of this attempt exists (or may): a new attempt leaves it behind, possibly billed. */
const heldTask = (state: JobState): boolean => state.taskId !== undefined || state.phase === 'submitting' || state.phase === 'orphaned';

/** Apply one event to a job's state. Pure. */
export function applyEvent(state: JobState, event: JobEvent): JobState {
  switch (event.ev) {
    case 'submitting': {
      const recorded = { request: event.request, path: event.path ?? state.path, estimateUsd: event.cost_usd ?? state.estimateUsd };
      if (event.attempt !== state.attempt) {
        // A new attempt starts clean; only what earlier attempts may have cost is carried on.
        return {
          ...initialState(state.job),
          phase: 'submitting',
          attempt: event.attempt,
          externalTaskId: event.external_task_id,
          submittedAt: event.t,
          sentAt: event.t,
          inTransit: true,
          earlierTasks: state.earlierTasks + (state.attempt > 0 && heldTask(state) ? 1 : 0),
          ...recorded,
        };
      }
      // A re-send within the same attempt keeps its first timestamp. Sent while the last POST's fate
      // is unknown (`--resubmit-unconfirmed`), both may create a task: the first counts as a possible cost.
      const resentBlind = state.phase === 'submitting' ? 1 : 0;
      return {
        ...state,
        ...recorded,
        phase: 'submitting',
        externalTaskId: event.external_task_id,
        submittedAt: state.submittedAt ?? event.t,
        sentAt: event.t,
        unconfirmed: undefined,
        inTransit: true,
        earlierTasks: state.earlierTasks + resentBlind,
      };
    }
    case 'submitted':
      return { ...state, phase: 'submitted', taskId: event.task_id, acceptedAt: event.t, unconfirmed: undefined, inTransit: undefined, error: undefined };
    case 'adopted': {
      // When this runner found it, not the provider's `created_at`: a deadline must not rest on a
      // clock that may be skewed or count in seconds.
      const created = event.t;
      const newAttempt = event.attempt !== state.attempt;
      // A new attempt's task owes nothing to the last one's (its finish, status, video, units).
      const base = newAttempt ? { ...initialState(state.job), request: state.request, path: state.path, estimateUsd: state.estimateUsd } : state;
      return {
        ...base,
        phase: 'submitted',
        attempt: event.attempt,
        externalTaskId: event.external_task_id ?? state.externalTaskId,
        taskId: event.task_id,
        adoptedVia: event.via,
        submittedAt: newAttempt ? created : (state.submittedAt ?? created),
        acceptedAt: created,
        earlierTasks: state.earlierTasks + (newAttempt && state.attempt > 0 && heldTask(state) ? 1 : 0),
        unconfirmed: undefined,
        inTransit: undefined,
        error: undefined,
      };
    }
    case 'rejected':
      return { ...state, phase: 'pending', inTransit: undefined, error: { code: event.code, message: event.message, retriable: event.retryable } };
    case 'unconfirmed':
      // Written before `in_transit` was: whether it was answered is not known.
      return { ...state, phase: 'submitting', unconfirmed: event.message, inTransit: event.in_transit ?? true };
    case 'status':
      return { ...state, taskId: event.task_id, taskStatus: event.task_status };
    case 'succeeded':
      return {
        ...state,
        phase: state.phase === 'downloaded' ? 'downloaded' : 'succeeded',
        taskId: event.task_id,
        taskStatus: 'succeed',
        video: firstVideo(event.videos),
        finishedAt: state.finishedAt ?? finishTime(state, event),
        units: event.units ?? state.units,
        listPrice: event.list_price ?? state.listPrice,
        error: undefined,
      };
    case 'downloaded':
      return {
        ...state,
        phase: 'downloaded',
        downloadError: undefined,
        download: {
          path: event.path,
          sha256: event.sha256,
          bytes: event.bytes,
          mtime_ms: event.mtime_ms,
          duration_s: event.duration_s,
          width: event.width,
          height: event.height,
          fps: event.fps,
          codec: sharedText(event.codec),
          frames: event.frames,
          warnings: event.warnings,
          invalid: event.invalid,
        },
      };
    case 'download_failed':
      return { ...state, downloadError: event.message };
    case 'failed':
      return {
        ...state,
        phase: 'failed',
        finishedAt: event.t,
        error: { code: event.code, message: event.message, retriable: event.retriable },
        units: event.units ?? state.units,
        listPrice: event.list_price ?? state.listPrice,
      };
    case 'timed_out':
      return { ...state, phase: 'timed_out' };
    case 'lost':
      return { ...state, phase: 'lost_at_provider', finishedAt: event.t, error: { code: 'lost_at_provider', message: event.message, retriable: true } };
    case 'orphaned':
      return { ...state, phase: 'orphaned', error: { code: 'orphaned', message: event.message, retriable: false } };
    case 'skipped_budget':
      return { ...state, phase: 'skipped_budget', estimateUsd: event.cost_usd, nextAttempt: event.attempt };
  }
}

/**
 * Folds journal events into job states as they are read or written, keeping only what the states
 * need: a 100,000-job journal is never held as its ~600,000 events. Plug `add` into
 * openJournal/readJournal's `onEvent`.
 */
export class JournalState {
  readonly states = new Map<string, JobState>();
  /** When the latest `run` began, and when the last event was written (ms). */
  lastRunAt: number | undefined;
  lastEventAt: number | undefined;
  readonly #requestOf: (jobId: string) => JobRequest | undefined;

  /**
   * @param requestOf the planned request of a job, when the plan has it: a job id is the hash of its
   * request (an image by its content), so the journal's copy asks for the same video, and the
   * plan's object is kept instead, one copy in memory (its image path is the manifest's now).
   */
  constructor(requestOf: (jobId: string) => JobRequest | undefined = () => undefined) {
    this.#requestOf = requestOf;
  }

  readonly add = (event: JournalEvent): void => {
    this.lastEventAt = event.t;
    if (event.ev === 'header') return;
    if (event.ev === 'run') {
      this.lastRunAt = event.t;
      return;
    }
    const shared = event.ev === 'submitting' ? this.#requestOf(event.job) : undefined;
    const folded = shared && event.ev === 'submitting' ? { ...event, request: shared } : event;
    this.states.set(event.job, applyEvent(this.states.get(event.job) ?? initialState(event.job), folded));
  };
}

/** Fold a whole journal into states by job id (jobs with no events are absent). */
export function replay(events: Iterable<JournalEvent>): Map<string, JobState> {
  const folded = new JournalState();
  for (const event of events) folded.add(event);
  return folded.states;
}

/** external_task_id of an attempt: attempt 1 uses the plan's, later ones add `-a<n>` (≤ 32 chars). */
export function externalIdFor(planExternalId: string, attempt: number): string {
  return attempt <= 1 ? planExternalId : `${planExternalId}-a${attempt}`;
}
