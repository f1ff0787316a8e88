// The crash loop shared by test/crash.test.ts and the soak: an emulator with faults switched on
// lives in this process, the real CLI runs as a child and is SIGKILLed at seeded moments, then
// rerun until the batch finishes. Every random choice comes from one seed, printed with any
// failure; the kill moments are chosen by the seed (after the n-th progress line, plus a delay),
// so a failing seed replays the same decisions, though not the same thread interleavings.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from '../../src/api/client.js';
import { type Logger, type Random, seededRandom, systemClock } from '../../src/effects.js';
import { type EmulatorHandle, type EmulatorOptionsInput, type EmulatorStats, startEmulator } from '../../src/emulator/index.js';
import { videoFor } from '../../src/emulator/videos.js';
import { loadPlan } from '../../src/plan/index.js';
import type { Plan } from '../../src/plan/schema.js';
import { type Report, reportSchema } from '../../src/report/schema.js';
import { ConcurrencyGate, RequestLimiter } from '../../src/runner/limits.js';
import { resolveRunOptions, type RunOptionsInput } from '../../src/runner/options.js';
import { type RunInput, type RunResult, runJobs } from '../../src/runner/run.js';
import type { JournalEvent } from '../../src/state/events.js';
import { openJournal } from '../../src/state/journal.js';
import { lockHolder } from '../../src/state/lock.js';
import { replay } from '../../src/runner/job-state.js';
import { journalEvents } from './state.js';
import { type CliProcess, type CliResult, spawnCli } from './cli.js';

export type DuplicateBehaviour = 'reject' | 'return-existing' | 'accept';

/** What the emulated provider does with a repeated external_task_id, and how it can be found again. */
export interface Behaviour {
  readonly duplicateExternalId: DuplicateBehaviour;
  /** GET …/{external_task_id} finds the task. */
  readonly externalIdLookup: boolean;
  /** The list call exists. */
  readonly listSupported: boolean;
}

/** How the emulator answers: as the documents say, or as the live service does (nulls, 400/1201 "not found"…). */
export type Profile = 'default' | 'live';
export const PROFILES: readonly Profile[] = ['default', 'live'];

type FaultList = NonNullable<EmulatorOptionsInput['faults']>;

/**
 * Shapes of the world a batch meets besides the crash faults: lookups that lag behind creates, a
 * large account, and the hostile shapes a review found (stale URLs that do not answer 403, creates a
 * gateway delivers late, ids and status words the documents do not promise, a provider clock that is
 * not ours). `faults` come before the batch's own, so they fire first.
 */
export interface WorldShape {
  readonly name: string;
  readonly emulator: EmulatorOptionsInput;
  readonly faults?: FaultList;
}
export const SHAPES: readonly WorldShape[] = [
  { name: 'plain', emulator: {} },
  // 20 emulated seconds at the crash suite's time scale: 80 ms, well inside a 0.5 s absence window.
  { name: 'lagging lookups', emulator: { lookupLagS: 20 } },
  // Other tools' tasks fill the account; the list stops answering after two pages of them.
  { name: 'large account', emulator: { foreignTasks: 1_500, listMaxPages: 2 } },
  // A video URL that goes stale answers like a cloud bucket's expired signature: HTTP 400.
  { name: 'stale URLs', emulator: { staleUrlAnswer: 400 }, faults: [{ kind: 'stale-url', p: 0.3 }] },
  // A gateway sits on a create for 500 emulated seconds (2 s here): past the 1 s request timeout
  // and the 0.5 s absence window, inside the runner's 3 s transit window (runArgs).
  { name: 'late creates', emulator: { lateCreateS: 500 }, faults: [{ kind: 'late-create', p: 0.2 }] },
  // 19-digit task ids as bare JSON numbers, unfinished tasks reported as `queued` then `running`.
  { name: 'odd answers', emulator: { numericTaskIds: true, inProgressStatus: ['queued', 'running'] } },
  // Timestamps in seconds, from a provider clock two hours behind ours.
  { name: 'skewed clock', emulator: { createdAtUnit: 's', clockOffsetS: -7_200 } },
];

/**
 * Every combination of what the provider does with a repeated external_task_id and how a task can
 * be found again. In each, no job is ever paid twice. Where a task can be found (lookups or the
 * list), every job also ends with its video; where neither exists, a submit whose answer was lost
 * cannot be checked, so that job ends `unconfirmed` (its task may exist) instead of being resent.
 */
export const BEHAVIOURS: readonly Behaviour[] = (['reject', 'return-existing', 'accept'] as const).flatMap((duplicateExternalId) =>
  [true, false].flatMap((externalIdLookup) => [true, false].map((listSupported) => ({ duplicateExternalId, externalIdLookup, listSupported }))),
);

/**
 * Which jobs a world may leave `unconfirmed`: none where lookups or a whole list can find any task
 * (a create that may still be on its way waits out the 3 s transit window of runArgs, then is found
 * or proven absent and sent again); with neither, any (a lost answer cannot be checked, its task may
 * exist); with lookups off and a list that stops early, only jobs that have no task (a task that
 * exists is on the list's first page, so missing it would lose a paid clip).
 */
export type UnconfirmedPolicy = 'none' | 'only-without-task' | 'any';
export function unconfirmedPolicy(b: Behaviour, shape: WorldShape = SHAPES[0] as WorldShape): UnconfirmedPolicy {
  if (b.externalIdLookup) return 'none';
  if (!b.listSupported) return 'any';
  return shape.emulator.listMaxPages !== undefined ? 'only-without-task' : 'none';
}

export const describeBehaviour = (b: Behaviour, profile: Profile = 'default', shape: WorldShape = SHAPES[0] as WorldShape): string =>
  `duplicate=${b.duplicateExternalId}, lookup=${b.externalIdLookup ? 'on' : 'off'}, list=${b.listSupported ? 'on' : 'off'}` +
  `${profile === 'live' ? ', live profile' : ''}${shape.name === 'plain' ? '' : `, ${shape.name}`}`;

/**
 * Lost answers, 5xx of three kinds, hangs, 1303 storms and cut downloads, all at once. Hangs hit
 * API calls only: `--request-timeout` ends those, while a video download has no such option (its
 * fixed 120 s limit is left to the fault matrix, which sets it in-process).
 */
export const CRASH_FAULTS: FaultList = [
  { kind: 'lost-response', on: ['create'], p: 0.25 },
  // A create that took effect and answers only after the client gave up: the job sits in
  // `submitting` with a task at the provider for a whole request timeout, the window a kill must hit.
  { kind: 'hang-after-call', on: ['create'], p: 0.15 },
  { kind: 'storm1303', p: 0.08 },
  { kind: 'http500', p: 0.03 },
  { kind: 'http503', p: 0.03 },
  { kind: 'html5xx', p: 0.03 },
  { kind: 'hang', on: ['create', 'get', 'list'], p: 0.02 },
  { kind: 'truncated-download', p: 0.25 },
];

export interface CrashBatchOptions {
  readonly seed: number;
  /** Absolute path of the manifest. */
  readonly manifest: string;
  readonly behaviour: Behaviour;
  /** @default 'default' */
  readonly profile?: Profile;
  /** @default plain */
  readonly shape?: WorldShape;
  /** SIGKILLs to deliver before letting the batch finish. */
  readonly kills: number;
  readonly faults?: FaultList;
  /** @default 0.004 (a 50-emulated-second task takes 200 ms) */
  readonly timeScale?: number;
  /** Runs allowed without a kill before giving up. @default 6 */
  readonly maxFinishRuns?: number;
  /** @default 'random' */
  readonly firstKill?: FirstKill;
  /** Progress lines of the kill moment are drawn from [0, this). @default 10 */
  readonly killWithinLines?: number;
  readonly log?: (line: string) => void;
}

export interface RunRecord {
  readonly killed: boolean;
  /** What the kill waited for, e.g. `line 3 + 12 ms` or `412 ms after start`. */
  readonly moment?: string;
  readonly code: number | null;
  readonly ms: number;
}

export interface CrashBatchResult {
  readonly seed: number;
  readonly behaviour: Behaviour;
  readonly profile: Profile;
  readonly shape: WorldShape;
  readonly kills: number;
  readonly runs: readonly RunRecord[];
  readonly stats: EmulatorStats;
  /** Everything that went wrong, empty when the batch is proven sound. */
  readonly problems: readonly string[];
  readonly outputDir: string;
  readonly ms: number;
}

/** Summary lines end with the limits line; everything after it is progress. */
const progressLines = (lines: readonly string[]): number => {
  const start = lines.findIndex((line) => line.startsWith('limits:'));
  return start === -1 ? 0 : lines.length - start - 1;
};

type KillMoment =
  | { readonly kind: 'startup'; readonly ms: number }
  | { readonly kind: 'line'; readonly lines: number; readonly delayMs: number }
  | { readonly kind: 'pending-submit'; readonly holdMs: number };

/** How a batch picks its kill moments: at random, or its first kill while a create is unanswered. */
export type FirstKill = 'random' | 'pending-submit';

/**
 * Where to kill a run: mostly after some progress, sometimes while it starts up, and often while a
 * create call is unanswered (its task may exist, the journal says only `submitting`): the moment
 * a resume must get right, which random moments hit only when a create hangs.
 */
function killMoment(random: Random, withinLines: number): KillMoment {
  const draw = random();
  if (draw < 0.15) return { kind: 'startup', ms: Math.floor(random() * 700) };
  if (draw < 0.4) return { kind: 'pending-submit', holdMs: 50 + Math.floor(random() * 200) };
  return { kind: 'line', lines: Math.floor(random() * withinLines), delayMs: Math.floor(random() * 60) };
}

/**
 * A run that has not reached its kill moment this long after its start is killed anyway, as a user
 * would kill a run that seems stuck: a kill must land even while retries back off.
 */
const STALL_MS = 3_000;

/** Resolves once some job has stayed in `submitting` (a create sent, no answer journaled) for `holdMs`. */
async function pendingSubmit(journalFile: string, holdMs: number, until: Promise<unknown>): Promise<void> {
  let over = false;
  void until.then(() => (over = true));
  const since = new Map<string, number>();
  while (!over) {
    let text = '';
    try {
      text = readFileSync(journalFile, 'utf8');
    } catch {
      // Not created yet.
    }
    const last = new Map<string, string>();
    for (const line of text.split('\n').slice(0, -1)) {
      const event = JSON.parse(line) as { ev: string; job?: string };
      if (event.job) last.set(event.job, event.ev);
    }
    const now = Date.now();
    for (const [job, ev] of last) {
      if (ev !== 'submitting') {
        since.delete(job);
        continue;
      }
      const first = since.get(job) ?? now;
      since.set(job, first);
      if (now - first >= holdMs) return;
    }
    await sleep(5);
  }
}

/** Resolves true when the kill moment came while the run was still going. */
async function reachKillMoment(cli: CliProcess, moment: KillMoment, journalFile: string): Promise<boolean> {
  const ended = cli.done.then(() => 'ended' as const);
  const stalled = sleep(STALL_MS);
  let reached: Promise<unknown>;
  if (moment.kind === 'startup') reached = sleep(moment.ms);
  else if (moment.kind === 'pending-submit') reached = pendingSubmit(journalFile, moment.holdMs, Promise.race([ended, stalled]));
  else reached = cli.waitFor((lines) => progressLines(lines) > moment.lines, STALL_MS).then(() => sleep(moment.delayMs));
  return (await Promise.race([ended, reached, stalled])) !== 'ended';
}

function describeMoment(moment: KillMoment): string {
  switch (moment.kind) {
    case 'startup':
      return `${moment.ms} ms after start`;
    case 'pending-submit':
      return `a create unanswered for ${moment.holdMs} ms (at most ${STALL_MS} ms)`;
    case 'line':
      return `progress line ${moment.lines} + ${moment.delayMs} ms (at most ${STALL_MS} ms)`;
  }
}

/** No create is held on its way longer than the late-creates shape's 2 s: a transit window of 3 s covers it. */
const TRANSIT_WINDOW_MS = 3_000;

/** `klingrun run` against an emulator: fast polls, no client-side rate limit, a hung call given up after 1 s. */
export function runArgs(manifest: string, baseUrl: string, outputDir: string, flags: readonly string[] = []): string[] {
  // Lookups lag nothing here: half a second is a whole consistency window.
  return ['run', manifest, '--base-url', baseUrl, '--yes', '--output', outputDir, '--poll-interval', '0.05', '--rpm', '20000', '--request-timeout', '1', '--absence-window', '0.5', '--transit-window', String(TRANSIT_WINDOW_MS / 1000), ...flags];
}

/** One batch from an empty output folder to finished, killed `kills` times on the way, then checked. */
export async function crashBatch(options: CrashBatchOptions): Promise<CrashBatchResult> {
  const started = Date.now();
  const random = seededRandom(options.seed);
  const key = `sk-crash-${randomBytes(12).toString('hex')}`;
  const faults = options.faults ?? CRASH_FAULTS;
  const { plan } = await loadPlan(options.manifest);
  const outputDir = mkdtempSync(join(tmpdir(), 'klingrun-crash-'));
  const emulator = await startEmulator({
    keys: [key],
    seed: options.seed,
    timeScale: options.timeScale ?? 0.004,
    queueS: 5,
    processingS: 45,
    faults: [...(options.shape?.faults ?? []), ...faults],
    profile: options.profile ?? 'default',
    ...options.shape?.emulator,
    ...options.behaviour,
  });
  const args = runArgs(options.manifest, emulator.url, outputDir);
  // Debug logging on: more text that could leak the key if anything quoted it.
  const env = { COMETAPI_KEY: key, KLINGRUN_DEBUG: '1' };
  const runs: RunRecord[] = [];
  const results: CliResult[] = [];
  const log = options.log ?? (() => {});
  let kills = 0;
  let finished = false;
  const policy = unconfirmedPolicy(options.behaviour, options.shape);
  try {
    while (kills < options.kills && !finished) {
      // Drawn even when overridden, so the rest of the batch sees the same random sequence.
      const drawn = killMoment(random, options.killWithinLines ?? 10);
      const moment: KillMoment = runs.length === 0 && options.firstKill === 'pending-submit' ? { kind: 'pending-submit', holdMs: 100 } : drawn;
      const cli = spawnCli(args, { env });
      const reached = await reachKillMoment(cli, moment, join(outputDir, 'state.jsonl'));
      const label = describeMoment(moment);
      const result = await cli.kill();
      results.push(result);
      const killed = reached && result.signal === 'SIGKILL';
      if (killed) kills += 1;
      runs.push({ killed, moment: label, code: result.code, ms: result.ms });
      log(`  run ${runs.length}: ${killed ? `killed at ${label}` : `exit ${result.code}`} (${result.ms} ms)`);
      finished = settled(result, outputDir, policy);
      if (!killed && result.code !== 0 && result.code !== 1) break; // a refusal or a crash: stop and report it
    }
    for (let extra = 0; !finished && extra < (options.maxFinishRuns ?? 6); extra++) {
      // A run that left jobs unconfirmed (their POST may still be on its way) is rerun, as its
      // message advises, once their transit window has passed: reruns back to back could all fall
      // inside it when the same job's POST goes unanswered twice.
      if (results.at(-1)?.code === 1) await sleep(TRANSIT_WINDOW_MS);
      const result = await spawnCli(args, { env }).done;
      results.push(result);
      runs.push({ killed: false, code: result.code, ms: result.ms });
      log(`  run ${runs.length}: exit ${result.code} (${result.ms} ms)`);
      finished = settled(result, outputDir, policy);
      if (result.code !== 0 && result.code !== 1) break;
    }
    emulator.configure({ faults: [] }); // the ownership check below asks the provider
    const owners = finished ? await taskOwners(emulator, key, reportedTaskIds(outputDir)) : undefined;
    const problems = finished
      ? verifyBatch({ plan, outputDir, stats: emulator.stats(), key, outputs: results, owners, unconfirmed: policy })
      : [`the batch did not finish: exit codes ${runs.map((r) => r.code ?? 'SIGKILL').join(', ')}`];
    if (problems.length > 0) {
      const last = results.at(-1);
      problems.push(`last run's stderr (tail): ${last?.stderr.slice(-1500) ?? ''}`);
    }
    return { seed: options.seed, behaviour: options.behaviour, profile: options.profile ?? 'default', shape: options.shape ?? (SHAPES[0] as WorldShape), kills, runs, stats: emulator.stats(), problems, outputDir, ms: Date.now() - started };
  } finally {
    await emulator.close();
  }
}

/**
 * Whether a run left the batch where reruns change nothing: every job succeeded, or (where lost
 * answers cannot be checked) the only others are unconfirmed, which no rerun resends.
 */
function settled(result: CliResult, outputDir: string, policy: UnconfirmedPolicy): boolean {
  if (result.code === 0) return true;
  if (result.code !== 1 || policy === 'none' || !existsSync(join(outputDir, 'report.json'))) return false;
  return readReport(outputDir).jobs.every((job) => job.status === 'succeeded' || job.status === 'unconfirmed');
}

export interface VerifyInput {
  readonly plan: Plan;
  readonly outputDir: string;
  readonly stats: EmulatorStats;
  readonly key: string;
  readonly outputs: readonly CliResult[];
  /** task_id → the external_task_id the provider created it with (see taskOwners). */
  readonly owners?: ReadonlyMap<string, string | undefined>;
  /** Which jobs may end unconfirmed (never with more than one task). @default 'none' */
  readonly unconfirmed?: UnconfirmedPolicy;
}

/**
 * The promises of a finished batch, from the emulator's books and the files on disk: each planned
 * job paid exactly once, its video on disk with the sha256 the report gives (and that video being
 * its own task's), the report listing every job once, no leftovers, and no trace of the key.
 */
export function verifyBatch({ plan, outputDir, stats, key, outputs, owners, unconfirmed: policy = 'none' }: VerifyInput): string[] {
  const problems: string[] = [];
  const planned = new Set(plan.jobs.map((job) => job.external_task_id));
  const reportFile = join(outputDir, 'report.json');
  const report = existsSync(reportFile) ? readReport(outputDir) : undefined;
  const unconfirmed = new Set(report?.jobs.filter((job) => policy !== 'none' && job.status === 'unconfirmed').map((job) => job.external_task_id) ?? []);
  for (const job of plan.jobs) {
    const created = stats.tasksByExternalId[job.external_task_id] ?? 0;
    // Never two; an unconfirmed job's one POST may or may not have made its task.
    const allowed = !unconfirmed.has(job.external_task_id) ? [1] : policy === 'any' ? [0, 1] : [0];
    if (!allowed.includes(created)) {
      problems.push(`${job.external_task_id}: ${created} task(s) created at the provider, expected ${allowed.join(' or ')}${unconfirmed.has(job.external_task_id) ? ' (the job ended unconfirmed)' : ''}`);
    }
  }
  for (const id of Object.keys(stats.tasksByExternalId)) if (!planned.has(id)) problems.push(`a task was created for an unplanned external id ${id}`);
  if (stats.tasksCreated > plan.jobs.length) problems.push(`${stats.tasksCreated} tasks created for ${plan.jobs.length} jobs`);

  if (!report) return [...problems, 'no report.json'];
  const taskIds = new Set<string>();
  for (const job of plan.jobs) {
    const entries = report.jobs.filter((entry) => entry.id === job.id);
    if (entries.length !== 1) {
      problems.push(`job ${job.id.slice(0, 12)} is listed ${entries.length} time(s) in the report`);
      continue;
    }
    const entry = entries[0]!;
    if (unconfirmed.has(job.external_task_id)) continue;
    if (entry.status !== 'succeeded') problems.push(`job ${job.id.slice(0, 12)} ended ${entry.status}${entry.error ? `: ${entry.error.message}` : ''}`);
    if (!entry.video?.path || !entry.video.sha256 || !entry.task_id) {
      problems.push(`job ${job.id.slice(0, 12)} has no video or task in the report`);
      continue;
    }
    taskIds.add(entry.task_id);
    // Not just some task: the one the provider created under this job's own external id.
    if (owners && owners.get(entry.task_id) !== job.external_task_id) problems.push(`job ${job.id.slice(0, 12)} holds task ${entry.task_id}, created for ${owners.get(entry.task_id) ?? 'no known external id'}`);
    const file = join(outputDir, entry.video.path);
    if (!existsSync(file)) {
      problems.push(`job ${job.id.slice(0, 12)}: ${entry.video.path} is missing`);
      continue;
    }
    const sha = sha256(readFileSync(file));
    if (sha !== entry.video.sha256) problems.push(`job ${job.id.slice(0, 12)}: ${entry.video.path} has sha256 ${sha}, the report says ${entry.video.sha256}`);
    if (sha !== sha256(videoFor(entry.task_id, job.request.duration ?? '5'))) problems.push(`job ${job.id.slice(0, 12)}: the file is not the video of its task ${entry.task_id}`);
  }
  if (taskIds.size !== plan.jobs.length - unconfirmed.size) problems.push(`${taskIds.size} distinct task ids for ${plan.jobs.length - unconfirmed.size} jobs with a video`);
  const others = report.jobs.filter((entry) => !plan.jobs.some((job) => job.id === entry.id));
  if (others.length > 0) problems.push(`the report lists ${others.length} job(s) that are not planned`);

  for (const file of filesUnder(outputDir)) {
    const relative = file.slice(outputDir.length + 1);
    // A download's `.part` is reused by the next try of the same job, so one left after a finished
    // batch is a leak. (A `<file>.<pid>.tmp` of an atomic write cut by a kill is inert: not checked.)
    if (/\.part$|\.stale$/.test(relative)) problems.push(`left behind: ${relative}`);
    if (leaksKey(readFileSync(file), key)) problems.push(`the API key (or 12 characters of it) appears in ${relative}`);
  }
  const lock = lockHolder(outputDir);
  if (lock.state !== 'free') problems.push(`the folder is still locked after the last run: ${JSON.stringify(lock)}`);
  outputs.forEach((output, i) => {
    if (leaksKey(output.stdout + output.stderr, key)) problems.push(`the API key (or 12 characters of it) appears in the output of run ${i + 1}`);
  });
  return problems;
}

/** Asks the provider (by task_id, with the key) which external_task_id each task was created with. */
export async function taskOwners(emulator: EmulatorHandle, key: string, taskIds: readonly string[]): Promise<Map<string, string | undefined>> {
  const owners = new Map<string, string | undefined>();
  const client = createClient({ baseUrl: emulator.url, apiKey: key });
  for (const taskId of taskIds) owners.set(taskId, (await client.getTask(taskId)).task_info?.external_task_id);
  return owners;
}

export const readReport = (outputDir: string): Report => reportSchema.parse(JSON.parse(readFileSync(join(outputDir, 'report.json'), 'utf8')));

/** The task ids report.json gives its jobs (none when there is no report). */
export function reportedTaskIds(outputDir: string): string[] {
  if (!existsSync(join(outputDir, 'report.json'))) return [];
  return readReport(outputDir).jobs.flatMap((job) => (job.task_id ? [job.task_id] : []));
}

/**
 * Whether any 12-character piece of the key is in `data`: "nothing of the key" includes a cut-off
 * prefix in an excerpt. (With a random key, 12 characters never match by chance in practice.)
 */
export function leaksKey(data: string | Buffer, key: string): boolean {
  for (let i = 0; i + 12 <= key.length; i++) if (data.includes(key.slice(i, i + 12))) return true;
  return false;
}

export function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((name) => join(dir, name))
    .filter((path) => statSync(path).isFile());
}

export const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

const sleep = (ms: number): Promise<'slept'> => new Promise((resolve) => setTimeout(() => resolve('slept'), ms));

/** Removes a batch's output folder (kept on failure, for a look). */
export const removeOutput = (dir: string): void => rmSync(dir, { recursive: true, force: true });

export type { EmulatorHandle };

/** A batch for tests that drive the CLI by hand: an emulator in this process, a fresh output folder. */
export interface CliBatch {
  readonly emu: EmulatorHandle;
  readonly plan: Plan;
  readonly outputDir: string;
  readonly key: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  /** Every finished run's result, for the key check. */
  readonly results: CliResult[];
  /** Runs the CLI to its end (recorded in `results`). */
  run(): Promise<CliResult>;
  runAfterTransit(): Promise<CliResult>;
  spawn(): CliProcess;
  events(): readonly JournalEvent[];
  /** verifyBatch over everything written and printed so far, task owners included. */
  problems(): Promise<string[]>;
}

export interface CliBatchOptions {
  readonly emulator?: EmulatorOptionsInput;
  readonly flags?: readonly string[];
  /** Registers the teardown (the emulator, the folder): vitest's onTestFinished. */
  readonly cleanup: (teardown: () => unknown) => void;
}

export async function cliBatch(manifest: string, options: CliBatchOptions): Promise<CliBatch> {
  const key = `sk-crash-${randomBytes(12).toString('hex')}`;
  const emu = await startEmulator({ keys: [key], timeScale: 0.004, queueS: 5, processingS: 45, ...options.emulator });
  const outputDir = mkdtempSync(join(tmpdir(), 'klingrun-cli-'));
  options.cleanup(async () => {
    await emu.close();
    removeOutput(outputDir);
  });
  const { plan } = await loadPlan(manifest);
  const args = runArgs(manifest, emu.url, outputDir, options.flags);
  const env = { COMETAPI_KEY: key };
  const results: CliResult[] = [];
  const run = async (): Promise<CliResult> => {
    const result = await spawnCli(args, { env }).done;
    results.push(result);
    return result;
  };
  return {
    emu,
    plan,
    outputDir,
    key,
    args,
    env,
    results,
    run,
    /** Runs again once a transit window has passed, as a run that left a create possibly on its way (exit 1) advises. */
    async runAfterTransit() {
      await sleep(TRANSIT_WINDOW_MS);
      return run();
    },
    spawn: () => spawnCli(args, { env }),
    events: () => journalEvents(join(outputDir, 'state.jsonl'), plan.name),
    async problems() {
      const owners = await taskOwners(emu, key, reportedTaskIds(outputDir));
      return verifyBatch({ plan, outputDir, stats: emu.stats(), key, outputs: results, owners });
    },
  };
}

/** One provider exchange as the client saw it. */
export interface Exchange {
  readonly method: string;
  readonly path: string;
  /** The external_task_id of a create call's body. */
  readonly externalTaskId?: string;
  /** undefined when no answer came (reset, timeout). */
  readonly status?: number;
  readonly retryAfter?: string | null;
  readonly sentAt: number;
  readonly answeredAt: number;
}

/** A fetch that records every exchange (for timing assertions such as "waited for Retry-After"). */
export function recordingFetch(log: Exchange[]): typeof fetch {
  return (async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(String(input));
    const body = typeof init?.body === 'string' ? (JSON.parse(init.body) as { external_task_id?: string }) : undefined;
    const base = { method: init?.method ?? 'GET', path: url.pathname + url.search, ...(body?.external_task_id ? { externalTaskId: body.external_task_id } : {}), sentAt: Date.now() };
    try {
      const response = await fetch(input, init);
      log.push({ ...base, status: response.status, retryAfter: response.headers.get('retry-after'), answeredAt: Date.now() });
      return response;
    } catch (error) {
      log.push({ ...base, answeredAt: Date.now() });
      throw error;
    }
  }) as typeof fetch;
}

export interface InProcessOptions {
  readonly key: string;
  /** A folder to reuse (a later run of the same batch); a fresh temp folder otherwise. */
  readonly outputDir?: string;
  /** Per provider request. @default 5_000 */
  readonly timeoutMs?: number;
  readonly limits?: RunOptionsInput;
  readonly seed?: number;
  /** Replaces parts of the runner's input (e.g. `fs` for a full disk, `downloadTimeoutMs`). */
  readonly overrides?: Partial<RunInput>;
  /** Provider exchanges are appended here. */
  readonly exchanges?: Exchange[];
}

export interface InProcessRun {
  readonly result: RunResult;
  /** The journal as written to state.jsonl. */
  readonly events: readonly JournalEvent[];
  readonly outputDir: string;
  readonly warnings: readonly string[];
}

/**
 * runJobs with the real client and journal against an emulator, on the real clock: the fault
 * matrix's fast path (no child process). Retries back off from 5 ms instead of 1 s and polls come
 * every 20 ms; everything else is what the CLI uses.
 */
export async function runInProcess(emulator: EmulatorHandle, plan: Plan, options: InProcessOptions): Promise<InProcessRun> {
  const outputDir = options.outputDir ?? mkdtempSync(join(tmpdir(), 'klingrun-faults-'));
  const warnings: string[] = [];
  const logger: Logger = { info: () => {}, warn: (message) => warnings.push(message), debug: () => {} };
  const events: JournalEvent[] = [];
  const journal = openJournal(join(outputDir, 'state.jsonl'), { name: plan.name, toolVersion: 'test', logger, onEvent: (event) => events.push(event) });
  const resolved = resolveRunOptions([{ poll_interval_s: 0.02, absence_window_s: 0.3 }, options.limits]);
  try {
    const result = await runJobs({
      plan,
      manifestDir: outputDir,
      outputDir,
      states: replay(events),
      journal: { append: (event) => events.push(journal.append(event)) },
      client: createClient({
        baseUrl: emulator.url,
        apiKey: options.key,
        timeoutMs: options.timeoutMs ?? 5_000,
        ...(options.exchanges ? { fetch: recordingFetch(options.exchanges) } : {}),
      }),
      options: { ...resolved, backoffBaseMs: 5, backoffCapMs: 50 },
      limiter: new RequestLimiter({ rpm: 100_000, clock: systemClock }),
      gate: new ConcurrencyGate({ max: resolved.concurrency }),
      clock: systemClock,
      random: seededRandom(options.seed ?? 1),
      logger,
      ...options.overrides,
    });
    return { result, events, outputDir, warnings };
  } finally {
    journal.close();
  }
}
