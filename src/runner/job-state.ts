// Replaying the journal into one state per job. The journal is the only memory of a run: this
// fold is the single place that gives its events meaning.
import type { JobEvent, JournalEvent } from '../state/events.js';

export type Phase =
  | 'pending' // nothing reached the provider (or it refused): safe to submit
  | 'submitting' // a POST may have reached the provider; its answer is unknown
  | 'submitted' // the provider has the task; poll it
  | 'succeeded' // the task succeeded; the video is not on disk yet
  | 'downloaded'
  | 'failed'
  | 'timed_out'
  | 'orphaned'
  | 'skipped_budget';

export interface Video {
  readonly id?: string;
  readonly url: string;
  readonly duration?: string;
}

export interface Download {
  readonly path: string;
  readonly sha256: string;
  readonly bytes: number;
  readonly duration_s?: number;
  readonly width?: number;
  readonly height?: number;
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
  readonly finishedAt?: number;
  readonly videos?: readonly Video[];
  readonly download?: Download;
  readonly error?: { readonly code: number | string; readonly message: string; readonly retriable: boolean };
  /** How the task of a lost answer was found again, if it was. */
  readonly adoptedVia?: 'lookup' | 'list' | 'duplicate';
  readonly costUsd?: number | null;
}

export const initialState = (job: string): JobState => ({ job, phase: 'pending', attempt: 0 });

/** Apply one event to a job's state. Pure. */
export function applyEvent(state: JobState, event: JobEvent): JobState {
  switch (event.ev) {
    case 'submitting':
      // A new attempt starts clean; a re-send within the same attempt keeps its first timestamp.
      if (event.attempt !== state.attempt) {
        return { job: state.job, phase: 'submitting', attempt: event.attempt, externalTaskId: event.external_task_id, submittedAt: event.t };
      }
      return { ...state, phase: 'submitting', externalTaskId: event.external_task_id, submittedAt: state.submittedAt ?? event.t };
    case 'submitted':
      return { ...state, phase: 'submitted', taskId: event.task_id };
    case 'adopted':
      return { ...state, phase: 'submitted', taskId: event.task_id, adoptedVia: event.via };
    case 'rejected':
      return { ...state, phase: 'pending', error: { code: event.code, message: event.message, retriable: event.retryable } };
    case 'status':
      return { ...state, taskId: event.task_id, taskStatus: event.task_status };
    case 'succeeded':
      return { ...state, phase: state.phase === 'downloaded' ? 'downloaded' : 'succeeded', taskId: event.task_id, taskStatus: 'succeed', videos: event.videos, finishedAt: state.finishedAt ?? event.finished_at ?? event.t, error: undefined };
    case 'downloaded':
      return { ...state, phase: 'downloaded', download: { path: event.path, sha256: event.sha256, bytes: event.bytes, duration_s: event.duration_s, width: event.width, height: event.height, warnings: event.warnings, invalid: event.invalid } };
    case 'failed':
      return { ...state, phase: 'failed', finishedAt: event.t, error: { code: event.code, message: event.message, retriable: event.retriable } };
    case 'timed_out':
      return { ...state, phase: 'timed_out' };
    case 'orphaned':
      return { ...state, phase: 'orphaned', error: { code: 'orphaned', message: event.message, retriable: false } };
    case 'skipped_budget':
      return { ...state, phase: 'skipped_budget', costUsd: event.cost_usd };
  }
}

/** Fold a whole journal into states by job id (jobs with no events are absent). */
export function replay(events: readonly JournalEvent[]): Map<string, JobState> {
  const states = new Map<string, JobState>();
  for (const event of events) {
    if (event.ev === 'header' || event.ev === 'run') continue;
    states.set(event.job, applyEvent(states.get(event.job) ?? initialState(event.job), event));
  }
  return states;
}

/** external_task_id of an attempt: attempt 1 uses the plan's, later ones add `-a<n>` (≤ 32 chars). */
export function externalIdFor(planExternalId: string, attempt: number): string {
  return attempt <= 1 ? planExternalId : `${planExternalId}-a${attempt}`;
}
