// Submitting one job without ever paying twice. Each POST is preceded by a fsynced `submitting`
// record; an answer that may hide a created task is reconciled by external_task_id before any
// retry; a "duplicate external_task_id" refusal means "it exists", never "send another".
import { ProviderError } from '../api/errors.js';
import { KlingrunError } from '../errors.js';
import type { PlannedJob } from '../plan/schema.js';
import type { RunContext } from './context.js';
import { externalIdFor } from './job-state.js';
import { type Found, findTaskPatiently } from './reconcile.js';
import type { BodyBuilder } from './request-body.js';
import { retrying } from './retry.js';

/** `unconfirmed`: a POST may have created a task that could not be found yet; the job stays in `submitting`. */
export type SubmitOutcome = 'submitted' | 'failed' | 'orphaned' | 'stopped' | 'unconfirmed';

/** Thrown inside the retry loop to end it without another try. */
class Stop extends Error {
  constructor(readonly outcome: SubmitOutcome) {
    super(outcome);
  }
}

/** Only the message: a 1201 about the field's own format must not read as "it exists". */
const isDuplicateRefusal = (error: ProviderError): boolean => error.code === 1201 && /already exists|duplicate/i.test(error.message);

export async function submitJob(context: RunContext, job: PlannedJob, attempt: number, bodies: BodyBuilder): Promise<SubmitOutcome> {
  const externalTaskId = externalIdFor(job.external_task_id, attempt);
  let body;
  try {
    body = await bodies.build(job.request, externalTaskId);
  } catch (error) {
    if (!(error instanceof KlingrunError)) throw error;
    context.record({ ev: 'failed', job: job.id, attempt, code: error.code, message: error.message, retriable: false });
    return 'failed';
  }

  const adopt = (found: Found, via: Found['via'] | 'duplicate' = found.via): SubmitOutcome => {
    context.record({ ev: 'adopted', job: job.id, attempt, task_id: found.task.task_id, via });
    return 'submitted';
  };

  /** After an answer that may hide a task: find it, or learn that sending again is safe. */
  const reconcile = async (): Promise<Found | null> => {
    const submittedAt = context.state(job.id).submittedAt ?? context.clock.now();
    try {
      return await findTaskPatiently(context, externalTaskId, submittedAt);
    } catch (error) {
      // No definite answer: sending again could pay twice. Leave it for the next run.
      if (error instanceof ProviderError && error.errorClass === 'fatal-run') context.stopRun(error);
      throw new Stop('unconfirmed');
    }
  };

  const once = async (): Promise<SubmitOutcome> => {
    if (context.softSignal.aborted) throw new Stop(context.state(job.id).phase === 'submitting' ? 'unconfirmed' : 'stopped');
    await context.limiter.take(context.hardSignal);
    context.record({ ev: 'submitting', job: job.id, attempt, external_task_id: externalTaskId, request: job.request });
    try {
      const task = await context.client.createTask(body, { signal: context.hardSignal });
      context.record({ ev: 'submitted', job: job.id, attempt, task_id: task.task_id, created_at: task.created_at });
      context.gate.onAccepted();
      return 'submitted';
    } catch (error) {
      if (!(error instanceof ProviderError)) throw error;
      if (error.outcome === 'unknown') {
        const found = await reconcile();
        if (found) return adopt(found);
        throw error; // not there: safe to send again, with the same external_task_id
      }
      if (isDuplicateRefusal(error)) {
        const found = await reconcile();
        if (found) return adopt(found, 'duplicate');
        context.record({ ev: 'orphaned', job: job.id, attempt, external_task_id: externalTaskId, message: `The provider says a task with external_task_id ${externalTaskId} already exists, but it cannot be found; not submitting again.` });
        throw new Stop('orphaned');
      }
      context.record({ ev: 'rejected', job: job.id, attempt, code: error.code, message: error.message, retryable: error.retryable });
      if (error.errorClass === 'retryable-concurrency') {
        context.gate.onRejected();
        // The provider is full: asking again before one of our tasks ends only earns another
        // 1303. Give the slot back and queue for the next one that frees.
        context.gate.release();
        try {
          await context.gate.acquire(AbortSignal.any([context.softSignal, context.hardSignal]));
        } catch {
          context.gate.hold(); // the caller releases the slot it believes this job holds
          throw new Stop('stopped');
        }
      }
      if (error.errorClass === 'fatal-run') {
        context.stopRun(error);
        throw new Stop('stopped');
      }
      if (error.errorClass === 'fatal-job') {
        // A moderation refusal may pass on a later, deliberate try; a parameter error will not.
        context.record({ ev: 'failed', job: job.id, attempt, code: error.code, message: error.message, retriable: error.code === 1301 });
        throw new Stop('failed');
      }
      throw error;
    }
  };

  try {
    return await retrying(context, `submit ${externalTaskId}`, once);
  } catch (error) {
    if (error instanceof Stop) return error.outcome;
    if (!(error instanceof ProviderError)) throw error;
    // Out of retries. After an ambiguous last answer the job stays in `submitting`, so the
    // next run reconciles it instead of risking a second paid task.
    if (context.state(job.id).phase === 'submitting') return 'unconfirmed';
    context.record({ ev: 'failed', job: job.id, attempt, code: error.code, message: error.message, retriable: true });
    return 'failed';
  }
}

/** A job found in `submitting` at start: adopt its task, or send it again with the same id. */
export async function resumeSubmitting(context: RunContext, job: PlannedJob, bodies: BodyBuilder): Promise<SubmitOutcome> {
  const state = context.state(job.id);
  const externalTaskId = state.externalTaskId ?? externalIdFor(job.external_task_id, state.attempt);
  let found: Found | null;
  try {
    found = await findTaskPatiently(context, externalTaskId, state.submittedAt ?? context.clock.now());
  } catch (error) {
    if (error instanceof ProviderError && error.errorClass === 'fatal-run') context.stopRun(error);
    if (error instanceof ProviderError || context.hardSignal.aborted) return 'unconfirmed';
    throw error;
  }
  if (found) {
    context.record({ ev: 'adopted', job: job.id, attempt: state.attempt, task_id: found.task.task_id, via: found.via });
    return 'submitted';
  }
  return submitJob(context, job, state.attempt, bodies);
}
