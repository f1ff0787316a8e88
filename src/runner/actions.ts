// What to do next with a job, decided from its replayed state alone. Every resume rule (the table
// in the README's "why reruns are safe") is a row here, and a row in test/actions.test.ts.
import type { JobState } from './job-state.js';

export type Action =
  | { readonly kind: 'submit'; readonly attempt: number }
  | { readonly kind: 'reconcile' } // a POST may have created a task: find it before anything else
  | { readonly kind: 'poll' }
  | { readonly kind: 'download' }
  | { readonly kind: 'done' };

export interface ActionContext {
  /** `--retry-failed` (or `--only failed`): start a new attempt for retriable failures. */
  readonly retryFailed: boolean;
  /** Whether the downloaded file is on disk with the recorded sha256 (checked by the caller). */
  readonly fileIntact: boolean;
}

export function nextAction(state: JobState, context: ActionContext): Action {
  switch (state.phase) {
    case 'pending':
    case 'skipped_budget':
      // Nothing was created at the provider: submit, reusing the attempt a refusal left open.
      return { kind: 'submit', attempt: Math.max(1, state.attempt) };
    case 'submitting':
      return { kind: 'reconcile' };
    case 'submitted':
    case 'timed_out': // a later run checks timed-out tasks again instead of resubmitting
      return { kind: 'poll' };
    case 'succeeded':
      return { kind: 'download' };
    case 'downloaded':
      return context.fileIntact ? { kind: 'done' } : { kind: 'download' };
    case 'failed':
      return context.retryFailed && state.error?.retriable ? { kind: 'submit', attempt: state.attempt + 1 } : { kind: 'done' };
    case 'orphaned':
      // The provider holds a task under this external id that we cannot see: never pay again.
      return { kind: 'done' };
  }
}
