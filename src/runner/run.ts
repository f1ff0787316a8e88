// The runner loop: take the replayed journal, decide each job's next action, and execute actions
// under the limits. Everything it learns goes through `record`, i.e. into the journal first.
import { setMaxListeners } from 'node:events';
import PQueue from 'p-queue';
import type { ProviderClient } from '../api/provider.js';
import type { Clock, Logger, Random } from '../effects.js';
import { externalTaskId } from '../plan/ids.js';
import type { Plan } from '../plan/schema.js';
import type { JournalEvent } from '../state/events.js';
import { type Action, nextAction } from './actions.js';
import { type ClipCheck, checkDownloads } from './clip-check.js';
import type { EventInput, FolderGuard, Gate, Limiter, ResolvedRunOptions, RunContext, RunnableJob } from './context.js';
import { type DownloadFs, downloadVideo, nodeDownloadFs } from './download.js';
import { ProviderHealth, monitored } from './health.js';
import { LatencyHints } from './hints.js';
import { type JobState, applyEvent, initialState } from './job-state.js';
import { videoPath } from './paths.js';
import { pollTask } from './poll.js';
import { type KnownTask, type PathState, TaskFinder } from './reconcile.js';
import { BodyBuilder, type ReadFile } from './request-body.js';
import { holdsTask, tasksOf } from './spend.js';
import { findOrphan, resumeSubmitting, submitJob } from './submit.js';

/** What a run is waiting on at one moment (RunInput.watch), for a progress display to say. */
export interface WaitSnapshot {
  /** Tasks holding an account slot: being submitted, or at the provider and not finished. */
  readonly slotsHeld: number;
  /** Slots new submits may use now: the concurrency, lowered after 1303 answers until submits are accepted again. */
  readonly slotsUsable: number;
  /** Submits waiting for a slot. */
  readonly waitingForSlot: number;
  /** Requests (submits, polls, lookups) waiting for the request limiter (rpm). */
  readonly waitingForRate: number;
  /** Videos downloading, or waiting for a download slot. */
  readonly downloads: number;
}

export interface RunInput {
  readonly plan: Plan;
  readonly manifestDir: string;
  readonly outputDir: string;
  /** The journal replayed (job states by id) and its writer. */
  readonly states: ReadonlyMap<string, JobState>;
  readonly journal: { append(event: JournalEvent): void };
  readonly client: ProviderClient;
  readonly options: ResolvedRunOptions;
  readonly limiter: Limiter;
  readonly gate: Gate;
  readonly clock: Clock;
  readonly random: Random;
  readonly logger: Logger;
  /** Asked before every paid step: does this process still own the output folder? */
  readonly guard?: FolderGuard;
  /** What is already known of the provider (e.g. by `klingrun doctor`): a path known unavailable is not tried. */
  readonly provider?: { readonly lookup?: PathState; readonly list?: PathState };
  /** Used for video downloads only (public URLs, no key). */
  readonly fetch?: typeof fetch;
  readonly fs?: DownloadFs;
  readonly readImage?: ReadFile;
  /** How long a download may receive nothing; overrides options.downloadIdleTimeoutMs (tests). */
  readonly downloadTimeoutMs?: number;
  /** Ctrl-C: stop submitting, finish what is in flight. */
  readonly softSignal?: AbortSignal;
  /** Stop everything now. */
  readonly hardSignal?: AbortSignal;
  /** Restrict submits to these job ids (sharding, `--only`); in-flight work is always finished. */
  readonly selected?: ReadonlySet<string>;
  /** Told about every event after it is in the journal (progress display). */
  readonly onEvent?: (event: JournalEvent, state: JobState, job: RunnableJob | undefined) => void;
  /** Given once, as the run starts, a reading of what it is waiting on (progress display). */
  readonly watch?: (snapshot: () => WaitSnapshot) => void;
}

export interface RunResult {
  readonly states: ReadonlyMap<string, JobState>;
  /** Why the run stopped early: a provider refusal (auth, balance), an unreachable provider, a disk error, a lost lock. */
  readonly stopReason: unknown;
  readonly interrupted: boolean;
  /** Jobs only the journal knows (an earlier version of the manifest), finished by this run. */
  readonly fromJournal: readonly RunnableJob[];
  /** What the resume found of downloaded clips on disk, by job id. */
  readonly clips: ReadonlyMap<string, ClipCheck>;
}

/** Phases in which a job's earlier work must be finished whatever the manifest says now. */
const UNFINISHED: ReadonlySet<string> = new Set(['submitting', 'submitted', 'timed_out', 'succeeded', 'downloaded', 'orphaned']);

/** A job the journal holds from an earlier version of the manifest: finished from what its `submitting` recorded. */
function journalJob(state: JobState): RunnableJob | undefined {
  if (!state.request || !UNFINISHED.has(state.phase)) return undefined;
  const path = state.download?.path ?? state.path ?? `videos/earlier-manifest/${state.job.slice(0, 12)}.mp4`;
  return { id: state.job, external_task_id: externalTaskId(state.job), request: state.request, cost_usd: state.estimateUsd ?? null, path, fromJournal: true };
}

export async function runJobs(input: RunInput): Promise<RunResult> {
  const { plan, options, clock } = input;
  const states = new Map(input.states);
  const jobs = new Map<string, RunnableJob>();
  for (const job of plan.jobs) {
    // A job already sent keeps the video path it was sent with: a rerun finds its file where it was.
    const path = states.get(job.id)?.download?.path ?? states.get(job.id)?.path ?? videoPath(job);
    jobs.set(job.id, { id: job.id, external_task_id: job.external_task_id, request: job.request, cost_usd: job.cost_usd, path, fromJournal: false });
  }
  const fromJournal: RunnableJob[] = [];
  for (const state of states.values()) {
    const job = jobs.has(state.job) ? undefined : journalJob(state);
    if (job) {
      jobs.set(job.id, job);
      fromJournal.push(job);
    }
  }

  const hints = new LatencyHints([...jobs.values()], states);
  const stopper = new AbortController();
  const hardStopper = new AbortController();
  const hardSignal = AbortSignal.any([hardStopper.signal, ...(input.hardSignal ? [input.hardSignal] : [])]);
  // Stopping everything stops submitting too: one signal to wait on for "stop submitting".
  const softSignal = AbortSignal.any([stopper.signal, hardSignal, ...(input.softSignal ? [input.softSignal] : [])]);
  // Every job in flight waits on these (sleeps, limiter, requests): one listener each, by design.
  setMaxListeners(0, hardSignal, softSignal);
  let stopReason: unknown;

  // Committed cost: every task that exists or may exist (failed ones included: the provider may
  // bill them), whatever manifest version sent it, plus each submit launched whose task the
  // journal does not show yet (reserved before the launch, so a fast loop cannot overshoot).
  const reserved = new Map<string, number>(); // job id → the attempt being submitted
  const priceOf = (id: string): number => jobs.get(id)?.cost_usd ?? states.get(id)?.estimateUsd ?? 0;
  const costOf = (id: string): number => {
    const state = states.get(id);
    const { certain, possible } = tasksOf(state);
    const attempt = reserved.get(id);
    const reservation = attempt !== undefined && !(state && state.attempt === attempt && holdsTask(state)) ? 1 : 0;
    return priceOf(id) * (certain + possible + reservation);
  };
  let committedUsd = 0;
  for (const id of states.keys()) committedUsd += costOf(id);
  /** Applies a change that may alter what one job commits, keeping the total in step. */
  const account = (id: string, change: () => void): void => {
    committedUsd -= costOf(id);
    change();
    committedUsd += costOf(id);
  };

  const known = function* (): Generator<KnownTask> {
    for (const state of states.values()) {
      if (state.taskId && state.externalTaskId && state.acceptedAt !== undefined) yield { externalTaskId: state.externalTaskId, taskId: state.taskId, acceptedAt: state.acceptedAt };
    }
  };
  const health = new ProviderHealth(clock, (error) => context.abortRun(error));
  const lost = input.guard?.lost;
  lost?.addEventListener('abort', () => context.abortRun(lost.reason), { once: true });

  const context: RunContext = {
    client: monitored(input.client, health),
    clock,
    random: input.random,
    logger: input.logger,
    limiter: input.limiter,
    gate: input.gate,
    finder: new TaskFinder(known, input.provider),
    guard: input.guard,
    options,
    softSignal,
    hardSignal,
    jobs,
    state: (id) => states.get(id) ?? initialState(id),
    record(partial: EventInput): JobState {
      const event = { ...partial, t: clock.now() } as JournalEvent & { job: string };
      input.journal.append(event);
      const before = states.get(event.job);
      const after = applyEvent(before ?? initialState(event.job), event as Parameters<typeof applyEvent>[1]);
      account(event.job, () => states.set(event.job, after));
      if (after.phase === 'succeeded' && before?.phase !== 'succeeded') hints.observe(jobs.get(event.job), after);
      input.onEvent?.(event, after, jobs.get(event.job));
      return after;
    },
    stopRun(reason) {
      if (stopReason === undefined) stopReason = reason;
      stopper.abort(reason);
    },
    abortRun(reason) {
      context.stopRun(reason);
      hardStopper.abort(reason);
    },
  };

  const bodies = new BodyBuilder(input.manifestDir, input.readImage);
  const downloads = new PQueue({ concurrency: options.downloadConcurrency });
  input.watch?.(() => ({
    slotsHeld: input.gate.inFlight ?? 0,
    slotsUsable: input.gate.effectiveLimit ?? options.concurrency,
    waitingForSlot: input.gate.waiting ?? 0,
    waitingForRate: input.limiter.waiting ?? 0,
    downloads: downloads.size + downloads.pending,
  }));
  // Videos waiting for a download slot each hold their job's pending work: past this many, no new
  // task is paid for until they drain, so downloads that fall behind (a slow link, a busy disk)
  // cannot pile up by the tens of thousands in a 100,000-job run.
  const downloadBacklog = Math.max(options.concurrency, options.downloadConcurrency);
  const downloader = {
    fetch: input.fetch ?? globalThis.fetch,
    fs: input.fs ?? nodeDownloadFs,
    outputDir: input.outputDir,
    idleTimeoutMs: input.downloadTimeoutMs ?? options.downloadIdleTimeoutMs,
    maxBytes: options.maxVideoBytes,
  };

  /** One job from its current action to its end in this run. */
  const drive = async (job: RunnableJob, action: Action): Promise<void> => {
    let step = action.kind;
    if (step === 'submit' || step === 'reconcile' || step === 'find') {
      const outcome =
        action.kind === 'submit'
          ? await submitJob(context, job, action.attempt, bodies)
          : action.kind === 'find'
            ? await findOrphan(context, job)
            : await resumeSubmitting(context, job, bodies);
      if (action.kind !== 'find' && outcome !== 'submitted') return input.gate.release();
      if (outcome !== 'submitted') return;
      if (action.kind === 'find') input.gate.hold();
      step = 'poll';
    }
    if (step === 'poll') {
      const outcome = await pollTask(context, job.id, { hintMs: hints.hintFor(job) });
      input.gate.release();
      if (outcome !== 'succeeded') return;
      step = 'download';
    }
    if (step === 'download') {
      await downloads.add(() => downloadVideo(context, downloader, job.id, job.path));
    }
  };

  const running = new Set<Promise<void>>();
  const launch = (job: RunnableJob, action: Action): void => {
    const promise = drive(job, action)
      .catch((error: unknown) => context.abortRun(error)) // a bug or a lost folder: stop, the journal is consistent
      .finally(() => {
        running.delete(promise);
        // The reservation ends: what the job holds now is counted by its state alone.
        account(job.id, () => reserved.delete(job.id));
      });
    running.add(promise);
  };

  const downloaded = [...states].flatMap(([id, state]) => (jobs.has(id) && state.phase === 'downloaded' && state.download ? [[id, state.download] as const] : []));
  const clips = await checkDownloads(input.outputDir, downloaded);

  const actionOf = (job: RunnableJob): Action => nextAction(context.state(job.id), { retryFailed: options.retryFailed, fileIntact: clips.get(job.id) === 'intact' });
  // Work already under way is finished first, whatever the selection: it is paid for.
  const resumed = new Set<string>();
  for (const job of jobs.values()) {
    const action = actionOf(job);
    if (action.kind === 'done' || action.kind === 'submit') continue;
    resumed.add(job.id);
    if (action.kind === 'reconcile' || action.kind === 'poll') input.gate.hold();
    // A job resumed in `submitting` may be sent again once its task is proven absent: it keeps
    // its reservation across that gap, or another job could take its place in the budget.
    if (action.kind === 'reconcile') account(job.id, () => reserved.set(job.id, context.state(job.id).attempt));
    launch(job, action);
  }

  // Then new submits, in plan order. Each job's action is decided as its turn comes rather than
  // listed up front (100,000 of them): a job resumed above is never one of them, whatever its
  // state is by then.
  for (const job of jobs.values()) {
    if (job.fromJournal || resumed.has(job.id) || (input.selected && !input.selected.has(job.id))) continue;
    const action = actionOf(job);
    if (action.kind !== 'submit') continue;
    if (softSignal.aborted) break;
    if (downloads.size >= downloadBacklog) await downloads.onSizeLessThan(downloadBacklog);
    try {
      await input.gate.acquire(softSignal);
    } catch {
      break; // interrupted while waiting for a slot
    }
    const cost = job.cost_usd ?? 0;
    if (options.budgetUsd !== undefined && committedUsd + cost > options.budgetUsd + 1e-9) {
      context.record({ ev: 'skipped_budget', job: job.id, cost_usd: job.cost_usd, attempt: action.attempt });
      input.gate.release();
      continue;
    }
    account(job.id, () => reserved.set(job.id, action.attempt));
    launch(job, action);
  }

  while (running.size > 0) await Promise.all(running);
  await downloads.onIdle();
  const interrupted = !!input.softSignal?.aborted || !!input.hardSignal?.aborted;
  return { states, stopReason, interrupted, fromJournal, clips };
}
