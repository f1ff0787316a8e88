// The runner loop: replay the journal, decide each job's next action, and execute actions under
// the limits. Everything it learns goes through `record`, i.e. into the journal first.
import { setMaxListeners } from 'node:events';
import { createReadStream } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import PQueue from 'p-queue';
import type { ProviderClient } from '../api/provider.js';
import type { Clock, Logger, Random } from '../effects.js';
import type { Plan, PlannedJob } from '../plan/schema.js';
import type { JournalEvent } from '../state/events.js';
import { type Action, nextAction } from './actions.js';
import type { EventInput, Gate, Limiter, ResolvedRunOptions, RunContext } from './context.js';
import { type DownloadFs, downloadVideo, nodeDownloadFs } from './download.js';
import { LatencyHints } from './hints.js';
import { type JobState, type Phase, applyEvent, initialState, replay } from './job-state.js';
import { videoPath } from './paths.js';
import { pollTask } from './poll.js';
import { BodyBuilder, type ReadFile } from './request-body.js';
import { resumeSubmitting, submitJob } from './submit.js';

export interface RunInput {
  readonly plan: Plan;
  readonly manifestDir: string;
  readonly outputDir: string;
  readonly journal: { readonly events: readonly JournalEvent[]; append(event: JournalEvent): void };
  readonly client: ProviderClient;
  readonly options: ResolvedRunOptions;
  readonly limiter: Limiter;
  readonly gate: Gate;
  readonly clock: Clock;
  readonly random: Random;
  readonly logger: Logger;
  /** Used for video downloads only (public URLs, no key). */
  readonly fetch?: typeof fetch;
  readonly fs?: DownloadFs;
  readonly readImage?: ReadFile;
  readonly downloadTimeoutMs?: number;
  /** Ctrl-C: stop submitting, finish what is in flight. */
  readonly softSignal?: AbortSignal;
  /** Stop everything now. */
  readonly hardSignal?: AbortSignal;
  /** Restrict submits to these job ids (sharding, `--only`); in-flight work is always finished. */
  readonly selected?: ReadonlySet<string>;
  /** Told about every event after it is in the journal (progress display). */
  readonly onEvent?: (event: JournalEvent, state: JobState, job: PlannedJob | undefined) => void;
}

export interface RunResult {
  readonly states: ReadonlyMap<string, JobState>;
  /** Why submitting stopped early: a provider refusal (auth, balance), a disk error, or an interrupt. */
  readonly stopReason: unknown;
  readonly interrupted: boolean;
}

/** Phases in which a job's price counts against the budget (a task exists, or may). */
const HOLDS_COST: ReadonlySet<Phase> = new Set(['submitting', 'submitted', 'succeeded', 'downloaded', 'timed_out', 'orphaned']);

export async function runBatch(input: RunInput): Promise<RunResult> {
  const { plan, options, clock } = input;
  const jobs = new Map(plan.jobs.map((job) => [job.id, job]));
  const states = replay(input.journal.events);
  const hints = new LatencyHints(plan.jobs, states);
  const stopper = new AbortController();
  const softSignal = AbortSignal.any([stopper.signal, ...(input.softSignal ? [input.softSignal] : [])]);
  const hardSignal = input.hardSignal ?? new AbortController().signal;
  // Every job in flight waits on these (sleeps, limiter, requests): one listener each, by design.
  setMaxListeners(0, hardSignal, softSignal);
  let stopReason: unknown;

  // Committed cost: jobs whose task exists or may exist, plus jobs launched towards a submit
  // (reserved before the launch, so a fast loop cannot overshoot the budget).
  const reserved = new Set<string>();
  const holdsCost = (id: string, phase: Phase): boolean => HOLDS_COST.has(phase) || reserved.has(id);
  let committedUsd = 0;
  for (const [id, state] of states) if (holdsCost(id, state.phase)) committedUsd += jobs.get(id)?.cost_usd ?? 0;

  const context: RunContext = {
    client: input.client,
    clock,
    random: input.random,
    logger: input.logger,
    limiter: input.limiter,
    gate: input.gate,
    options,
    softSignal,
    hardSignal,
    jobs,
    state: (id) => states.get(id) ?? initialState(id),
    record(partial: EventInput): JobState {
      const event = { ...partial, t: clock.now() } as JournalEvent & { job: string };
      input.journal.append(event);
      const before = context.state(event.job);
      const after = applyEvent(before, event as Parameters<typeof applyEvent>[1]);
      states.set(event.job, after);
      const cost = jobs.get(event.job)?.cost_usd ?? 0;
      committedUsd += (holdsCost(event.job, after.phase) ? cost : 0) - (holdsCost(event.job, before.phase) ? cost : 0);
      if (after.phase === 'succeeded' && before.phase !== 'succeeded') hints.observe(jobs.get(event.job), after);
      input.onEvent?.(event, after, jobs.get(event.job));
      return after;
    },
    stopRun(reason) {
      if (stopReason === undefined) stopReason = reason;
      stopper.abort(reason);
    },
  };

  const bodies = new BodyBuilder(input.manifestDir, input.readImage);
  const downloads = new PQueue({ concurrency: options.downloadConcurrency });
  const downloader = {
    fetch: input.fetch ?? globalThis.fetch,
    fs: input.fs ?? nodeDownloadFs,
    outputDir: input.outputDir,
    timeoutMs: input.downloadTimeoutMs ?? 120_000,
  };

  /** One job from its current action to its end in this run. */
  const drive = async (job: PlannedJob, action: Action): Promise<void> => {
    let step = action.kind;
    if (step === 'submit' || step === 'reconcile') {
      const outcome =
        action.kind === 'submit' ? await submitJob(context, job, action.attempt, bodies) : await resumeSubmitting(context, job, bodies);
      if (outcome !== 'submitted') return input.gate.release();
      step = 'poll';
    }
    if (step === 'poll') {
      const outcome = await pollTask(context, job.id, { hintMs: hints.hintFor(job) });
      input.gate.release();
      if (outcome !== 'succeeded') return;
      step = 'download';
    }
    if (step === 'download') {
      await downloads.add(() => downloadVideo(context, downloader, job.id, videoPath(job)));
    }
  };

  const running = new Set<Promise<void>>();
  const launch = (job: PlannedJob, action: Action): void => {
    const promise = drive(job, action).finally(() => {
      running.delete(promise);
      if (reserved.delete(job.id) && !HOLDS_COST.has(context.state(job.id).phase)) committedUsd -= job.cost_usd ?? 0;
    });
    running.add(promise);
  };

  // Work already under way is finished first, whatever the selection: it is paid for.
  const toSubmit: Array<{ job: PlannedJob; action: Action }> = [];
  for (const job of plan.jobs) {
    const state = context.state(job.id);
    const fileIntact = state.phase === 'downloaded' && state.download ? await isIntact(join(input.outputDir, state.download.path), state.download.sha256) : false;
    const action = nextAction(state, { retryFailed: options.retryFailed, fileIntact });
    if (action.kind === 'done') continue;
    if (action.kind === 'submit') {
      if (!input.selected || input.selected.has(job.id)) toSubmit.push({ job, action });
      continue;
    }
    if (action.kind === 'reconcile' || action.kind === 'poll') input.gate.hold();
    launch(job, action);
  }

  for (const { job, action } of toSubmit) {
    if (softSignal.aborted) break;
    try {
      await input.gate.acquire(softSignal);
    } catch {
      break; // interrupted while waiting for a slot
    }
    const cost = job.cost_usd ?? 0;
    if (options.budgetUsd !== undefined && committedUsd + cost > options.budgetUsd + 1e-9) {
      context.record({ ev: 'skipped_budget', job: job.id, cost_usd: job.cost_usd });
      input.gate.release();
      continue;
    }
    if (!holdsCost(job.id, context.state(job.id).phase)) committedUsd += cost;
    reserved.add(job.id);
    launch(job, action);
  }

  while (running.size > 0) await Promise.all(running);
  await downloads.onIdle();
  const interrupted = !!input.softSignal?.aborted || hardSignal.aborted;
  return { states, stopReason, interrupted };
}

/** Whether a downloaded file is still on disk with the sha256 the journal recorded. */
async function isIntact(path: string, sha256: string): Promise<boolean> {
  try {
    const hash = createHash('sha256');
    for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
    return hash.digest('hex') === sha256;
  } catch {
    return false;
  }
}
