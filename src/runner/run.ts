// The runner loop: take the replayed journal, decide each job's next action, and execute actions
// under the limits. Everything it learns goes through `record`, i.e. into the journal first.
import { setMaxListeners } from 'node:events';
import PQueue from 'p-queue';
import type { ProviderError } from '../api/errors.js';
import type { ProviderClient } from '../api/provider.js';
import { API_DEFAULTS } from '../api/schemas.js';
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
import { ModelGates } from './limits.js';
import { modelConcurrency } from './options.js';
import { type JobState, applyEvent, initialState } from './job-state.js';
import { videoPath } from './paths.js';
import { pollTask } from './poll.js';
import { type KnownTask, type PathState, TaskFinder } from './reconcile.js';
import { BodyBuilder, type ReadFile } from './request-body.js';
import { holdsTask, jobCommitsUsd } from './spend.js';
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
  /** Models the provider refused (e.g. 1103, no access), with the first refusal: their jobs were not sent. */
  readonly blockedModels: ReadonlyMap<string, ProviderError>;
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
  const { options } = input;
  const states = new Map(input.states);
  const { jobs, fromJournal } = runnableJobs(input.plan, states);
  const hints = new LatencyHints([...jobs.values()], states);
  const book = new CostBook(jobs, states);
  const run = runContext(input, jobs, states, book, hints);
  const { context } = run;

  const { launch, downloads, settled } = jobDriver(input, context, hints, book);
  input.watch?.(() => ({ ...run.slots(), waitingForRate: input.limiter.waiting ?? 0, downloads: downloads.size + downloads.pending }));

  const downloaded = [...states].flatMap(([id, state]) => (jobs.has(id) && state.phase === 'downloaded' && state.download ? [[id, state.download] as const] : []));
  const clips = await checkDownloads(input.outputDir, downloaded);
  const actionOf = (job: RunnableJob): Action => nextAction(context.state(job.id), { retryFailed: options.retryFailed, fileIntact: clips.get(job.id) === 'intact' });

  const resumed = resumeUnderway(context, book, actionOf, launch);
  // Videos waiting for a download slot each hold their job's pending work: past this many, no new
  // task is paid for until they drain, so downloads that fall behind (a slow link, a busy disk)
  // cannot pile up by the tens of thousands in a 100,000-job run.
  const backlog = Math.max(options.concurrency, options.downloadConcurrency);
  const lane: Lane = {
    context,
    book,
    actionOf,
    launch,
    isBlocked: run.isBlocked,
    downloadsDrained: () => (downloads.size >= backlog ? downloads.onSizeLessThan(backlog) : undefined),
  };
  const wanted = [...jobs.values()].filter((job) => !job.fromJournal && !resumed.has(job.id) && (!input.selected || input.selected.has(job.id)));
  await Promise.all([...byModel(wanted)].map(([model, members]) => submitLane(lane, model, members)));

  await settled();
  const interrupted = !!input.softSignal?.aborted || !!input.hardSignal?.aborted;
  return { states, stopReason: run.stopReason(), interrupted, fromJournal, clips, blockedModels: run.blockedModels };
}

/** Runs each launched job from its action to its end in this run, and waits for them all. */
function jobDriver(input: RunInput, context: RunContext, hints: LatencyHints, book: CostBook) {
  const bodies = new BodyBuilder(input.manifestDir, input.readImage);
  const downloads = new PQueue({ concurrency: input.options.downloadConcurrency });
  const downloader = {
    fetch: input.fetch ?? globalThis.fetch,
    fs: input.fs ?? nodeDownloadFs,
    outputDir: input.outputDir,
    idleTimeoutMs: input.downloadTimeoutMs ?? input.options.downloadIdleTimeoutMs,
    maxBytes: input.options.maxVideoBytes,
  };

  /** One job from its current action to its end in this run. */
  const drive = async (job: RunnableJob, action: Action): Promise<void> => {
    const route = context.route(job);
    let step = action.kind;
    if (step === 'submit' || step === 'reconcile' || step === 'find') {
      const outcome =
        action.kind === 'submit'
          ? await submitJob(context, job, action.attempt, bodies)
          : action.kind === 'find'
            ? await findOrphan(context, job)
            : await resumeSubmitting(context, job, bodies);
      if (action.kind !== 'find' && outcome !== 'submitted') return route.release();
      if (outcome !== 'submitted') return;
      if (action.kind === 'find') route.hold();
      step = 'poll';
    }
    if (step === 'poll') {
      const outcome = await pollTask(context, job.id, { hintMs: hints.hintFor(job) });
      route.release();
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
        book.account(job.id, () => book.reserved.delete(job.id));
      });
    running.add(promise);
  };
  const settled = async (): Promise<void> => {
    while (running.size > 0) await Promise.all(running);
    await downloads.onIdle();
  };
  return { launch, downloads, settled };
}

/** The planned jobs, and those only the journal holds (finished whatever the manifest says now). */
function runnableJobs(plan: Plan, states: ReadonlyMap<string, JobState>): { jobs: Map<string, RunnableJob>; fromJournal: RunnableJob[] } {
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
  return { jobs, fromJournal };
}

/**
 * Committed cost: every task that exists or may exist (failed ones included: the provider may
 * bill them), whatever manifest version sent it, plus each submit launched whose task the journal
 * does not show yet (reserved before the launch, so a fast loop cannot overshoot).
 */
class CostBook {
  /** Job id → the attempt being submitted. */
  readonly reserved = new Map<string, number>();
  #committedUsd = 0;
  readonly #jobs: ReadonlyMap<string, RunnableJob>;
  readonly #states: ReadonlyMap<string, JobState>;

  constructor(jobs: ReadonlyMap<string, RunnableJob>, states: ReadonlyMap<string, JobState>) {
    this.#jobs = jobs;
    this.#states = states;
    for (const id of states.keys()) this.#committedUsd += this.#costOf(id);
  }

  get committedUsd(): number {
    return this.#committedUsd;
  }

  /** Applies a change that may alter what one job commits, keeping the total in step. */
  account(id: string, change: () => void): void {
    this.#committedUsd -= this.#costOf(id);
    change();
    this.#committedUsd += this.#costOf(id);
  }

  #costOf(id: string): number {
    const state = this.#states.get(id);
    const attempt = this.reserved.get(id);
    const reservation = attempt !== undefined && !(state && state.attempt === attempt && holdsTask(state)) ? 1 : 0;
    return jobCommitsUsd(state, this.#jobs.get(id)?.cost_usd, reservation);
  }
}

/** The model whose count a job's task is in. */
const modelOf = (job: RunnableJob): string => job.request.model_name ?? API_DEFAULTS.model_name;

/** The run's shared context, and what the run reads back from it at the end. */
function runContext(input: RunInput, jobs: ReadonlyMap<string, RunnableJob>, states: Map<string, JobState>, book: CostBook, hints: LatencyHints) {
  const { clock, options } = input;
  const { stopper, hardStopper, softSignal, hardSignal } = runSignals(input);
  let stopReason: unknown;
  const blockedModels = new Map<string, ProviderError>();
  const gates = new ModelGates(input.gate, (model) => modelConcurrency(options, model));

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
    route: (job) => gates.route(modelOf(job)),
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
      book.account(event.job, () => states.set(event.job, after));
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
    blockModel(job, attempt, reason) {
      const model = modelOf(job);
      if (!blockedModels.has(model)) blockedModels.set(model, reason);
      recordBlocked(context, job, attempt, model, reason);
    },
  };
  const slots = (): SlotReading => slotReading(input.gate, gates, options.concurrency);
  return { context, slots, stopReason: () => stopReason, blockedModels, isBlocked: (job: RunnableJob) => blockedModels.get(modelOf(job)) };
}

type SlotReading = Omit<WaitSnapshot, 'waitingForRate' | 'downloads'>;

/** Slots held of the total; usable: the total, or what the models' own limits add up to if less. */
function slotReading(account: Gate, gates: ModelGates, concurrency: number): SlotReading {
  const models = [...gates.models.values()];
  const usable = models.reduce((sum, gate) => sum + gate.effectiveLimit, 0);
  return {
    slotsHeld: account.inFlight ?? 0,
    slotsUsable: Math.min(account.effectiveLimit ?? concurrency, models.length > 0 ? usable : concurrency),
    waitingForSlot: (account.waiting ?? 0) + models.reduce((sum, gate) => sum + gate.waiting, 0),
  };
}

/** "Stop submitting" (soft) and "stop everything" (hard): the run's own, joined with the caller's. */
function runSignals(input: Pick<RunInput, 'softSignal' | 'hardSignal'>) {
  const stopper = new AbortController();
  const hardStopper = new AbortController();
  const hardSignal = AbortSignal.any([hardStopper.signal, ...(input.hardSignal ? [input.hardSignal] : [])]);
  // Stopping everything stops submitting too: one signal to wait on for "stop submitting".
  const softSignal = AbortSignal.any([stopper.signal, hardSignal, ...(input.softSignal ? [input.softSignal] : [])]);
  // Every job in flight waits on these (sleeps, limiter, requests): one listener each, by design.
  setMaxListeners(0, hardSignal, softSignal);
  return { stopper, hardStopper, softSignal, hardSignal };
}

/** A job of a model the provider refused: not sent, pending with the reason, so a rerun tries it again. */
function recordBlocked(context: RunContext, job: RunnableJob, attempt: number, model: string, reason: ProviderError): void {
  const fix = reason.fix ? ` To fix it, ${reason.fix}.` : '';
  const message = `Not submitted: the provider refused model ${model} (${String(reason.code)}): ${reason.message}.${fix} The batch's other models went on; a rerun tries this model again.`;
  context.record({ ev: 'rejected', job: job.id, attempt, code: reason.code, message, retryable: true });
}

/** Work already under way is finished first, whatever the selection: it is paid for. Returns the ids launched. */
function resumeUnderway(context: RunContext, book: CostBook, actionOf: (job: RunnableJob) => Action, launch: (job: RunnableJob, action: Action) => void): Set<string> {
  const resumed = new Set<string>();
  for (const job of context.jobs.values()) {
    const action = actionOf(job);
    if (action.kind === 'done' || action.kind === 'submit') continue;
    resumed.add(job.id);
    if (action.kind === 'reconcile' || action.kind === 'poll') context.route(job).hold();
    // A job resumed in `submitting` may be sent again once its task is proven absent: it keeps
    // its reservation across that gap, or another job could take its place in the budget.
    if (action.kind === 'reconcile') book.account(job.id, () => book.reserved.set(job.id, context.state(job.id).attempt));
    launch(job, action);
  }
  return resumed;
}

/** Jobs grouped by model, each group in plan order. */
function byModel(jobs: readonly RunnableJob[]): Map<string, RunnableJob[]> {
  const groups = new Map<string, RunnableJob[]>();
  for (const job of jobs) {
    const model = modelOf(job);
    const group = groups.get(model);
    if (group) group.push(job);
    else groups.set(model, [job]);
  }
  return groups;
}

/** What a submit lane shares with the run. */
interface Lane {
  readonly context: RunContext;
  readonly book: CostBook;
  readonly actionOf: (job: RunnableJob) => Action;
  readonly launch: (job: RunnableJob, action: Action) => void;
  readonly isBlocked: (job: RunnableJob) => ProviderError | undefined;
  /** Resolves once the download backlog has room (undefined: it has room now). */
  readonly downloadsDrained: () => Promise<void> | undefined;
}

/**
 * New submits of one model, in plan order; each model has its own lane, so a model that is full
 * (or refused) never holds up the others. Each job's action is decided as its turn comes rather
 * than listed up front (100,000 of them): a job resumed earlier is never one of them.
 */
/** True when the job's model was refused: the job is recorded as not submitted. */
function leftBlocked(lane: Lane, job: RunnableJob, attempt: number, model: string): boolean {
  const refusal = lane.isBlocked(job);
  if (refusal) recordBlocked(lane.context, job, attempt, model, refusal);
  return refusal !== undefined;
}

async function submitLane(lane: Lane, model: string, jobs: readonly RunnableJob[]): Promise<void> {
  const { context, book } = lane;
  const { options, softSignal } = context;
  for (const job of jobs) {
    const action = lane.actionOf(job);
    if (action.kind !== 'submit') continue;
    if (softSignal.aborted) break;
    await lane.downloadsDrained();
    if (leftBlocked(lane, job, action.attempt, model)) continue;
    const route = context.route(job);
    try {
      await route.acquire(softSignal);
    } catch {
      break; // interrupted while waiting for a slot
    }
    // Stopped as the slot came (a gate may grant one without looking at the signal).
    if (softSignal.aborted) {
      route.release();
      break;
    }
    // Its model may have been refused while it waited for the slot.
    if (leftBlocked(lane, job, action.attempt, model)) {
      route.release();
      continue;
    }
    const cost = job.cost_usd ?? 0;
    if (options.budgetUsd !== undefined && book.committedUsd + cost > options.budgetUsd + 1e-9) {
      context.record({ ev: 'skipped_budget', job: job.id, cost_usd: job.cost_usd, attempt: action.attempt });
      route.release();
      continue;
    }
    book.account(job.id, () => book.reserved.set(job.id, action.attempt));
    lane.launch(job, action);
  }
}
