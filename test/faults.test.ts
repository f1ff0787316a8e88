// The fault matrix: every fault the provider can throw at a run, in each phase it can hit (submit,
// poll, download), against the emulator with the real client and journal. Each row states the job's
// terminal state, its journal story (events without status polls), the provider's books (tasks
// per external_task_id: nothing paid twice) and that the fault really fired as often as scripted.
// The exit-code cases (balance, key, failed jobs) run the CLI itself.
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';
import { PROVIDER_FAILURE_MESSAGE, type EmulatorHandle, type EmulatorOptionsInput, type FaultKind, type Route } from '../src/emulator/index.js';
import { videoFor } from '../src/emulator/videos.js';
import { systemClock } from '../src/effects.js';
import type { Plan } from '../src/plan/schema.js';
import { replay } from '../src/runner/job-state.js';
import type { JournalEvent } from '../src/state/events.js';
import { type Exchange, type InProcessRun, PROFILES, cliBatch, filesUnder, leaksKey, readReport, runInProcess, sha256 } from './helpers/crash.js';
import { body, call, create, emulator, get } from './helpers/emulator.js';
import { makePlan } from './helpers/runner-harness.js';

const KEY = `sk-faults-${randomBytes(12).toString('hex')}`;
/** A task takes 50 ms: 5 emulated seconds queued and 20 processing, at 1/500 speed. */
const FAST = { keys: [KEY], timeScale: 0.002, queueS: 5, processingS: 20 } as const satisfies EmulatorOptionsInput;

type Phase = 'submit' | 'poll' | 'download';
const ROUTE: Record<Phase, Route> = { submit: 'create', poll: 'get', download: 'download' };

/** A job's journal as a list of words: event types, with the detail that matters for each. */
function story(events: readonly JournalEvent[], jobId: string): string[] {
  return events.flatMap((event) => {
    if (!('job' in event) || event.job !== jobId || event.ev === 'status') return [];
    if (event.ev === 'rejected' || event.ev === 'failed') return [`${event.ev} ${String(event.code)}`];
    if (event.ev === 'adopted') return [`adopted by ${event.via}`];
    return [event.ev];
  });
}

const FINISH = ['succeeded', 'downloaded'];

interface Row {
  readonly name: string;
  readonly phase: Phase;
  readonly kind: FaultKind;
  /** Times the fault fires. */
  readonly count: number;
  readonly story: readonly string[];
  /** The job's final phase. @default 'downloaded' */
  readonly end?: 'downloaded' | 'failed' | 'submitting';
  /** Tasks created for the job. @default 1 */
  readonly tasks?: number;
  /** Requests made to video URLs. */
  readonly downloads?: number;
  /** Waits short enough for a hang to end the request (the real ones are 30 s and 120 s). */
  readonly hangs?: boolean;
  /** The account already holds a task of another run, so lookups can be proven to work. */
  readonly seeded?: boolean;
}

/**
 * Answers that replace the call: nothing was created, but the runner cannot know that. It looks the
 * task up over the absence window and, lookups being proven on this account, sends the same
 * external id again. Each comes with the code its refusal is journaled under.
 */
const SETTLED: ReadonlyArray<readonly [string, FaultKind, string]> = [
  ['HTTP 500, code 5000', 'http500', '5000'],
  ['HTTP 503, code 5001', 'http503', '5001'],
  ['HTTP 500, HTML body', 'html500', 'http'],
  ['HTTP 503, HTML body', 'html503', 'http'],
];
/**
 * No final answer (none at all, or a gateway's "the provider did not answer in time"): the POST may
 * still reach the provider after any window, so "not found" proves nothing. On a provider not seen
 * to refuse duplicate ids, the job is left unconfirmed instead of being sent again.
 */
const IN_TRANSIT: ReadonlyArray<readonly [string, FaultKind, string]> = [
  ['HTTP 504, code 5002', 'http504', '5002'],
  ['HTTP 502 then 504, HTML bodies', 'html5xx', 'http'],
  ['connection reset', 'reset', 'network'],
  ['timeout (no answer at all)', 'hang', 'timeout'],
];
const PREEMPTING = [...SETTLED, ...IN_TRANSIT];
/** Answers lost after the call took effect: on a create, a task exists and must be found, not paid again. */
const EFFECTFUL: ReadonlyArray<readonly [string, FaultKind]> = [
  ['lost response', 'lost-response'],
  ['truncated JSON', 'malformed-json'],
  ['malformed JSON (a shape no provider sends)', 'unexpected-json'],
  ['timeout after the call took effect', 'hang-after-call'],
];
/** Download faults that answer, but not with the video. */
const NOT_THE_VIDEO: ReadonlySet<FaultKind> = new Set(['http500', 'http503', 'http504', 'html500', 'html503', 'html5xx']);
const isHang = (kind: FaultKind): boolean => kind === 'hang' || kind === 'hang-after-call';

const ROWS_WITHOUT_WAITS: readonly Row[] = [
  ...SETTLED.map(([name, kind, code]): Row => ({
    name,
    phase: 'submit',
    kind,
    count: 2,
    seeded: true,
    story: ['submitting', `rejected ${code}`, 'submitting', `rejected ${code}`, 'submitting', 'submitted', ...FINISH],
  })),
  ...IN_TRANSIT.map(([name, kind]): Row => ({ name, phase: 'submit', kind, count: 1, seeded: true, end: 'submitting', tasks: 0, story: ['submitting', 'unconfirmed'] })),
  // On an account with no task anywhere, nothing can prove that lookups would show one: the job is left alone.
  { name: 'HTTP 503 on an empty account', phase: 'submit', kind: 'http503', count: 1, end: 'submitting', tasks: 0, story: ['submitting', 'unconfirmed'] },
  ...EFFECTFUL.map(([name, kind]): Row => ({ name, phase: 'submit', kind, count: 1, story: ['submitting', 'adopted by lookup', ...FINISH] })),
  { name: '1302 without Retry-After', phase: 'submit', kind: 'rate1302', count: 2, story: ['submitting', 'rejected 1302', 'submitting', 'rejected 1302', 'submitting', 'submitted', ...FINISH] },
  { name: '1303 concurrency storm', phase: 'submit', kind: 'storm1303', count: 2, story: ['submitting', 'rejected 1303', 'submitting', 'rejected 1303', 'submitting', 'submitted', ...FINISH] },
  { name: 'the older envelope shape', phase: 'submit', kind: 'legacy-envelope', count: 1, story: ['submitting', 'submitted', ...FINISH] },
  { name: 'provider-side task failure', phase: 'submit', kind: 'task-failure', count: 1, end: 'failed', story: ['submitting', 'submitted', 'failed task_failed'] },
  ...[...PREEMPTING, ...EFFECTFUL, ['1302 without Retry-After', 'rate1302'] as const, ['the older envelope shape', 'legacy-envelope'] as const].map(
    ([name, kind]): Row => ({ name, phase: 'poll', kind, count: 2, story: ['submitting', 'submitted', ...FINISH] }),
  ),
  // An answer that is not the video may be a stale URL whatever its status: the task is looked up once for a fresh one.
  ...[...PREEMPTING, ['lost response', 'lost-response'] as const, ['truncated download', 'truncated-download'] as const].map(
    ([name, kind]): Row => ({ name, phase: 'download', kind, count: 2, downloads: 3, story: ['submitting', 'submitted', ...(NOT_THE_VIDEO.has(kind) ? ['succeeded'] : []), ...FINISH] }),
  ),
];
const ROWS = ROWS_WITHOUT_WAITS.map((row): Row => ({ ...row, hangs: isHang(row.kind) }));

/** A task made by another run on the account, before any fault is armed. */
async function seedAccount(emu: EmulatorHandle): Promise<void> {
  const answer = await call(emu, 'POST', '/kling/v1/videos/image2video', { key: KEY, body: body({ external_task_id: 'another-run-1' }) });
  expect(answer.json?.code, answer.text).toBe(0);
}

/** One job (kling-v2-5-turbo pro 5 s, an image URL the emulator accepts unseen). */
function planOf(count = 1, prompt?: string): Plan {
  const plan = makePlan(count);
  return prompt === undefined ? plan : { ...plan, jobs: plan.jobs.map((job) => ({ ...job, request: { ...job.request, prompt } })) };
}

async function runRow(emu: EmulatorHandle, plan: Plan, options: { hangs?: boolean; exchanges?: Exchange[] } = {}): Promise<InProcessRun> {
  const run = await runInProcess(emu, plan, {
    key: KEY,
    ...(options.hangs ? { timeoutMs: 250, overrides: { downloadTimeoutMs: 250 } } : {}),
    ...(options.exchanges ? { exchanges: options.exchanges } : {}),
  });
  onTestFinished(() => rmSync(run.outputDir, { recursive: true, force: true }));
  return run;
}

/** The checks every row shares: books, final state, the video's bytes, no key on disk. */
function checkJob(emu: EmulatorHandle, run: InProcessRun, job: Plan['jobs'][number], expected: { end: string; tasks: number }): void {
  const stats = emu.stats();
  expect(stats.tasksByExternalId[job.external_task_id] ?? 0, 'tasks created for the job').toBe(expected.tasks);
  const state = replay(run.events).get(job.id);
  expect(state?.phase).toBe(expected.end);
  // One attempt, one external id, however many times it was sent.
  const ids = new Set(run.events.flatMap((e) => (e.ev === 'submitting' && e.job === job.id ? [e.external_task_id] : [])));
  expect([...ids]).toEqual([job.external_task_id]);
  if (expected.end === 'downloaded') {
    const file = join(run.outputDir, state?.download?.path ?? '');
    const bytes = readFileSync(file);
    expect(sha256(bytes)).toBe(state?.download?.sha256);
    expect(sha256(bytes), 'the video of its own task').toBe(sha256(videoFor(state?.taskId ?? '', '5')));
  }
  for (const file of filesUnder(run.outputDir)) expect(leaksKey(readFileSync(file), KEY), file).toBe(false);
  expect(filesUnder(run.outputDir).filter((f) => f.endsWith('.part'))).toEqual([]);
}

describe.each(PROFILES)('fault matrix (%s profile): one fault, one phase, one job', (profile) => {
  it.each(ROWS.map((row) => [`${row.phase}: ${row.name} (${row.kind} ×${row.count})`, row] as const))('%s', async (_, row) => {
    const emu = await emulator({ ...FAST, profile });
    if (row.seeded) await seedAccount(emu);
    emu.configure({ faults: [{ kind: row.kind, on: [ROUTE[row.phase]], count: row.count, p: 1 }] });
    const plan = planOf();
    const job = plan.jobs[0]!;
    const run = await runRow(emu, plan, { hangs: row.hangs });
    expect(emu.stats().faultsFired, 'the fault fired as scripted').toEqual({ [row.kind]: row.count });
    expect(story(run.events, job.id)).toEqual(row.story);
    checkJob(emu, run, job, { end: row.end ?? 'downloaded', tasks: row.tasks ?? 1 });
    if (row.downloads !== undefined) expect(emu.stats().requestsByRoute.download).toBe(row.downloads);
    expect(run.result.stopReason).toBeUndefined();
  });
});

interface ScenarioRow {
  readonly name: string;
  readonly emulator: EmulatorOptionsInput;
  readonly prompt?: string;
  readonly story: readonly string[];
  readonly end: 'downloaded' | 'failed' | 'orphaned' | 'submitting';
  readonly tasks: number;
}

/** Faults whose meaning depends on how the provider finds tasks, and content refusals. */
const SCENARIOS: readonly ScenarioRow[] = [
  {
    name: 'lost create answer, lookups off: found in the list',
    emulator: { externalIdLookup: false, faults: [{ kind: 'lost-response', on: ['create'], count: 1 }] },
    story: ['submitting', 'adopted by list', ...FINISH],
    end: 'downloaded',
    tasks: 1,
  },
  {
    name: 'lost create answer, lookups answering 5xx at first: retried until found',
    emulator: { faults: [{ kind: 'lost-response', on: ['create'], count: 1 }, { kind: 'http503', on: ['get'], count: 2 }] },
    story: ['submitting', 'adopted by lookup', ...FINISH],
    end: 'downloaded',
    tasks: 1,
  },
  // Neither lookups nor the list: a lost answer cannot be checked, whatever the provider does with duplicates.
  ...(['reject', 'return-existing', 'accept'] as const).map(
    (duplicateExternalId): ScenarioRow => ({
      name: `lost create answer, no lookup, no list, duplicates ${duplicateExternalId}: unconfirmed, never sent again`,
      emulator: { externalIdLookup: false, listSupported: false, duplicateExternalId, faults: [{ kind: 'lost-response', on: ['create'], count: 1 }] },
      story: ['submitting', 'unconfirmed'],
      end: 'submitting',
      tasks: 1,
    }),
  ),
  {
    name: 'lost create answer, lookups lagging 10 s behind creates, duplicates accepted: found once visible, not paid twice',
    emulator: { duplicateExternalId: 'accept', lookupLagS: 10, faults: [{ kind: 'lost-response', on: ['create'], count: 1 }] },
    story: ['submitting', 'adopted by lookup', ...FINISH],
    end: 'downloaded',
    tasks: 1,
  },
  {
    name: 'lost create answer, lookups off, a large account whose list stops after two pages, duplicates accepted: found in the list',
    emulator: { duplicateExternalId: 'accept', externalIdLookup: false, foreignTasks: 1_500, listMaxPages: 2, faults: [{ kind: 'lost-response', on: ['create'], count: 1 }] },
    story: ['submitting', 'adopted by list', ...FINISH],
    end: 'downloaded',
    tasks: 1,
  },
  {
    name: 'lost create answer, duplicates accepted, lookups on: adopted, not paid twice',
    emulator: { duplicateExternalId: 'accept', faults: [{ kind: 'lost-response', on: ['create'], count: 1 }] },
    story: ['submitting', 'adopted by lookup', ...FINISH],
    end: 'downloaded',
    tasks: 1,
  },
  {
    name: 'moderation refusal at submit (1301): failed, retriable by --retry-failed, nothing paid',
    emulator: {},
    prompt: 'a harbor [[reject]]',
    story: ['submitting', 'rejected 1301', 'failed 1301'],
    end: 'failed',
    tasks: 0,
  },
  {
    name: 'moderation failure of the task: failed with the provider message',
    emulator: {},
    prompt: 'a harbor [[moderate]]',
    story: ['submitting', 'submitted', 'failed moderation'],
    end: 'failed',
    tasks: 1,
  },
];

describe.each(PROFILES)('fault matrix (%s profile): reconciling and refusals', (profile) => {
  it.each(SCENARIOS.map((row) => [row.name, row] as const))('%s', async (_, row) => {
    const emu = await emulator({ ...FAST, profile, ...row.emulator });
    const plan = planOf(1, row.prompt);
    const job = plan.jobs[0]!;
    const run = await runRow(emu, plan);
    for (const fault of row.emulator.faults ?? []) expect(emu.stats().faultsFired[fault.kind]).toBe(fault.count);
    expect(story(run.events, job.id)).toEqual(row.story);
    checkJob(emu, run, job, { end: row.end, tasks: row.tasks });
    if (row.end === 'failed') expect(replay(run.events).get(job.id)?.error?.retriable).toBe(true);
  });

  it('1302 with Retry-After: every refused submit is sent again no sooner than the provider asked', async () => {
    // 2 requests per 120 ms: three concurrent submits, and the polls, run into the limit.
    const emu = await emulator({ ...FAST, rpm: 2 });
    const plan = planOf(3);
    const exchanges: Exchange[] = [];
    const run = await runRow(emu, plan, { exchanges });
    const refused = exchanges.filter((x) => x.method === 'POST' && x.status === 429);
    expect(refused.length).toBeGreaterThan(0);
    for (const answer of refused) {
      expect(answer.retryAfter).toMatch(/^\d+(\.\d+)?$/);
      const next = exchanges.find((x) => x.method === 'POST' && x.externalTaskId === answer.externalTaskId && x.sentAt >= answer.answeredAt);
      // 2 ms of slack: Retry-After is rounded to whole milliseconds.
      expect(next!.sentAt - answer.answeredAt).toBeGreaterThanOrEqual(Number(answer.retryAfter) * 1000 - 2);
    }
    // The journal holds exactly the refusals the provider sent.
    expect(run.events.filter((e) => e.ev === 'rejected' && e.code === 1302)).toHaveLength(refused.length);
    for (const job of plan.jobs) checkJob(emu, run, job, { end: 'downloaded', tasks: 1 });
  });

  it('expired video URL: asks the provider for a fresh one, then downloads', async () => {
    // The emulator's clock jumps past the URL's lifetime just before the first download.
    let offset = 0;
    const clock = { now: () => Date.now() + offset, sleep: systemClock.sleep };
    const emu = await emulator({ ...FAST, urlTtlS: 60, clock });
    const plan = planOf();
    const job = plan.jobs[0]!;
    let jumped = false;
    const expiringFetch = ((input: string | URL | Request, init?: RequestInit) => {
      if (!jumped) offset += 60 * 1000 * FAST.timeScale + 50;
      jumped = true;
      return fetch(input, init);
    }) as typeof fetch;
    const run = await runInProcess(emu, plan, { key: KEY, overrides: { fetch: expiringFetch } });
    onTestFinished(() => rmSync(run.outputDir, { recursive: true, force: true }));
    expect(story(run.events, job.id)).toEqual(['submitting', 'submitted', 'succeeded', 'succeeded', 'downloaded']);
    const urls = run.events.flatMap((e) => (e.ev === 'succeeded' ? [e.videos[0]?.url] : []));
    expect(new Set(urls).size).toBe(2);
    expect(emu.stats().requestsByRoute.download).toBe(2); // 403, then the file
    checkJob(emu, run, job, { end: 'downloaded', tasks: 1 });
  });
});

describe('emulator fault kinds added for the matrix', () => {
  it('http504 and rate1302 answer JSON envelopes; rate1302 has no Retry-After; nothing is created', async () => {
    const emu = await emulator({ faults: [{ kind: 'http504', count: 1 }, { kind: 'rate1302', count: 1 }] });
    const first = await create(emu, body());
    const second = await create(emu, body());
    expect([first.status, first.json.code, second.status, second.json.code]).toEqual([504, 5002, 429, 1302]);
    expect(second.headers.get('retry-after')).toBeNull();
    expect(emu.stats()).toMatchObject({ tasksCreated: 0, http429ByCode: { 1302: 1 } });
  });

  it.each([
    ['html500', 500, 'Internal Server Error'],
    ['html503', 503, 'Service Temporarily Unavailable'],
  ] as const)('%s answers an HTML page with status %i', async (kind, status, reason) => {
    const emu = await emulator({ faults: [{ kind, count: 1 }] });
    const reply = await create(emu, body());
    expect([reply.status, reply.json, reply.headers.get('content-type')]).toEqual([status, undefined, 'text/html; charset=utf-8']);
    expect(reply.text).toContain(`${status} ${reason}`);
    expect(emu.stats().tasksCreated).toBe(0);
  });

  it('unexpected-json: the task is created, the answer is valid JSON of no known shape', async () => {
    const emu = await emulator({ faults: [{ kind: 'unexpected-json', on: ['create'], count: 1 }] });
    const reply = await create(emu, body({ external_task_id: 'odd-1' }));
    expect(reply.status).toBe(200);
    expect(reply.json.code).toBeUndefined();
    expect(emu.stats().tasksByExternalId).toEqual({ 'odd-1': 1 });
  });

  it('hang-after-call: the task is created, no answer comes', async () => {
    const emu = await emulator({ faults: [{ kind: 'hang-after-call', on: ['create'], count: 1 }] });
    await expect(call(emu, 'POST', '/kling/v1/videos/image2video', { body: body({ external_task_id: 'hung-1' }), timeoutMs: 150 })).rejects.toThrow(/abort|timeout/i);
    expect(emu.stats().tasksByExternalId).toEqual({ 'hung-1': 1 });
    expect((await get(emu, 'hung-1')).json.data.task_info.external_task_id).toBe('hung-1');
  });
});

const PAIR = fileURLToPath(new URL('fixtures/crash/pair.yaml', import.meta.url));
const BATCH = fileURLToPath(new URL('fixtures/crash/batch.yaml', import.meta.url));

const batchOf = (manifest: string, emulatorOptions: EmulatorOptionsInput = {}, flags: readonly string[] = []) =>
  cliBatch(manifest, { emulator: emulatorOptions, flags, cleanup: (teardown) => onTestFinished(async () => void (await teardown())) });

const statusesOf = (outputDir: string): string[] => readReport(outputDir).jobs.map((job) => job.status).sort();

describe('fault matrix through the CLI: exit codes', () => {
  it('balance running out mid-run: exit 3, no more submits, the tasks in flight still collected', async () => {
    // Six concurrent submits against a balance that pays for three.
    const batch = await batchOf(BATCH, { balanceUsd: 1.05 }, ['--concurrency', '6']);
    const first = await batch.run();
    expect(first.code, first.stderr).toBe(3);
    expect(first.stderr).toContain('the provider refused the run (1102)');
    expect(batch.emu.stats().tasksCreated).toBe(3);
    expect(statusesOf(batch.outputDir)).toEqual(['pending', 'pending', 'pending', 'succeeded', 'succeeded', 'succeeded']);
    const events = batch.events();
    expect(events.filter((e) => e.ev === 'downloaded')).toHaveLength(3);
    expect(events.filter((e) => e.ev === 'rejected').every((e) => e.ev === 'rejected' && e.code === 1102)).toBe(true);
    expect(events.some((e) => e.ev === 'failed')).toBe(false);

    batch.emu.configure({ balanceUsd: 100 });
    const second = await batch.run();
    expect(second.code, second.stderr).toBe(0);
    // Each job paid once, its own video on disk, no key in the files or the output of either run.
    expect(await batch.problems()).toEqual([]);
  });

  it('Ctrl-C once: no new submits, the tasks in flight are followed and downloaded, exit 130; a rerun finishes', async () => {
    const batch = await batchOf(BATCH, { processingS: 60 }, ['--concurrency', '2']);
    const cli = batch.spawn();
    expect(await cli.waitFor((lines) => lines.filter((line) => line.includes(': submitted, task')).length === 2)).toBe(true);
    cli.child.kill('SIGINT');
    const first = await cli.done;
    batch.results.push(first);
    expect(first.code, first.stderr).toBe(130);
    expect(first.stderr).toContain('no new submits');
    expect(batch.emu.stats().tasksCreated).toBe(2);
    expect(statusesOf(batch.outputDir).filter((s) => s === 'succeeded')).toHaveLength(2);
    expect(statusesOf(batch.outputDir).filter((s) => s === 'pending')).toHaveLength(4);
    const second = await batch.run();
    expect(second.code, second.stderr).toBe(0);
    expect(await batch.problems()).toEqual([]);
  });

  it('key revoked mid-run: exit 3, the tasks stay in the journal, a rerun with a valid key collects them', async () => {
    const batch = await batchOf(PAIR, { processingS: 100 });
    const cli = batch.spawn();
    expect(await cli.waitFor((lines) => lines.filter((line) => line.includes(': submitted, task')).length === 2)).toBe(true);
    batch.emu.configure({ keys: [] });
    const first = await cli.done;
    batch.results.push(first);
    expect(first.code, first.stderr).toBe(3);
    expect(first.stderr).toMatch(/refused the run \(100[0-4]\)/);
    expect(statusesOf(batch.outputDir)).toEqual(['in_flight', 'in_flight']);
    expect(batch.events().some((e) => e.ev === 'failed' || e.ev === 'rejected')).toBe(false);

    batch.emu.configure({ keys: [batch.key] });
    const second = await batch.run();
    expect(second.code, second.stderr).toBe(0);
    expect(await batch.problems()).toEqual([]);
  });

  it('a key the provider does not accept: exit 3 at the first submit, nothing created, the key not shown', async () => {
    const batch = await batchOf(PAIR, { keys: ['some-other-key'] });
    const result = await batch.run();
    expect(result.code, result.stderr).toBe(3);
    expect(result.stderr).toContain('the provider refused the run (1002)');
    expect(leaksKey(result.stdout + result.stderr, batch.key)).toBe(false);
    expect(batch.emu.stats().tasksCreated).toBe(0);
    expect(statusesOf(batch.outputDir)).toEqual(['pending', 'pending']);
  });

  it('a create that times out after taking effect (--request-timeout): the task is adopted, exit 0', async () => {
    const batch = await batchOf(PAIR, { faults: [{ kind: 'hang-after-call', on: ['create'], count: 1 }] }, ['--request-timeout', '0.5']);
    const result = await batch.run();
    expect(result.code, result.stderr).toBe(0);
    expect(batch.events().filter((e) => e.ev === 'adopted')).toMatchObject([{ via: 'lookup' }]);
    expect(await batch.problems()).toEqual([]);
  });

  it('a provider-side task failure: exit 1, the other job still succeeds', async () => {
    const batch = await batchOf(PAIR, { faults: [{ kind: 'task-failure', count: 1 }] });
    const result = await batch.run();
    expect(result.code, result.stderr).toBe(1);
    expect(statusesOf(batch.outputDir)).toEqual(['failed', 'succeeded']);
    expect(result.stderr).toContain(PROVIDER_FAILURE_MESSAGE);
    expect(batch.emu.stats().tasksByExternalId).toEqual(Object.fromEntries(batch.plan.jobs.map((job) => [job.external_task_id, 1])));
  });
});
