// Submitting one job without ever paying twice. Each POST is preceded by a fsynced `submitting`
// record; an answer that may hide a created task is reconciled by external_task_id, and sent again
// only when the task's absence is proven (reconcile.ts) and the POST cannot still be on its way
// (or a resend cannot make a second task); a "duplicate external_task_id" refusal means "it
// exists", never "send another".
import { ProviderError } from '../api/errors.js';
import type { Task } from '../api/schemas.js';
import { KlingrunError } from '../errors.js';
import type { RunContext, RunnableJob } from './context.js';
import { externalIdFor } from './job-state.js';
import type { Finding } from './reconcile.js';
import type { BodyBuilder } from './request-body.js';
import { retrying } from './retry.js';

/**
 * `unconfirmed`: a POST may have created a task that could be neither found nor proven absent; the job stays in `submitting`.
 * `blocked`: the provider refused the job's model; nothing was created, the job stays pending.
 */
export type SubmitOutcome = 'submitted' | 'failed' | 'orphaned' | 'stopped' | 'unconfirmed' | 'absent' | 'blocked';

/** Thrown inside the retry loop to end it without another try. */
class Stop extends Error {
  constructor(readonly outcome: SubmitOutcome) {
    super(outcome);
  }
}

/** Only the message: a 1201 about the field's own format must not read as "it exists". */
const isDuplicateRefusal = (error: ProviderError): boolean => error.code === 1201 && /already exists|duplicate/i.test(error.message);

function adopt(context: RunContext, job: RunnableJob, attempt: number, externalTaskId: string, task: Task, via: 'lookup' | 'list' | 'duplicate'): 'submitted' {
  context.record({ ev: 'adopted', job: job.id, attempt, task_id: task.task_id, via, external_task_id: externalTaskId, ...(task.created_at !== undefined ? { created_at: task.created_at } : {}) });
  return 'submitted';
}

/** A POST whose task is proven never to have been created: the job is back to "nothing sent". */
function recordAbsent(context: RunContext, job: RunnableJob, attempt: number, error: ProviderError | undefined): void {
  const why = error ? `${error.message}; ` : '';
  context.record({ ev: 'rejected', job: job.id, attempt, code: error?.code ?? 'absent', message: `${why}no task was created (its absence was proven)`, retryable: error?.retryable ?? true });
}

/**
 * A POST that got no final answer: no answer at all, or a gateway's "the provider did not answer
 * in time". A gateway may still deliver it, after any window we could look in.
 */
const mayStillArrive = (error: ProviderError): boolean =>
  error.code === 'timeout' || error.code === 'network' || error.code === 5002 || error.httpStatus === 502 || error.httpStatus === 504;

/** Why a job whose POST may still be on its way is left alone, until `transitEnds`. */
function inTransit(transitEnds: number): string {
  // A window too long for a date (a huge --transit-window) never ends.
  const until = Math.abs(transitEnds) <= 8.64e15 ? ` before ${new Date(transitEnds).toISOString()} (the end of its transit window)` : '';
  return `the request may still reach the provider and create its task later (a gateway can hold it past the request timeout), and this provider has not been seen in this run to refuse a duplicate external_task_id, so sending it again${until} could pay twice`;
}

/**
 * When the looks for a POST's task begin, and whether the POST may still arrive after them. One
 * with no final answer may be on its way for the transit window after it was sent (`sentAt`); a
 * window that ends within an absence window from now is waited out, so the looks come after it.
 */
function lookPlan(context: RunContext, sentAt: number, mayBeOnItsWay: boolean): { readonly from: number; readonly transitEnds: number | undefined } {
  const now = context.clock.now();
  // A POST may be received up to a request timeout after its `submitting` record.
  const received = Math.min(sentAt + context.options.requestTimeoutMs, now);
  const transitEnds = sentAt + context.options.transitWindowMs;
  if (!mayBeOnItsWay || context.finder.duplicatesRefused) return { from: received, transitEnds: undefined };
  if (transitEnds - now <= context.options.absenceWindowMs) return { from: Math.max(received, transitEnds), transitEnds: undefined };
  return { from: received, transitEnds };
}

/** The end of the transit window of a POST that may still arrive, unless the provider refuses duplicates after all. */
const stillOnItsWay = (context: RunContext, plan: { readonly transitEnds: number | undefined }): number | undefined =>
  context.finder.duplicatesRefused ? undefined : plan.transitEnds;

/** What became of the POST, as the opening of an `unconfirmed` message. */
function fateOf(error: ProviderError): string {
  if (error.code === 'timeout' || error.code === 'network') return `The submit got no answer (${error.message})`;
  if (error.code === 'bad_response') return `The provider answered the submit, but its answer could not be used (${error.message})`;
  return `The submit's answer does not say whether a task was created (${error.message})`;
}

/**
 * Records why a job is left alone and ends the try. A rerun (no `error`) keeps the message that
 * says what became of the POST, unless the reason it is left alone changed.
 */
function leaveUnconfirmed(context: RunContext, job: RunnableJob, attempt: number, externalTaskId: string, reason: string, error?: ProviderError): Stop {
  const state = context.state(job.id);
  const inTransit = error ? mayStillArrive(error) : state.inTransit !== false;
  const opening = error ? fateOf(error) : 'An earlier submit may have created its task';
  const message = `${opening}, and its task could not be found: ${reason}. It is not sent again now (that could pay twice); a rerun looks for it again, and \`--resubmit-unconfirmed\` sends it again.`;
  const known = error ? state.unconfirmed === message : state.unconfirmed?.includes(`: ${reason}. `);
  if (!known) context.record({ ev: 'unconfirmed', job: job.id, attempt, external_task_id: externalTaskId, message, in_transit: inTransit });
  return new Stop('unconfirmed');
}

/**
 * After a 1303: the provider is full at this model's count, and asking again before one of our
 * tasks of it ends only earns another 1303. Lower the model's limit, give the slot back and queue
 * for the next one that frees.
 */
async function waitForSlot(context: RunContext, job: RunnableJob): Promise<void> {
  const route = context.route(job);
  route.onRejected();
  route.release();
  try {
    await route.acquire(context.softSignal);
  } catch {
    route.hold(); // the caller releases the slot it believes this job holds
    throw new Stop('stopped');
  }
}

export async function submitJob(context: RunContext, job: RunnableJob, attempt: number, bodies: BodyBuilder): Promise<SubmitOutcome> {
  const externalTaskId = externalIdFor(job.external_task_id, attempt);
  let body;
  try {
    body = await bodies.build(job.request, externalTaskId);
  } catch (error) {
    if (!(error instanceof KlingrunError)) throw error;
    context.record({ ev: 'failed', job: job.id, attempt, code: error.code, message: error.message, retriable: false });
    return 'failed';
  }

  // The journal has never sent this external id, but a run from another folder or machine may
  // have: the provider, not this folder's state, knows whether it was paid for.
  if (attempt > context.state(job.id).attempt) {
    try {
      const task = await context.finder.precheck(context, externalTaskId);
      if (task) return adopt(context, job, attempt, externalTaskId, task, 'lookup');
    } catch (error) {
      if (!(error instanceof ProviderError)) throw error;
      if (error.errorClass === 'fatal-run') {
        context.stopRun(error);
        return 'stopped';
      }
      if (context.hardSignal.aborted) return 'stopped';
      // No answer about an id nobody has sent from here: submitting is what every earlier version did.
    }
  }

  /** After an answer that may hide a task: find it, or prove it absent, looking from `from` on. */
  const reconcile = (from = context.clock.now()): Promise<Finding> => {
    const state = context.state(job.id);
    return context.finder.reconcile(context, externalTaskId, { sentAt: from, submittedAt: state.submittedAt ?? context.clock.now() });
  };

  const once = async (): Promise<SubmitOutcome> => {
    if (context.softSignal.aborted) throw new Stop(context.state(job.id).phase === 'submitting' ? 'unconfirmed' : 'stopped');
    await context.limiter.take(context.hardSignal);
    context.guard?.assertHeld();
    context.record({ ev: 'submitting', job: job.id, attempt, external_task_id: externalTaskId, request: job.request, path: job.path, cost_usd: job.cost_usd });
    try {
      const task = await context.client.createTask(body, { signal: context.hardSignal });
      context.record({ ev: 'submitted', job: job.id, attempt, task_id: task.task_id, ...(task.created_at !== undefined ? { created_at: task.created_at } : {}) });
      context.route(job).onAccepted();
      return 'submitted';
    } catch (error) {
      if (!(error instanceof ProviderError)) throw error;
      if (error.outcome === 'unknown') {
        const plan = lookPlan(context, context.state(job.id).sentAt ?? context.clock.now(), mayStillArrive(error));
        const finding = await reconcile(plan.from);
        if (finding.kind === 'found') return adopt(context, job, attempt, externalTaskId, finding.task, finding.via);
        if (finding.kind === 'unknown') throw leaveUnconfirmed(context, job, attempt, externalTaskId, finding.reason, error);
        const transitEnds = stillOnItsWay(context, plan);
        if (transitEnds !== undefined) throw leaveUnconfirmed(context, job, attempt, externalTaskId, inTransit(transitEnds), error);
        // Proven absent, and no POST of it can still create a task beside a resend: sending again
        // (same external_task_id) is safe.
        recordAbsent(context, job, attempt, error);
        throw error;
      }
      if (isDuplicateRefusal(error)) {
        context.finder.duplicatesRefused = true;
        const finding = await reconcile();
        if (finding.kind === 'found') return adopt(context, job, attempt, externalTaskId, finding.task, 'duplicate');
        context.record({ ev: 'orphaned', job: job.id, attempt, external_task_id: externalTaskId, message: `The provider says a task with external_task_id ${externalTaskId} already exists, but no lookup shows it yet; not submitting again. A rerun looks for it again.` });
        throw new Stop('orphaned');
      }
      if (error.scope === 'model') {
        context.blockModel(job, attempt, error);
        throw new Stop('blocked');
      }
      context.record({ ev: 'rejected', job: job.id, attempt, code: error.code, message: error.message, retryable: error.retryable });
      if (error.errorClass === 'retryable-concurrency') await waitForSlot(context, job);
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
    // Nothing is sent while a job is pending: Ctrl-C cuts its backoff short.
    return await retrying(context, `submit ${externalTaskId}`, once, () => context.state(job.id).phase !== 'submitting');
  } catch (error) {
    if (error instanceof Stop) return error.outcome;
    if (!(error instanceof ProviderError)) throw error;
    if (context.hardSignal.aborted) return context.state(job.id).phase === 'submitting' ? 'unconfirmed' : 'stopped';
    // Out of retries. After an ambiguous last answer the job stays in `submitting`, so the
    // next run reconciles it instead of risking a second paid task.
    if (context.state(job.id).phase === 'submitting') return 'unconfirmed';
    // Stopped while waiting to try again (Ctrl-C, a run-stopping refusal), or a provider that
    // cannot be reached: nothing was created, the job stays pending for the next run.
    if (context.softSignal.aborted || error.code === 'unreachable') return 'stopped';
    context.record({ ev: 'failed', job: job.id, attempt, code: error.code, message: error.message, retriable: true });
    return 'failed';
  }
}

/**
 * A job found in `submitting` at start (a crash, or a lost answer earlier): adopt its task, send it
 * again with the same id when its absence is proven (and its last POST cannot still be on its way,
 * or the provider refuses duplicates), else leave it unconfirmed — unless the user asked for
 * `--resubmit-unconfirmed`.
 */
export async function resumeSubmitting(context: RunContext, job: RunnableJob, bodies: BodyBuilder): Promise<SubmitOutcome> {
  const state = context.state(job.id);
  const externalTaskId = state.externalTaskId ?? externalIdFor(job.external_task_id, state.attempt);
  const now = context.clock.now();
  // A run killed during its POST knows no more of it than one that timed out.
  const plan = lookPlan(context, state.sentAt ?? state.submittedAt ?? now, state.inTransit !== false);
  const finding = await context.finder.reconcile(context, externalTaskId, { sentAt: plan.from, submittedAt: state.submittedAt ?? now });
  if (finding.kind === 'found') return adopt(context, job, state.attempt, externalTaskId, finding.task, finding.via);
  if (context.softSignal.aborted) return 'unconfirmed';
  const transitEnds = stillOnItsWay(context, plan);
  /** Why it cannot be sent again: none once its absence is proven and its POST can no longer arrive. */
  const why = finding.kind === 'unknown' ? finding.reason : transitEnds !== undefined ? inTransit(transitEnds) : undefined;
  if (why === undefined) {
    recordAbsent(context, job, state.attempt, undefined);
    if (job.fromJournal) return 'absent'; // nothing was paid, and the manifest no longer wants it
  } else if (!context.options.resubmitUnconfirmed || job.fromJournal) {
    return leaveUnconfirmed(context, job, state.attempt, externalTaskId, why).outcome;
  } else {
    context.logger.warn(`${externalTaskId}: sending again although its earlier submit may have created a task (--resubmit-unconfirmed): this may pay twice.`);
  }
  return submitJob(context, job, state.attempt, bodies);
}

/** An orphaned job: a task exists under its id that no lookup has shown. Look again; never send. */
export async function findOrphan(context: RunContext, job: RunnableJob): Promise<SubmitOutcome> {
  const state = context.state(job.id);
  const externalTaskId = state.externalTaskId ?? externalIdFor(job.external_task_id, state.attempt);
  const now = context.clock.now();
  const finding = await context.finder.reconcile(context, externalTaskId, { sentAt: Math.min(now, (state.sentAt ?? now) + context.options.requestTimeoutMs), submittedAt: state.submittedAt ?? now });
  return finding.kind === 'found' ? adopt(context, job, state.attempt, externalTaskId, finding.task, finding.via) : 'orphaned';
}
