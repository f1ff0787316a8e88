// `klingrun run`: a whole batch (src/batch.ts) with what a person at a terminal needs around it:
// flags, the key, the summary and the confirmation before anything is paid, progress, the final
// summary, and the exit code.
import { join, relative } from 'node:path';
import { DEFAULT_BASE_URL, DEFAULT_TIMEOUT_MS } from '../../api/client.js';
import { ProviderError } from '../../api/errors.js';
import { type BatchResult, type WorkLeft, runBatch } from '../../batch.js';
import { InputError, UsageError } from '../../errors.js';
import { loadPlan } from '../../plan/index.js';
import { DEFAULT_RUN_OPTIONS } from '../../runner/options.js';
import { nextAction } from '../../runner/actions.js';
import type { JobState } from '../../runner/job-state.js';
import type { Shard } from '../../runner/select.js';
import { resolveShard } from '../shard-auto.js';
import { committedUsd, withinBudget } from '../../runner/spend.js';
import { HELD_CHECKS, heldNote } from '../../runner/provider-holds.js';
import { formatBudgetFit, formatSample, parseSample } from '../../plan/sample.js';
import type { PlannedJob } from '../../plan/schema.js';
import { createOutputFolder } from '../../state/output-folder.js';
import { booleanOption, numberOption, positionals, stringOption } from '../args.js';
import { EXIT, exitCodeFor } from '../exit-codes.js';
import { formatError } from '../format-error.js';
import { type CliIO, type CommandArgs, commandLine, defineCommand } from '../io.js';
import { CACHE_ENV, DEBUG_ENV, KEY_ENV, MODELS_OPTION, PRICES_OPTION, UNIT_PRICE_OPTION } from '../common-options.js';
import { egressNotes } from '../egress.js';
import { tightenHeapForRun } from '../heap.js';
import { cliLogger } from '../logger.js';
import { outputDirFor } from '../output-folder.js';
import { Progress } from '../progress.js';
import { LOG_FORMAT_OPTION, QUIET_OPTION, type RunOutputs, logFormatOf, runOutputs } from '../log-format.js';
import { formatReportSummary } from '../report-summary.js';
import { type ProviderFacts, readProviderFacts } from '../provider-facts.js';
import { type DurationRange, TYPICAL_TASK_S, durationRange, formatSummary, rangeText, taskDuration } from '../summary.js';
import type { StreamedReport } from '../../report/build.js';
import type { ReportStatus } from '../../report/schema.js';

const USAGE = 'klingrun run <manifest> [options]';

/** Above this estimate (or with unknown prices), a run without a terminal needs --yes. */
export const CONFIRM_THRESHOLD_USD = 1;

/** The built-in emulator's clock: a hundred times real time (`--time-scale` changes it). */
const EMULATOR_TIME_SCALE = 0.01;
/**
 * The built-in emulator lives in this process: no gateway can hold a create on its way to it, so
 * its transit window is one real second (under manifest and flags).
 */
const emulatorDefaults = (timeScale: number) => ({ transit_window_s: 1 / timeScale });
const EMULATOR_KEY = 'emulator-key';

/** Where `--emulator` keeps the built-in emulator's tasks: beside the journal. */
function emulatorTasksFile(outputDir: string): string {
  createOutputFolder(outputDir);
  return join(outputDir, 'emulator-tasks.jsonl');
}

const OPTIONS = {
  concurrency: { type: 'string', value: 'N', description: 'tasks in flight at the provider', defaultText: String(DEFAULT_RUN_OPTIONS.concurrency), rule: { kind: 'number', integer: true, min: 1 } },
  rpm: { type: 'string', value: 'N', description: 'requests per minute, all calls together', defaultText: String(DEFAULT_RUN_OPTIONS.rpm), rule: { kind: 'number', integer: true, min: 1 } },
  budget: {
    type: 'string',
    value: 'USD',
    description: 'hard cap on what the folder may cost (succeeded tasks, and every task that may be billed): a submit that would go over it is not sent',
    defaultText: 'no cap',
    rule: { kind: 'number', min: 0 },
  },
  'base-url': { type: 'string', value: 'URL', description: "the API's base URL", defaultText: DEFAULT_BASE_URL, env: 'COMETAPI_BASE_URL', rule: { kind: 'url' } },
  'time-scale': {
    type: 'string',
    value: 'F',
    description: "for test doubles and emulators: real time per unit of the provider's time (0.01: its tasks finish 100 times faster); polling, windows and the task timeout scale with it",
    defaultText: '1; 0.01 with --emulator',
    rule: { kind: 'number', above: 0, hint: 'e.g. 0.01 for a provider 100 times faster than real time' },
  },
  emulator: { type: 'boolean', description: 'run against the built-in offline emulator (no key, no network, a fast clock; its tasks are kept in the output folder)' },
  output: { type: 'string', value: 'DIR', description: 'where the videos, state.jsonl, report.json and gallery.html go', defaultText: "output/<name>/ of the manifest's project" },
  'poll-interval': { type: 'string', value: 'S', description: 'poll every S seconds (± jitter) instead of adaptively', defaultText: 'adaptive', rule: { kind: 'number', min: 0.01 } },
  'task-timeout': {
    type: 'string',
    value: 'MIN',
    description: 'a task unfinished MIN minutes after the provider accepted it becomes timed_out',
    defaultText: String(DEFAULT_RUN_OPTIONS.task_timeout_min),
    rule: { kind: 'number', min: 0.001 },
  },
  'retry-failed': { type: 'boolean', description: 'resubmit failed and lost jobs as a new attempt with a new external_task_id' },
  'resubmit-unconfirmed': { type: 'boolean', description: 'send again jobs whose earlier submit may have created a task that could not be found (this may pay twice)' },
  'absence-window': {
    type: 'string',
    value: 'S',
    description: 'how long a task must stay unfound after its submit before it counts as absent and is sent again',
    defaultText: String(DEFAULT_RUN_OPTIONS.absence_window_s),
    rule: { kind: 'number', min: 0 },
  },
  'transit-window': {
    type: 'string',
    value: 'S',
    description: 'how long a create that got no answer may still reach the provider and make its task; until then such a job is not sent again',
    defaultText: String(DEFAULT_RUN_OPTIONS.transit_window_s),
    rule: { kind: 'number', min: 0 },
  },
  only: { type: 'string', value: 'WHICH', description: 'rerun a subset: failed, timed_out, or jobs whose id or external id starts with a prefix' },
  shard: {
    type: 'string',
    value: 'i/n',
    description: 'run slice i of n (by job id): n machines split one batch with no overlap; `auto` takes it from a Kubernetes Indexed Job or a GitHub Actions matrix (see README)',
  },
  sample: {
    type: 'string',
    value: 'N',
    description: "a pilot: run N jobs spread over every variant (after --shard and --only), with the full run's ids, so a run without --sample then submits only the rest",
  },
  'sample-seed': { type: 'string', value: 'S', description: 'which jobs --sample picks: the same seed picks the same jobs', defaultText: '1' },
  'request-timeout': { type: 'string', value: 'S', description: 'give up on one HTTP request after S seconds', defaultText: String(DEFAULT_TIMEOUT_MS / 1000), rule: { kind: 'number', min: 0.1 } },
  'download-timeout': {
    type: 'string',
    value: 'S',
    description: 'cut a video download that receives nothing for S seconds (it resumes where it stopped; a slow but steady one is never cut)',
    defaultText: String(DEFAULT_RUN_OPTIONS.download_timeout_s),
    rule: { kind: 'number', min: 0.001 },
  },
  'max-video-mb': { type: 'string', value: 'MB', description: 'refuse a video larger than MB megabytes', defaultText: String(DEFAULT_RUN_OPTIONS.max_video_mb), rule: { kind: 'number', min: 0.001 } },
  'break-lock': { type: 'boolean', description: "take the output folder over although its lock says another runner holds it (that runner stops before its next paid step)" },
  yes: { type: 'boolean', short: 'y', description: "do not ask for confirmation (needed without a terminal when the estimate is over $1 or unknown, or whatever the cost when the jobs send data besides the API calls: callback hosts, files outside the manifest's folder)" },
  prices: PRICES_OPTION,
  'unit-price': UNIT_PRICE_OPTION,
  models: MODELS_OPTION,
  'log-format': LOG_FORMAT_OPTION,
  quiet: QUIET_OPTION,
} as const;

type RunArgs = CommandArgs<typeof OPTIONS>;
type LoadedPlan = Awaited<ReturnType<typeof loadPlan>>;

export const runCommand = defineCommand({
  usage: USAGE,
  options: OPTIONS,
  environment: [KEY_ENV, DEBUG_ENV, CACHE_ENV],
  examples: [
    { command: 'klingrun run jobs/example.yaml --emulator --yes', description: 'the demo: 8 jobs against the built-in emulator, offline' },
    { command: 'klingrun run jobs/sweep.yaml --concurrency 10 --rpm 60 --budget 25', description: 'a real run within limits and a $25 cap (rerun the same line to resume)' },
    { command: 'klingrun run jobs/dataset.yaml --shard 2/4 --output out/shard-2 --yes', description: 'the second of four slices, e.g. on one CI machine' },
  ],
  async run(args, io) {
    tightenHeapForRun();
    const [manifestPath] = positionals(args, ['manifest'], USAGE) as [string];
    // JSON lines alone on stdout (text for people goes to stderr), or quiet until the final summary.
    const outputs = runOutputs(io, logFormatOf(stringOption(args, 'log-format'), booleanOption(args, 'quiet')));
    io = outputs.io;
    const useEmulator = booleanOption(args, 'emulator');
    // The emulator's public fixture key: its tasks, kept in the output folder, belong to it across runs.
    const apiKey = useEmulator ? EMULATOR_KEY : io.env.COMETAPI_KEY;
    if (!apiKey) {
      throw new UsageError('No API key: set COMETAPI_KEY (e.g. `export COMETAPI_KEY=sk-...`), or add --emulator to run against the built-in offline emulator.');
    }
    const { limits, unitPrice, timeScale, shard, sample, resubmitUnconfirmed } = batchFlags(args, io, useEmulator);
    // The path as typed (with cwd), so errors read `jobs/x.yaml:5:11`, not an absolute path.
    const loaded = await loadPlan(manifestPath, { cwd: io.cwd, modelsFile: stringOption(args, 'models'), pricesFile: stringOption(args, 'prices') });
    const outputDir = outputDirFor(io, manifestPath, loaded.plan.name, stringOption(args, 'output'));
    let progress: Progress | undefined;
    // Warnings go above the progress bars while they are drawn; recurring ones are counted (logger.ts).
    const logger = cliLogger((text) => (progress ? progress.log(text) : io.stderr(text)), io.env.KLINGRUN_DEBUG === '1', { countRepeats: true });
    const { emulator, baseUrl, facts } = await providerOf(args, io, { useEmulator, apiKey, timeScale, loaded, outputDir });
    // Said once the run follows the signal (main.ts); before that, a Ctrl-C stops at once.
    const onInterrupt = (): void =>
      progress?.note('Interrupted: no new submits; the tasks in flight are followed to their end and downloaded. Press Ctrl-C again to stop at once (nothing is lost).');
    try {
      const result = await runBatch({
        manifest: loaded,
        cwd: io.cwd,
        outputDir,
        apiKey,
        baseUrl,
        ...(facts ? { provider: { lookup: facts.lookup_by_external_id === 'not_available' ? 'unavailable' : 'untested', list: facts.list === 'not_available' ? 'unavailable' : 'untested' } } : {}),
        defaults: useEmulator ? emulatorDefaults(timeScale) : undefined,
        limits,
        timeScale,
        retryFailed: booleanOption(args, 'retry-failed'),
        resubmitUnconfirmed,
        breakLock: booleanOption(args, 'break-lock'),
        holdOnExit: (release) => {
          process.once('exit', release);
          return () => void process.off('exit', release);
        },
        pricesFile: stringOption(args, 'prices'),
        unitPrice,
        only: stringOption(args, 'only'),
        shard,
        sample,
        // A copy of the manifest run elsewhere (or a deleted folder): the plan says the provider holds its
        // tasks. Not where the run can only refuse (no terminal, no --yes): that refusal sends nothing.
        checkHeld: io.isTTY || booleanOption(args, 'yes') ? HELD_CHECKS : 0,
        signal: io.signal,
        logger,
        command: ['run', ...(io.argv ?? [])],
        beforeRun: async (work) => {
          progress = await summarizeAndConfirm(work, { io, args, loaded, outputs, facts, shard, timeScale, resubmitUnconfirmed });
          io.signal.addEventListener('abort', onInterrupt, { once: true });
        },
        onEvent: (event, state, job) => progress?.onEvent(event, state, job),
        watch: (snapshot) => progress?.watch(snapshot),
      }).catch((error: unknown) => {
        if (error instanceof Declined) return undefined;
        throw error;
      });
      // Answering no is a choice, not an error: said plainly, exit 0.
      if (!result) {
        io.stderr('Not submitted: you answered no. Nothing was sent or paid.\n');
        return EXIT.ok;
      }
      progress?.stop();
      logger.flush();
      return finalSummary(result, { io, outputs, outputDir, sampled: sample !== undefined });
    } finally {
      progress?.stop();
      // Held-back warnings are counted however the run ends (a second call says nothing).
      logger.flush();
      io.signal.removeEventListener('abort', onInterrupt);
      await emulator?.close();
    }
  },
});

/**
 * Where the requests go: the built-in emulator, started here with its tasks kept beside the
 * journal (a rerun meets the tasks it left), or `--base-url`; and what `klingrun doctor` found of it.
 */
async function providerOf(
  args: RunArgs,
  io: CliIO,
  { useEmulator, apiKey, timeScale, loaded, outputDir }: { useEmulator: boolean; apiKey: string; timeScale: number; loaded: LoadedPlan; outputDir: string },
) {
  const emulator = useEmulator
    ? await (await import('../../emulator/index.js')).startEmulator({
        keys: [apiKey],
        timeScale,
        models: loaded.models,
        prices: loaded.prices,
        tasksFile: emulatorTasksFile(outputDir),
      })
    : undefined;
  const baseUrl = emulator?.url ?? stringOption(args, 'base-url');
  // What `klingrun doctor` found: a way of finding tasks known to be missing is not tried.
  const facts = emulator ? null : readProviderFacts(baseUrl, io.env);
  return { emulator, baseUrl, facts };
}

/** The flags that shape the batch, read before any work (their rules were checked as they were parsed). */
function batchFlags(args: RunArgs, io: CliIO, useEmulator: boolean) {
  const limits = {
    concurrency: numberOption(args, 'concurrency'),
    rpm: numberOption(args, 'rpm'),
    budget_usd: numberOption(args, 'budget'),
    poll_interval_s: numberOption(args, 'poll-interval'),
    task_timeout_min: numberOption(args, 'task-timeout'),
    absence_window_s: numberOption(args, 'absence-window'),
    transit_window_s: numberOption(args, 'transit-window'),
    request_timeout_s: numberOption(args, 'request-timeout'),
    download_timeout_s: numberOption(args, 'download-timeout'),
    max_video_mb: numberOption(args, 'max-video-mb'),
  };
  const unitPrice = numberOption(args, 'unit-price');
  // The provider's clock against real time: a test double's, or the built-in emulator's.
  const timeScale = numberOption(args, 'time-scale') ?? (useEmulator ? EMULATOR_TIME_SCALE : 1);
  const shardText = stringOption(args, 'shard');
  const resolved = shardText === undefined ? undefined : resolveShard(shardText, io.env);
  const shard = resolved?.shard;
  if (resolved?.source) io.stderr(`Shard ${resolved.shard.index}/${resolved.shard.count}, from ${resolved.source}.\n`);
  const resubmitUnconfirmed = booleanOption(args, 'resubmit-unconfirmed');
  const sample = parseSample(stringOption(args, 'sample'), stringOption(args, 'sample-seed'));
  return { limits, unitPrice, timeScale, shard, sample, resubmitUnconfirmed };
}

interface ConfirmContext {
  readonly io: CliIO;
  readonly args: RunArgs;
  readonly loaded: LoadedPlan;
  readonly outputs: RunOutputs;
  readonly facts: ProviderFacts | null;
  readonly shard: Shard | undefined;
  readonly timeScale: number;
  readonly resubmitUnconfirmed: boolean;
}

/**
 * Before anything is paid: the plan's summary, the pilot and budget lines, the notes, and the
 * question (or the refusal without a terminal); then the progress display, started.
 */
async function summarizeAndConfirm(work: WorkLeft, { io, args, loaded, outputs, facts, shard, timeScale, resubmitUnconfirmed }: ConfirmContext): Promise<Progress> {
  const slice = shard ? { ...shard, batchJobs: loaded.plan.jobs.length } : undefined;
  const committed = committedUsdOf(work);
  const submits = fittingSubmits(work, committed);
  const budget = { fitting: submits.length, committedUsd: committed };
  // A provider whose clock runs fast (--time-scale) finishes its tasks as much sooner.
  const task = taskDuration(work.states, { lowS: TYPICAL_TASK_S.lowS * timeScale, highS: TYPICAL_TASK_S.highS * timeScale });
  const duration = { total: durationRange(submits.length, work.options, task), task };
  io.stdout(formatSummary({ plan: work.plan, toSubmit: work.toSubmit, todo: work.todo.length, finished: finishedOf(work), options: work.options, tables: loaded, shard: slice, columns: io.columns, budget, duration }) + '\n');
  if (work.sample) io.stdout(`${formatSample(work.sample.pool, work.sample.picked, work.sample.spec)}\n`);
  const fit = formatBudgetFit(work.toSubmit, submits, work.sample !== undefined);
  if (fit) io.stdout(`${fit}\n`);
  for (const line of notices(work, resubmitUnconfirmed, facts, io.cwd)) if (outputs.format !== 'quiet' || line.startsWith('warning')) io.stderr(`${line}\n`);
  const { sentences: sends } = await egressNotes(work.toSubmit, loaded.manifestDir, io.cwd);
  await confirm(io, submits, { yes: booleanOption(args, 'yes'), freshFolder: work.freshFolder, sends, of: work.toSubmit.length, duration: duration.total, sampled: work.sample !== undefined });
  const progress = new Progress({ plan: work.plan, states: work.states, isTTY: io.isTTY, write: io.stderr, columns: () => io.columns, format: outputs.format, writeJson: outputs.json });
  progress.start();
  return progress;
}

/** After the run: the results table, what is left (after an interruption or a pilot) and the exit code. */
function finalSummary(result: BatchResult, { io, outputs, outputDir, sampled }: { io: CliIO; outputs: RunOutputs; outputDir: string; sampled: boolean }): number {
  const { report, run } = result;
  outputs.end(report.summary, run.interrupted);
  const earlier = run.fromJournal.length ? `${run.fromJournal.length} job(s) came from an earlier version of the manifest (in report.json with in_manifest: false).\n` : '';
  io.stdout(`\n${formatReportSummary(report, io.columns)}\n${earlier}Videos, report.json and gallery.html in ${relative(io.cwd, outputDir) || '.'}/\n`);
  const statuses = statusesOf(report, result.wanted);
  if (run.interrupted) io.stdout(interruptedNote(statuses, commandLine(['run', ...(io.argv ?? [])], io.env)));
  else if (sampled) io.stdout(pilotNote(statuses, statusesOf(report, result.plan.jobs), commandLine(['run', ...withoutSample(io.argv ?? [])], io.env)));
  const succeeded = statuses.get('succeeded') ?? 0;
  for (const [model, refusal] of run.blockedModels) io.stderr(`${blockedModelNote(model, refusal)}\n`);
  return runExitCode(io, run.stopReason, run.interrupted, succeeded === result.wanted.length);
}

/** What the output folder's tasks already commit against --budget, at the manifest's prices. */
function committedUsdOf({ loaded, states }: WorkLeft): number {
  const prices = new Map(loaded.plan.jobs.map((job) => [job.id, job.cost_usd]));
  return committedUsd(states, (id) => prices.get(id));
}

/** The jobs this run will submit: all of toSubmit, or under --budget those it lets through. */
function fittingSubmits(work: WorkLeft, committed: number): readonly PlannedJob[] {
  const budget = work.options.budgetUsd;
  return budget === undefined ? work.toSubmit : withinBudget(work.toSubmit, budget, committed);
}

/** Planned jobs with nothing left to do (the rest are to run, or left out by `--only`). */
function finishedOf({ plan, states, options }: WorkLeft): number {
  const done = (state: JobState | undefined) => state !== undefined && nextAction(state, { retryFailed: options.retryFailed, fileIntact: true }).kind === 'done';
  return plan.jobs.filter((job) => done(states.get(job.id))).length;
}

/** How many of the jobs this run was asked for ended in each status, in one read of the report. */
function statusesOf(report: StreamedReport, wanted: readonly { readonly id: string }[]): Map<ReportStatus, number> {
  const ids = new Set(wanted.map((job) => job.id));
  const statuses = new Map<ReportStatus, number>();
  for (const job of report.jobs()) if (ids.has(job.id)) statuses.set(job.status, (statuses.get(job.status) ?? 0) + 1);
  return statuses;
}

/** The end of an interrupted run's summary: what is left, and the exact command that resumes it. */
function interruptedNote(statuses: ReadonlyMap<ReportStatus, number>, resume: string): string {
  const left = [...statuses].filter(([status]) => UNFINISHED_STATUSES.has(status));
  if (left.length === 0) return 'The run was interrupted after its last job had finished: nothing is left to resume.\n';
  const parts = left.map(([status, n]) => `${n} ${status === 'pending' ? 'not submitted yet' : status === 'skipped_budget' ? 'skipped by --budget' : status.replaceAll('_', ' ')}`);
  return `The run was interrupted: ${parts.join(', ')}. To resume, run the same command again: ${resume}\n`;
}

/** Statuses a rerun takes further (a budget skip is submitted by a rerun the budget lets through). */
const UNFINISHED_STATUSES: ReadonlySet<ReportStatus> = new Set(['pending', 'skipped_budget', 'in_flight', 'unconfirmed', 'not_downloaded', 'orphaned']);

/** What the user should know before anything is paid. */
function notices(work: WorkLeft, resubmitUnconfirmed: boolean, facts: ProviderFacts | null, cwd: string): string[] {
  const lines: string[] = [];
  const folder = `${relative(cwd, work.outputDir) || '.'}/`;
  if (facts && (facts.lookup_by_external_id === 'not_available' || facts.list === 'not_available')) {
    const missing = [facts.lookup_by_external_id === 'not_available' ? 'lookups by external_task_id' : '', facts.list === 'not_available' ? 'the task list' : ''].filter(Boolean).join(' and ');
    lines.push(`note: \`klingrun doctor\` found ${missing} not available at this base URL (${facts.checked_at}): they are not tried, and a submit whose answer is lost may end unconfirmed (never resent automatically).`);
  }
  if (work.earlier > 0) {
    lines.push(`note: ${work.earlier} job(s) came from an earlier version of the manifest and are still under way in ${folder}: they were paid for, so they are finished (polled, downloaded) and count against --budget.`);
  }
  if (work.unconfirmed > 0) {
    lines.push(
      resubmitUnconfirmed
        ? `warning: --resubmit-unconfirmed: ${work.unconfirmed} unconfirmed job(s) will be sent again if their task still cannot be found. Their first submit may have created a task: this may pay twice.`
        : `note: ${work.unconfirmed} job(s) are unconfirmed: an earlier submit may have created their task, which could not be found. They are looked up again, never resent; \`--resubmit-unconfirmed\` sends them again (this may pay twice).`,
    );
  }
  if (work.freshFolder && work.toSubmit.length > 0) {
    lines.push(`note: ${folder} has no record of earlier runs. Before its first submit, each job is looked up at the provider by its external_task_id, so a task made by a run from another folder or machine is adopted, not paid again (where the provider offers such lookups); it is counted as adopted, not as spent. For new generations instead, give the manifest a new \`id_salt\` (new ids, new tasks).`);
  }
  const held = heldNote(work.held);
  if (held) lines.push(held);
  return lines;
}

/** After a pilot: the batch's other jobs are work left, not failures, and the command that runs them. */
function pilotNote(pilot: ReadonlyMap<ReportStatus, number>, batch: ReadonlyMap<ReportStatus, number>, rest: string): string {
  const left = (statuses: ReadonlyMap<ReportStatus, number>) => [...statuses].reduce((sum, [status, n]) => sum + (UNFINISHED_STATUSES.has(status) ? n : 0), 0);
  const others = left(batch) - left(pilot);
  if (others === 0) return 'The pilot (--sample) was the last of the batch: nothing else is left to run.\n';
  return `This was a pilot (--sample): ${others} other job(s) of the batch are not run yet (work left, not failures). To run them, run the command without --sample; the pilot's jobs are not submitted again: ${rest}\n`;
}

/** The command line without `--sample N` and `--sample-seed S` (either as one argument with `=`). */
function withoutSample(argv: readonly string[]): string[] {
  const kept: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--sample' || arg === '--sample-seed') i += 1;
    else if (!arg.startsWith('--sample=') && !arg.startsWith('--sample-seed=')) kept.push(arg);
  }
  return kept;
}

/** A model the provider refused (1103): what became of its jobs, and what to do. */
export function blockedModelNote(model: string, refusal: ProviderError): string {
  const fix = refusal.fix ? `To fix it, ${refusal.fix}; a rerun` : 'A rerun';
  return `warning: the provider refused model ${model} (${String(refusal.code)}): its jobs were not submitted and stay pending; the other models went on. ${fix} tries this model's jobs again.`;
}

/** Why the run stopped early, said once, and the exit code it maps to (exit-codes.ts decides). */
export function runExitCode(io: Pick<CliIO, 'stderr'>, stopReason: unknown, interrupted: boolean, allSucceeded: boolean): number {
  if (stopReason === undefined) return interrupted ? EXIT.interrupted : allSucceeded ? EXIT.ok : EXIT.jobsFailed;
  const code = exitCodeFor(stopReason);
  // A Ctrl-C says enough, unless the provider could not be reached at all: that is the news.
  if (interrupted && code !== EXIT.unreachable) return EXIT.interrupted;
  if (code === EXIT.unreachable) {
    io.stderr(`error: ${(stopReason as ProviderError).message}. Nothing more was sent; jobs in flight stay in the journal. Check --base-url (or COMETAPI_BASE_URL) and the network, then rerun the same command to resume.\n`);
  } else if (stopReason instanceof ProviderError && code === EXIT.providerRefused) {
    const fix = stopReason.fix ? `To fix it, ${stopReason.fix}` : 'Fix the key or the account';
    io.stderr(`error: the provider refused the run (${String(stopReason.code)}): ${stopReason.message}. Nothing more was submitted; tasks already in flight were followed as far as possible. ${fix}, then rerun the same command to resume.\n`);
  } else {
    io.stderr(`${formatError(stopReason)}\n`);
  }
  return code;
}

/** The person at the terminal answered no (or nothing): the run stops before its first submit. */
class Declined extends Error {}

/**
 * Asks before anything is paid: on a terminal always; without one, when the estimate is over the
 * threshold or unknown, and whatever the cost when the jobs send more than their API calls
 * (`sends`, cli/egress.ts): a manifest or table from someone else may name those.
 */
async function confirm(
  io: CliIO,
  todo: readonly { cost_usd: number | null }[],
  { yes, freshFolder, sends, of, duration, sampled }: { yes: boolean; freshFolder: boolean; sends: readonly string[]; of: number; duration: DurationRange; sampled: boolean },
): Promise<void> {
  if (todo.length === 0) return;
  const besides = sends.length ? `Besides its API calls, this run sends data elsewhere. ${sends.join(' ')}` : '';
  if (yes) {
    if (besides) io.stderr(`note: ${besides}\n`);
    return;
  }
  const unknown = todo.some((job) => job.cost_usd === null);
  const cost = todo.reduce((sum, job) => sum + (job.cost_usd ?? 0), 0);
  // Under --budget, what it lets through is what is paid for: the question says so.
  const price = unknown ? 'cost unknown' : `about $${cost.toFixed(2)}`;
  const jobs = `${todo.length < of ? `${todo.length} of ${of} job(s) (as many as --budget lets through, ${sampled ? 'from the --sample selection' : 'in plan order'}; ${price}` : `${todo.length} job(s) (${price}`}, ${rangeText(duration)})`;
  if (io.isTTY) {
    const fresh = freshFolder ? ' (this folder has no record of earlier runs; see the note above)' : '';
    if (!(await io.confirm(`${besides ? `${besides}\n` : ''}Submit ${jobs}${fresh}?`))) throw new Declined();
    return;
  }
  if (besides) {
    throw new InputError('not_confirmed', `${besides} There is no terminal to confirm on: check that the manifest and its tables mean to send these, then add --yes to go ahead. Nothing was submitted.`);
  }
  if (unknown || cost > CONFIRM_THRESHOLD_USD) {
    throw new InputError('not_confirmed', `This run would submit ${todo.length < of ? `${todo.length} of ${of}` : todo.length} job(s) costing ${unknown ? 'an unknown amount' : `about $${cost.toFixed(2)}`} and there is no terminal to confirm on: add --yes to go ahead.`);
  }
}
