// `klingrun run <manifest>`: plan, confirm, then run the batch under the limits, resumably.
import { mkdirSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { ProviderError } from '../../api/errors.js';
import { createClient } from '../../api/client.js';
import { systemClock } from '../../effects.js';
import { InputError, UsageError } from '../../errors.js';
import { loadPlan } from '../../plan/index.js';
import { resolveRunOptions } from '../../runner/options.js';
import { ConcurrencyGate, RequestLimiter } from '../../runner/limits.js';
import { runBatch } from '../../runner/run.js';
import { inShard, parseShard, selectOnly } from '../../runner/select.js';
import { planSha256 } from '../../plan/json.js';
import { replay } from '../../runner/job-state.js';
import { nextAction } from '../../runner/actions.js';
import { openJournal } from '../../state/journal.js';
import { acquireLock } from '../../state/lock.js';
import { buildReport } from '../../report/build.js';
import { writeFileAtomic } from '../../report/write.js';
import { writeGallery } from '../../report/gallery.js';
import { VERSION } from '../../version.js';
import { booleanOption, numberOption, positionals, stringOption } from '../args.js';
import { EXIT } from '../exit-codes.js';
import type { CliIO, Command } from '../io.js';
import { cliLogger } from '../logger.js';
import { Progress } from '../progress.js';
import { formatSummary } from '../summary.js';
import { JOURNAL_FILE, REPORT_FILE, outputDirFor } from '../output-folder.js';
import { formatReportSummary } from '../report-summary.js';

const USAGE =
  'klingrun run <manifest> [--concurrency N] [--rpm N] [--budget USD] [--base-url URL] [--emulator] [--output DIR] [--poll-interval S] [--task-timeout MIN] [--retry-failed] [--only failed|timed_out|<id-prefix>] [--shard i/n] [--request-timeout S] [--break-lock] [--yes]';

/** Above this estimate (or with unknown prices), a run without a terminal needs --yes. */
export const CONFIRM_THRESHOLD_USD = 1;

/** With --emulator the provider is fast; these defaults (under manifest and flags) keep the demo quick. */
const EMULATOR_DEFAULTS = { rpm: 6000, poll_interval_s: 0.25 } as const;
const EMULATOR_TIME_SCALE = 0.01;

export const runCommand: Command = {
  name: 'run',
  summary: 'Run a manifest: submit, poll, download, report. Rerun the same command to resume.',
  usage: USAGE,
  options: {
    concurrency: { type: 'string' },
    rpm: { type: 'string' },
    budget: { type: 'string' },
    'base-url': { type: 'string' },
    emulator: { type: 'boolean' },
    output: { type: 'string' },
    'poll-interval': { type: 'string' },
    'task-timeout': { type: 'string' },
    'retry-failed': { type: 'boolean' },
    only: { type: 'string' },
    shard: { type: 'string' },
    'request-timeout': { type: 'string' },
    'break-lock': { type: 'boolean' },
    yes: { type: 'boolean', short: 'y' },
    prices: { type: 'string' },
    models: { type: 'string' },
  },
  async run(args, io) {
    const [manifestPath] = positionals(args, ['manifest'], USAGE);
    const useEmulator = booleanOption(args, 'emulator');
    const apiKey = useEmulator ? `emu-${randomBytes(12).toString('hex')}` : io.env.COMETAPI_KEY;
    if (!apiKey) {
      throw new UsageError('No API key: set COMETAPI_KEY (e.g. `export COMETAPI_KEY=sk-...`), or add --emulator to run against the built-in offline emulator.');
    }
    const flags = {
      concurrency: numberOption(args, 'concurrency', { integer: true, min: 1 }),
      rpm: numberOption(args, 'rpm', { integer: true, min: 1 }),
      budget_usd: numberOption(args, 'budget', { min: 0 }),
      poll_interval_s: numberOption(args, 'poll-interval', { min: 0.01 }),
      task_timeout_min: numberOption(args, 'task-timeout', { min: 0.001 }),
    };
    const requestTimeoutS = numberOption(args, 'request-timeout', { min: 0.1 });
    const absoluteManifest = resolve(io.cwd, manifestPath as string);
    // The path as typed (with cwd), so errors read `jobs/x.yaml:5:11`, not an absolute path.
    const loaded = await loadPlan(manifestPath as string, { cwd: io.cwd, modelsFile: stringOption(args, 'models'), pricesFile: stringOption(args, 'prices') });
    const { manifest } = loaded;
    const shardText = stringOption(args, 'shard');
    const shard = shardText === undefined ? undefined : parseShard(shardText);
    // A shard is a smaller batch: its report, progress and exit code cover its slice only.
    const plan = shard ? { ...loaded.plan, jobs: loaded.plan.jobs.filter((job) => inShard(job, shard)) } : loaded.plan;
    const only = stringOption(args, 'only');
    // `--only` reruns a subset: failed jobs among it start a new attempt, as with --retry-failed.
    const options = resolveRunOptions([useEmulator ? EMULATOR_DEFAULTS : undefined, manifest.limits, flags], booleanOption(args, 'retry-failed') || only !== undefined);
    if (options.budgetUsd !== undefined) {
      const unpriced = plan.jobs.filter((job) => job.cost_usd === null).length;
      if (unpriced > 0) {
        throw new InputError('budget', `--budget needs a price for every job, but ${unpriced} job(s) use a model/mode/duration the price table does not list. Add them to a copy of src/data/prices.yaml and pass it with --prices <file>, or drop --budget.`);
      }
    }

    const outputDir = outputDirFor(io, plan.name, stringOption(args, 'output'));
    mkdirSync(outputDir, { recursive: true });
    const logger = cliLogger(io.stderr, io.env.KLINGRUN_DEBUG === '1');
    const lock = await acquireLock(outputDir, { logger, force: booleanOption(args, 'break-lock') });
    // 'exit' also comes after process.exit (Ctrl-C twice) and an uncaught error, which skip `finally`.
    const releaseOnExit = (): void => lock.release();
    process.once('exit', releaseOnExit);
    const emulator = useEmulator ? await (await import('../../emulator/index.js')).startEmulator({ keys: [apiKey], timeScale: EMULATOR_TIME_SCALE }) : undefined;
    try {
      const journal = openJournal(join(outputDir, JOURNAL_FILE), { name: plan.name, toolVersion: VERSION, logger });
      const before = replay(journal.events);
      const selected = only === undefined ? undefined : selectOnly(only, plan.jobs, before);
      const todo = plan.jobs.filter((job) => {
        if (selected && !selected.has(job.id) && before.get(job.id)?.phase !== 'submitted' && before.get(job.id)?.phase !== 'submitting') return false;
        const state = before.get(job.id);
        return !state || nextAction(state, { retryFailed: options.retryFailed, fileIntact: true }).kind !== 'done';
      });
      io.stdout(formatSummary(plan, todo, options, loaded.models) + '\n');
      await confirm(io, todo, booleanOption(args, 'yes'));
      const command = ['run', ...(io.argv ?? [])];
      journal.append({ ev: 'run', t: Date.now(), pid: process.pid, manifest_sha256: loaded.manifestSha256, argv: command });

      const client = createClient({
        baseUrl: emulator?.url ?? stringOption(args, 'base-url') ?? io.env.COMETAPI_BASE_URL,
        apiKey,
        ...(requestTimeoutS === undefined ? {} : { timeoutMs: requestTimeoutS * 1000 }),
      });
      const progress = new Progress({ plan, states: before, isTTY: io.isTTY, write: io.stderr });
      const startedAt = Date.now();
      progress.start();
      // The clock's timers are unref'd (a stray backoff must not hold a library user's process),
      // so between polls nothing else may keep the event loop alive: against a provider in
      // another process Node would end the run with exit 13 mid-batch. The command holds it.
      const keepAlive = setInterval(() => {}, 60_000);
      let result;
      try {
        result = await runBatch({
          plan,
          manifestDir: loaded.manifestDir,
          outputDir,
          journal,
          client,
          options,
          limiter: new RequestLimiter({ rpm: options.rpm, clock: systemClock }),
          gate: new ConcurrencyGate({ max: options.concurrency }),
          clock: systemClock,
          random: Math.random,
          logger,
          softSignal: io.signal,
          selected,
          onEvent: (event, state, job) => progress.onEvent(event, state, job),
        });
      } finally {
        clearInterval(keepAlive);
        progress.stop();
        journal.close();
      }

      const reproduce = {
        tool_version: VERSION,
        manifest_sha256: loaded.manifestSha256,
        plan_sha256: planSha256(loaded.plan),
        id_salt: loaded.plan.id_salt,
        prices: loaded.prices,
        limits: {
          concurrency: options.concurrency,
          rpm: options.rpm,
          budget_usd: options.budgetUsd ?? null,
          task_timeout_min: options.taskTimeoutMs / 60_000,
          poll_interval_s: options.pollIntervalMs === undefined ? null : options.pollIntervalMs / 1000,
          download_concurrency: options.downloadConcurrency,
        },
        command,
      };
      const report = buildReport({ plan, events: journal.events, manifest: { path: relative(outputDir, absoluteManifest), sha256: loaded.manifestSha256 }, toolVersion: VERSION, startedAt, finishedAt: Date.now(), reproduce });
      writeFileAtomic(join(outputDir, REPORT_FILE), JSON.stringify(report, null, 2) + '\n');
      writeGallery(outputDir, report);
      io.stdout(`\n${formatReportSummary(report)}\nVideos, report.json and gallery.html in ${relative(io.cwd, outputDir) || '.'}/\n`);

      if (result.interrupted) return EXIT.interrupted;
      if (result.stopReason instanceof ProviderError && result.stopReason.errorClass === 'fatal-run') {
        io.stderr(`error: the provider refused the run (${String(result.stopReason.code)}): ${result.stopReason.message}. Nothing more was submitted; tasks already in flight were followed as far as possible. Fix the key or the account, then rerun the same command to resume.\n`);
        return EXIT.providerRefused;
      }
      const wanted = selected ? plan.jobs.filter((job) => selected.has(job.id)) : plan.jobs;
      const succeeded = new Set(report.jobs.filter((job) => job.status === 'succeeded').map((job) => job.id));
      return wanted.every((job) => succeeded.has(job.id)) ? EXIT.ok : EXIT.jobsFailed;
    } finally {
      await emulator?.close();
      lock.release();
      process.off('exit', releaseOnExit);
    }
  },
};

async function confirm(io: CliIO, todo: readonly { cost_usd: number | null }[], yes: boolean): Promise<void> {
  if (yes || todo.length === 0) return;
  const unknown = todo.some((job) => job.cost_usd === null);
  const cost = todo.reduce((sum, job) => sum + (job.cost_usd ?? 0), 0);
  if (io.isTTY) {
    if (!(await io.confirm(`Submit ${todo.length} job(s)?`))) throw new InputError('not_confirmed', 'Not confirmed; nothing was submitted.');
    return;
  }
  if (unknown || cost > CONFIRM_THRESHOLD_USD) {
    throw new InputError('not_confirmed', `This run would submit ${todo.length} job(s) costing ${unknown ? 'an unknown amount' : `about $${cost.toFixed(2)}`} and there is no terminal to confirm on: add --yes to go ahead.`);
  }
}
