// A whole batch, as `klingrun run` and library users run it: plan the manifest, lock its output
// folder, replay the journal, run what is left against a provider, and write report.json and the
// gallery. What to show, and whether to go ahead, is the caller's (the `beforeRun` hook).
import { join, relative, resolve } from 'node:path';
import { createClient } from './api/client.js';
import { DEFAULT_PRICES_FILE, shippedName, unitPriceOf } from './data/tables.js';
import { type Clock, type Logger, type Random, silentLogger, systemClock } from './effects.js';
import { InputError } from './errors.js';
import { type LoadedPlan, describeUnpriced, loadPlan } from './plan/index.js';
import { planSha256 } from './plan/json.js';
import type { Plan, PlannedJob } from './plan/schema.js';
import { type StreamedReport, streamReport } from './report/build.js';
import { writeGallery } from './report/gallery.js';
import type { Reproduce } from './report/schema.js';
import { writeReportJson } from './report/stream.js';
import { nextAction } from './runner/actions.js';
import { checkDownloads } from './runner/clip-check.js';
import type { ResolvedRunOptions } from './runner/context.js';
import { type JobState, JournalState } from './runner/job-state.js';
import { ConcurrencyGate, RequestLimiter } from './runner/limits.js';
import { type RunOptionsInput, resolveRunOptions } from './runner/options.js';
import { type RunInput, type RunResult, runJobs } from './runner/run.js';
import { type HeldCheck, checkHeld } from './runner/provider-holds.js';
import { type Selection, type Shard, selectJobs, shardJobs } from './runner/select.js';
import type { SampleSpec } from './plan/sample.js';
import { openJournal } from './state/journal.js';
import { acquireLock } from './state/lock.js';
import { JOURNAL_FILE, createOutputFolder, defaultOutputDir } from './state/output-folder.js';
import { VERSION } from './version.js';

export interface BatchOptions {
  /** The manifest's path (relative to `cwd`), or a plan already loaded with `loadPlan`. */
  readonly manifest: string | LoadedPlan;
  /** @default process.cwd() */
  readonly cwd?: string;
  /** @default output/<name>/ of the manifest's project (state/output-folder.ts) */
  readonly outputDir?: string;
  readonly apiKey: string;
  /** @default https://api.cometapi.com */
  readonly baseUrl?: string;
  /** Limits under the manifest's `limits:` (e.g. an emulator's fast polling). */
  readonly defaults?: RunOptionsInput;
  /** Limits over the manifest's `limits:` (command-line flags). */
  readonly limits?: RunOptionsInput;
  /** Real time per unit of the provider's time: below 1 for a test double whose clock runs fast (runner/options.ts). @default 1 */
  readonly timeScale?: number;
  /** Start a new attempt for jobs that failed for a retryable reason. */
  readonly retryFailed?: boolean;
  /** Send again jobs whose earlier submit may have created a task (this may pay twice). */
  readonly resubmitUnconfirmed?: boolean;
  /** `failed`, `timed_out`, or the start of a job id or external_task_id. */
  readonly only?: string;
  readonly shard?: Shard;
  /** `--sample N`: a pilot of N jobs spread over every variant, after the shard and `only`, with the full run's ids. */
  readonly sample?: SampleSpec;
  /**
   * Before `beforeRun`, look up at most this many jobs to submit that the journal does not know
   * (free lookups by external_task_id), so the caller can say the provider already holds their
   * tasks (`WorkLeft.held`). @default 0
   */
  readonly checkHeld?: number;
  /** Take the folder even from a runner that seems alive (`--break-lock`). */
  readonly breakLock?: boolean;
  /**
   * Called with the lock's release once the folder is held: register it where an abrupt exit
   * still runs it (a process 'exit' handler); returns the unregistering function.
   */
  readonly holdOnExit?: (release: () => void) => () => void;
  /** Model and price table files, read when `manifest` is a path; the price file is named in budget messages. */
  readonly modelsFile?: string;
  readonly pricesFile?: string;
  /** `--unit-price`: USD per unit of a task's `final_unit_deduction`. @default the price file's `usd_per_unit`, else $0.14 */
  readonly unitPrice?: number | undefined;
  /** Ctrl-C: no new submits; what is in flight is finished. */
  readonly signal?: AbortSignal;
  /** @default silent */
  readonly logger?: Logger;
  /** @default the system clock, Math.random */
  readonly clock?: Clock;
  readonly random?: Random;
  /** How videos are downloaded (the API client uses its own). @default globalThis.fetch */
  readonly fetch?: typeof fetch;
  /** What is already known of the provider (`klingrun doctor`). */
  readonly provider?: RunInput['provider'];
  /** The command line, for the report's reproduce block. */
  readonly command?: readonly string[];
  /** Called once the work left is known, before anything is sent: show it, ask (throw to stop). */
  readonly beforeRun?: (work: WorkLeft) => Promise<void> | void;
  /** Told about every journal event (progress). */
  readonly onEvent?: RunInput['onEvent'];
  /** Given, as the run starts, a reading of what it is waiting on (progress). */
  readonly watch?: RunInput['watch'];
}

export interface WorkLeft {
  readonly loaded: LoadedPlan;
  /** The plan this run covers (a shard is a smaller batch). */
  readonly plan: Plan;
  readonly options: ResolvedRunOptions;
  readonly outputDir: string;
  readonly states: ReadonlyMap<string, JobState>;
  /** Planned jobs with something left to do (submit, find, poll, download). */
  readonly todo: readonly PlannedJob[];
  /** Of those, the ones that will be submitted (and may be paid for). */
  readonly toSubmit: readonly PlannedJob[];
  /** Jobs from an earlier version of the manifest that the journal shows under way: finished too. */
  readonly earlier: number;
  /** Jobs left unconfirmed by earlier runs (their task may exist; never resent without `resubmitUnconfirmed`). */
  readonly unconfirmed: number;
  /** The folder has no record of any earlier submit (a new folder, or a deleted one). */
  readonly freshFolder: boolean;
  /** The jobs `only` and `sample` let this run submit; undefined: every job of the plan. */
  readonly selected: ReadonlySet<string> | undefined;
  /** With `sample`: the jobs it picked from (after the shard and `only`), and those it picked, in plan order. */
  readonly sample?: Selection<PlannedJob>['sample'];
  /** With `checkHeld`: of the jobs looked up, how many the provider already holds tasks for. */
  readonly held?: HeldCheck;
}

export interface BatchResult extends WorkLeft {
  /** What report.json says: its summary, and its jobs made again each time they are read (never all held). */
  readonly report: StreamedReport;
  readonly run: RunResult;
  /** The planned jobs this run was asked for (its shard or `only` selection). */
  readonly wanted: readonly PlannedJob[];
}

/** Phases that are still under way at the provider, and are finished whatever the manifest now says. */
const UNDER_WAY: ReadonlySet<string> = new Set(['submitting', 'submitted', 'timed_out', 'succeeded', 'orphaned']);

function workLeft(
  loaded: LoadedPlan,
  plan: Plan,
  options: ResolvedRunOptions,
  outputDir: string,
  states: ReadonlyMap<string, JobState>,
  { only, sample }: Pick<BatchOptions, 'only' | 'sample'>,
): WorkLeft {
  const { selected, sample: picked } = selectJobs(plan.jobs, states, { only, sample });
  const todo: PlannedJob[] = [];
  const toSubmit: PlannedJob[] = [];
  for (const job of plan.jobs) {
    const state = states.get(job.id);
    // Clips are checked when the run starts; here a recorded download counts as done.
    const action = state ? nextAction(state, { retryFailed: options.retryFailed, fileIntact: true }) : { kind: 'submit' as const };
    if (action.kind === 'done') continue;
    if (action.kind === 'submit' && selected && !selected.has(job.id)) continue;
    todo.push(job);
    if (action.kind === 'submit') toSubmit.push(job);
  }
  const planned = new Set(loaded.plan.jobs.map((job) => job.id));
  let earlier = 0;
  let unconfirmed = 0;
  for (const [id, state] of states) {
    if (!planned.has(id) && UNDER_WAY.has(state.phase)) earlier += 1;
    if (state.phase === 'submitting' && state.unconfirmed) unconfirmed += 1;
  }
  const freshFolder = ![...states.values()].some((state) => state.attempt > 0);
  return { loaded, plan, options, outputDir, states, todo, toSubmit, earlier, unconfirmed, freshFolder, selected, ...(picked ? { sample: picked } : {}) };
}

/** Free lookups of a few jobs the journal does not know; skipped where doctor found lookups unavailable. */
async function heldAtProvider(options: BatchOptions, work: WorkLeft, timeoutMs: number): Promise<HeldCheck | undefined> {
  if (!options.checkHeld || options.provider?.lookup === 'unavailable') return undefined;
  // Short: this only shapes a note, and a provider that hangs is the run's to explain.
  const timeout = Math.min(timeoutMs, HELD_TIMEOUT_MS);
  const client = createClient({ baseUrl: options.baseUrl, apiKey: options.apiKey, timeoutMs: timeout });
  return checkHeld(client, work.toSubmit, work.states, { max: options.checkHeld, timeoutMs: timeout });
}

/** How long a lookup for the plan's note may take. */
const HELD_TIMEOUT_MS = 5_000;

export async function runBatch(options: BatchOptions): Promise<BatchResult> {
  const cwd = options.cwd ?? process.cwd();
  const logger = options.logger ?? silentLogger;
  const clock = options.clock ?? systemClock;
  const loaded =
    typeof options.manifest === 'string'
      ? await loadPlan(options.manifest, { cwd, modelsFile: options.modelsFile, pricesFile: options.pricesFile })
      : options.manifest;
  const { shard } = options;
  // A shard is a smaller batch: its report, progress and exit code cover its slice only.
  const plan = shard ? { ...loaded.plan, jobs: shardJobs(loaded.plan.jobs, shard) } : loaded.plan;
  const runOptions = resolveRunOptions([options.defaults, loaded.manifest.limits, options.limits], {
    // `only` reruns a subset: failed jobs among it start a new attempt, as with retryFailed.
    retryFailed: !!options.retryFailed || options.only !== undefined,
    resubmitUnconfirmed: options.resubmitUnconfirmed,
    timeScale: options.timeScale,
  });
  if (runOptions.budgetUsd !== undefined) {
    const unpriced = plan.jobs.filter((job) => job.cost_usd === null).length;
    if (unpriced > 0) {
      const table = options.pricesFile ?? shippedName(DEFAULT_PRICES_FILE);
      throw new InputError(
        'budget',
        `--budget needs a price for every job, but ${unpriced} job(s) have no row in the price table ${table}: ${describeUnpriced(plan.jobs, loaded.models)}. Use a model the table prices, add rows to ${options.pricesFile === undefined ? 'a copy of it passed with --prices <file>' : 'it'} (see docs/models-and-prices.md), or drop --budget.`,
      );
    }
  }
  const manifestAbsolute = join(loaded.manifestDir, loaded.plan.manifest);
  const outputDir = options.outputDir === undefined ? defaultOutputDir(manifestAbsolute, plan.name, cwd) : resolve(cwd, options.outputDir);
  createOutputFolder(outputDir);

  const lock = await acquireLock(outputDir, { logger, force: options.breakLock });
  // A process that exits at once (a second Ctrl-C) still frees the folder.
  const unhold = options.holdOnExit?.(() => lock.release());
  try {
    // Wanted while the journal is replayed only: dropped once it is open, not held through the run.
    let planned: Map<string, PlannedJob> | undefined = new Map(loaded.plan.jobs.map((job) => [job.id, job]));
    const folded = new JournalState((id) => planned?.get(id)?.request);
    const journal = openJournal(join(outputDir, JOURNAL_FILE), { name: plan.name, toolVersion: VERSION, logger, clock, onEvent: folded.add });
    planned = undefined;
    let run: RunResult;
    let work: WorkLeft;
    let keepAlive: ReturnType<typeof setInterval> | undefined;
    const startedAt = clock.now();
    try {
      work = workLeft(loaded, plan, runOptions, outputDir, folded.states, options);
      const held = await heldAtProvider(options, work, runOptions.requestTimeoutMs);
      if (held) work = { ...work, held };
      await options.beforeRun?.(work);
      const command = [...(options.command ?? [])];
      journal.append({ ev: 'run', pid: process.pid, manifest_sha256: loaded.manifestSha256, argv: command });
      // The clock's timers are unref'd (a stray backoff must not hold a caller's process), so
      // between polls nothing else may keep the event loop alive: against a provider in another
      // process Node would end a script mid-batch (exit 13). The batch holds it while it runs.
      keepAlive = setInterval(() => {}, 60_000);
      run = await runJobs({
        plan,
        manifestDir: loaded.manifestDir,
        outputDir,
        states: work.states,
        journal,
        client: createClient({ baseUrl: options.baseUrl, apiKey: options.apiKey, timeoutMs: runOptions.requestTimeoutMs }),
        options: runOptions,
        limiter: new RequestLimiter({ rpm: runOptions.rpm, clock }),
        gate: new ConcurrencyGate({ max: runOptions.concurrency }),
        clock,
        random: options.random ?? Math.random,
        logger,
        guard: lock,
        ...(options.provider ? { provider: options.provider } : {}),
        ...(options.fetch ? { fetch: options.fetch } : {}),
        ...(options.signal ? { softSignal: options.signal } : {}),
        ...(work.selected ? { selected: work.selected } : {}),
        ...(options.onEvent ? { onEvent: options.onEvent } : {}),
        ...(options.watch ? { watch: options.watch } : {}),
      });
    } finally {
      clearInterval(keepAlive);
      journal.close();
    }

    const unitPrice = unitPriceOf(options.unitPrice, options.pricesFile === undefined ? undefined : { path: options.pricesFile, cwd });
    const reproduce: Reproduce = {
      tool_version: VERSION,
      manifest_sha256: loaded.manifestSha256,
      plan_sha256: planSha256(loaded.plan),
      id_salt: loaded.plan.id_salt,
      prices: loaded.prices,
      limits: {
        concurrency: runOptions.concurrency,
        rpm: runOptions.rpm,
        budget_usd: runOptions.budgetUsd ?? null,
        task_timeout_min: runOptions.taskTimeoutMs / 60_000,
        poll_interval_s: runOptions.pollIntervalMs === undefined ? null : runOptions.pollIntervalMs / 1000,
        download_concurrency: runOptions.downloadConcurrency,
      },
      command: [...(options.command ?? [])],
    };
    // The report says what is on disk now, not what the journal remembers.
    const downloaded = [...run.states].flatMap(([id, state]) => (state.phase === 'downloaded' && state.download ? [[id, state.download] as const] : []));
    const clips = await checkDownloads(outputDir, downloaded);
    const report = streamReport({ plan, states: run.states, clips, manifest: { path: relative(outputDir, manifestAbsolute), sha256: loaded.manifestSha256 }, toolVersion: VERSION, startedAt, finishedAt: clock.now(), reproduce, unitPrice });
    writeReportJson(outputDir, report);
    writeGallery(outputDir, report);
    const wanted = work.selected ? plan.jobs.filter((job) => work.selected?.has(job.id)) : plan.jobs;
    return { ...work, report, run, wanted };
  } finally {
    lock.release();
    unhold?.();
  }
}
