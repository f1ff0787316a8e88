// What to do next with a job, decided from its replayed state alone. Every resume rule is a row
// here, and a row in test/actions.test.ts (the table is in README.md, "The output folder").
import type { JobState } from './job-state.js';

export type Action =
  | { readonly kind: 'submit'; readonly attempt: number }
  /** A POST may have created a task: find it; send again only when its absence is proven. */
  | { readonly kind: 'reconcile' }
  /** A task exists that no lookup has shown: look again, adopt it once visible, never send again. */
  | { readonly kind: 'find' }
  | { readonly kind: 'poll' }
  | { readonly kind: 'download' }
  | { readonly kind: 'done' };

export interface ActionContext {
  /** `--retry-failed` (or `--only failed`): start a new attempt for retriable failures. */
  readonly retryFailed: boolean;
  /** Whether the downloaded file is on disk as recorded (checked by the caller). */
  readonly fileIntact: boolean;
}

export function nextAction(state: JobState, context: ActionContext): Action {
  switch (state.phase) {
    case 'pending':
      // Nothing was created at the provider: submit, reusing the attempt a refusal left open.
      return { kind: 'submit', attempt: Math.max(1, state.attempt) };
    case 'skipped_budget':
      return { kind: 'submit', attempt: state.nextAttempt ?? Math.max(1, state.attempt) };
    case 'submitting':
      return { kind: 'reconcile' };
    case 'orphaned':
      return { kind: 'find' };
    case 'submitted':
    case 'timed_out': // a later run checks timed-out tasks again instead of resubmitting
      return { kind: 'poll' };
    case 'succeeded':
      return { kind: 'download' };
    case 'downloaded':
      return context.fileIntact ? { kind: 'done' } : { kind: 'download' };
    case 'failed':
    case 'lost_at_provider':
      return context.retryFailed && state.error?.retriable ? { kind: 'submit', attempt: state.attempt + 1 } : { kind: 'done' };
  }
}
