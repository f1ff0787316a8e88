// Following one task to a terminal state. Polls ride the shared request limiter; a failed poll is
// only ever retried at the next tick, it never ends a task that we know exists (the video is paid),
// unless the provider keeps saying, over a whole window, that it no longer has it.
import { ProviderError, isModerationMessage } from '../api/errors.js';
import { TASK_STATUSES, type Task } from '../api/schemas.js';
import type { JournalEvent } from '../state/events.js';
import type { RunContext } from './context.js';

/** A task's videos as the journal records them (id, URL, duration; nothing else the provider adds). */
type RecordedVideo = Extract<JournalEvent, { ev: 'succeeded' }>['videos'][number];

export const videosOf = (task: Task): RecordedVideo[] => (task.task_result?.videos ?? []).map((v) => ({ id: v.id, url: v.url, duration: v.duration }));

const KNOWN_STATUSES: ReadonlySet<string> = new Set(TASK_STATUSES);
/** Status words already warned about, per run: a batch of 1,000 tasks says it once, not at every poll. */
const warnedStatuses = new WeakMap<RunContext, Set<string>>();

/** A status the runner does not know is "not finished yet": the task is followed to its end. */
function noteStatus(context: RunContext, status: string): void {
  if (KNOWN_STATUSES.has(status)) return;
  let warned = warnedStatuses.get(context);
  if (!warned) warnedStatuses.set(context, (warned = new Set()));
  if (warned.has(status)) return;
  warned.add(status);
  context.logger.warn(`the provider reports a task status klingrun does not know, \`${status}\`: read as "not finished yet", its tasks are followed until they succeed or fail.`);
}

/** What an ended task says it cost, as the journal records it: nothing where it says nothing. */
function costOf(task: Task): { units?: number; list_price?: number } {
  const listPrice = task.final_balance_deduction?.list_price;
  return { ...(task.final_unit_deduction !== undefined ? { units: task.final_unit_deduction } : {}), ...(listPrice !== undefined ? { list_price: listPrice } : {}) };
}

export type PollOutcome = 'succeeded' | 'failed' | 'timed_out' | 'lost' | 'stopped';

/** Adaptive polling: first look after the latency hint, then 5 s growing to 30 s. */
export const ADAPTIVE = { firstMs: 20_000, minMs: 5_000, maxMs: 30_000, growth: 1.5, jitter: 0.2 } as const;
const FIXED_JITTER = 0.1;

/**
 * How long to wait before poll number `n` (0-based) of a task. Pure but for `random`. The adaptive
 * schedule is in the provider's time, times `scale` (real time per provider time, @default 1); a
 * hint, learnt from this run's tasks, is real time already.
 */
export function pollDelayMs(n: number, options: { fixedMs: number | undefined; hintMs: number | undefined; scale?: number }, random: () => number): number {
  if (options.fixedMs !== undefined) return jitter(options.fixedMs, FIXED_JITTER, random);
  const scale = options.scale ?? 1;
  if (n === 0) return jitter(options.hintMs ?? ADAPTIVE.firstMs * scale, ADAPTIVE.jitter, random);
  return jitter(Math.min(ADAPTIVE.maxMs, ADAPTIVE.minMs * ADAPTIVE.growth ** (n - 1)) * scale, ADAPTIVE.jitter, random);
}

function jitter(ms: number, spread: number, random: () => number): number {
  return Math.max(0, Math.round(ms * (1 - spread + 2 * spread * random())));
}

export async function pollTask(context: RunContext, jobId: string, options: { hintMs?: number | undefined } = {}): Promise<PollOutcome> {
  const { clock } = context;
  const start = context.state(jobId);
  const taskId = start.taskId;
  if (!taskId) throw new Error(`pollTask called for job ${jobId} without a task id`);
  // The deadline counts from when this runner saw the task accepted (its own clock, never the
  // provider's): waiting for an account slot is not the task's time.
  const deadline = (start.acceptedAt ?? start.submittedAt ?? clock.now()) + context.options.taskTimeoutMs;
  let lastStatus = start.taskStatus;
  let task: Task | undefined;
  /** "Not found" answers for a task the provider gave us: a lagging lookup, or a task it no longer has. */
  let notFound: { first: number; count: number } | undefined;

  for (let n = 0; ; n++) {
    const wait = pollDelayMs(n, { fixedMs: context.options.pollIntervalMs, hintMs: options.hintMs, scale: context.options.timeScale }, context.random);
    // A task resumed after a long pause is checked at once rather than after a full wait.
    const resumedLate = n === 0 && start.phase === 'timed_out';
    try {
      await clock.sleep(resumedLate ? 0 : Math.min(wait, Math.max(0, deadline - clock.now())), context.hardSignal);
      await context.limiter.take(context.hardSignal);
      task = await context.client.getTask(taskId, { signal: context.hardSignal });
      notFound = undefined;
    } catch (error) {
      if (context.hardSignal.aborted) return 'stopped';
      if (!(error instanceof ProviderError)) throw error;
      if (error.errorClass === 'fatal-run') {
        // The key no longer works: nothing more can be learnt this run; the journal keeps the task.
        context.stopRun(error);
        return 'stopped';
      }
      if (error.code === 'not_found') {
        notFound = { first: notFound?.first ?? clock.now(), count: (notFound?.count ?? 0) + 1 };
        if (notFound.count >= context.options.absenceLookups && clock.now() - notFound.first >= context.options.absenceWindowMs) {
          const seconds = Math.round((clock.now() - notFound.first) / 1000);
          context.record({
            ev: 'lost',
            job: jobId,
            attempt: start.attempt || 1,
            task_id: taskId,
            message: `The provider no longer knows task ${taskId} (it answered "not found" ${notFound.count} times over ${seconds} s): it was purged, or the provider lost it. \`--retry-failed\` submits the job again as a new attempt.`,
          });
          return 'lost';
        }
      }
      context.logger.debug(`poll ${taskId}: ${error.message}`);
      task = undefined;
    }
    if (task) {
      if (task.task_status !== lastStatus) {
        lastStatus = task.task_status;
        noteStatus(context, task.task_status);
        context.record({ ev: 'status', job: jobId, task_id: taskId, task_status: task.task_status });
      }
      if (task.task_status === 'succeed') {
        const videos = videosOf(task);
        if (videos.length > 0) {
          context.record({ ev: 'succeeded', job: jobId, task_id: taskId, videos, finished_at: task.updated_at, ...costOf(task) });
          return 'succeeded';
        }
        context.logger.warn(`task ${taskId} succeeded without a video URL; asking again`);
      }
      if (task.task_status === 'failed') {
        const message = task.task_status_msg || 'the provider reported the task as failed without a reason';
        context.record({ ev: 'failed', job: jobId, attempt: start.attempt || 1, code: isModerationMessage(message) ? 'moderation' : 'task_failed', message, retriable: true, ...costOf(task) });
        return 'failed';
      }
    }
    if (clock.now() >= deadline) {
      context.record({ ev: 'timed_out', job: jobId, attempt: start.attempt || 1, task_id: taskId });
      return 'timed_out';
    }
  }
}
