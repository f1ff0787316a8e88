// Never pay twice in the world as it is: "not found" is not proof of absence, orphans heal, an
// edited manifest keeps its paid work, the budget counts what the provider may bill.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ProviderError } from '../src/api/errors.js';
import { formatReportSummary } from '../src/cli/report-summary.js';
import { buildReport } from '../src/report/build.js';
import type { DownloadFs } from '../src/runner/download.js';
import { nodeDownloadFs } from '../src/runner/download.js';
import { replay } from '../src/runner/job-state.js';
import { videoPath } from '../src/runner/paths.js';
import type { PlannedJob } from '../src/plan/schema.js';
import type { Limiter } from '../src/runner/context.js';
import type { JournalEvent } from '../src/state/events.js';
import { type Harness, TestGate, createHarness, eventsOf, makePlan } from './helpers/runner-harness.js';

let harness: Harness;
afterEach(() => harness?.cleanup());

const phases = (h: Harness) => [...replay(h.events).values()].map((s) => s.phase);
const stateOf = (h: Harness, id: string) => replay(h.events).get(id);
const sent = (h: Harness) => h.provider.created.map((b) => b.external_task_id);

/** An earlier run's POST of `job`, answered with a server error, its task not found then: settled, so absence can be proven. */
const answeredUnfound = (job: PlannedJob, t: number): JournalEvent[] => [
  { ev: 'submitting', t, job: job.id, attempt: 1, external_task_id: job.external_task_id, request: job.request },
  { ev: 'unconfirmed', t, job: job.id, attempt: 1, external_task_id: job.external_task_id, message: 'HTTP 500; not found yet', in_transit: false },
];

describe('"not found" is not proof of absence', () => {
  it('a provider that accepts duplicate ids and offers neither lookups nor the list: a lost answer leaves the job unconfirmed, never resent', async () => {
    const plan = makePlan(1);
    harness = createHarness(plan);
    Object.assign(harness.provider, { duplicates: 'accept', externalLookup: false, listSupported: false });
    harness.provider.createScript = ['lost'];
    await harness.run();
    expect(harness.provider.created).toHaveLength(1);
    expect(phases(harness)).toEqual(['submitting']);
    expect(stateOf(harness, plan.jobs[0]!.id)?.unconfirmed).toMatch(/neither lookups by external_task_id nor the task list/);
    // A rerun looks again and still never sends it.
    await harness.run();
    expect(harness.provider.created).toHaveLength(1);
    expect(eventsOf(harness.events, 'unconfirmed')).toHaveLength(1); // the same reason is not recorded twice
  });

  it('--resubmit-unconfirmed sends it again, with the same external id, and says it may pay twice', async () => {
    const plan = makePlan(1);
    harness = createHarness(plan);
    Object.assign(harness.provider, { duplicates: 'accept', externalLookup: false, listSupported: false });
    harness.provider.createScript = ['lost'];
    await harness.run();
    const warnings: string[] = [];
    await harness.run({ resubmitUnconfirmed: true, overrides: { logger: { info: () => {}, debug: () => {}, warn: (m) => warnings.push(m) } } });
    expect(sent(harness)).toEqual([plan.jobs[0]!.external_task_id, plan.jobs[0]!.external_task_id]);
    expect(warnings.join('\n')).toMatch(/--resubmit-unconfirmed\): this may pay twice/);
    expect(phases(harness)).toEqual(['downloaded']);
  });

  it('lookups that lag behind creates by seconds: the task is found within the window and adopted', async () => {
    harness = createHarness(makePlan(2));
    Object.assign(harness.provider, { duplicates: 'accept', lagMs: 20_000 });
    harness.provider.createScript = ['ok', 'lost'];
    await harness.run();
    expect(harness.provider.created).toHaveLength(2);
    expect([...harness.provider.createdPerExternalId().values()]).toEqual([1, 1]);
    expect(eventsOf(harness.events, 'adopted')).toMatchObject([{ via: 'lookup' }]);
    expect(phases(harness)).toEqual(['downloaded', 'downloaded']);
  });

  it('lookups that never find a task of this account prove nothing: unconfirmed, not resent', async () => {
    harness = createHarness(makePlan(3));
    Object.assign(harness.provider, { duplicates: 'accept', lookupBroken: true, listSupported: false });
    harness.provider.createScript = ['ok', 'ok', 'lost'];
    await harness.run();
    expect(harness.provider.created).toHaveLength(3);
    expect(phases(harness).sort()).toEqual(['downloaded', 'downloaded', 'submitting']);
  });

  it('a proven lookup path and a task unfound across the window: proven absent, sent again with the same id', async () => {
    const plan = makePlan(2);
    harness = createHarness(plan);
    Object.assign(harness.provider, { duplicates: 'accept' });
    // The first job's task exists (it proves lookups work); the second's POST was answered with a
    // server error (it cannot still be on its way) and made no task.
    await harness.run({ plan: { ...plan, jobs: [plan.jobs[0]!] } });
    const second = plan.jobs[1]!;
    harness.events.push(...answeredUnfound(second, harness.clock.now()));
    harness.clock.advance(10 * 60_000);
    await harness.run();
    expect(sent(harness)).toEqual([plan.jobs[0]!.external_task_id, second.external_task_id]);
    expect(eventsOf(harness.events, 'rejected')).toMatchObject([{ code: 'absent' }]);
    // The looks were spread over the window and more than one was made.
    expect(harness.provider.calls.filter((c) => c === 'lookup').length).toBeGreaterThanOrEqual(3);
    expect(phases(harness)).toEqual(['downloaded', 'downloaded']);
  });

  it('the consistency window is a setting: absence is proven only once it has passed since the submit', async () => {
    for (const windowS of [60, 300]) {
      const plan = makePlan(2);
      harness = createHarness(plan);
      Object.assign(harness.provider, { duplicates: 'accept' });
      await harness.run({ plan: { ...plan, jobs: [plan.jobs[0]!] } }); // proves that lookups find this account's tasks
      const second = plan.jobs[1]!;
      const sentAt = harness.clock.now();
      harness.events.push(...answeredUnfound(second, sentAt));
      await harness.run({ limits: { absence_window_s: windowS } });
      const [absent] = eventsOf(harness.events, 'rejected');
      expect(absent, `window ${windowS} s`).toMatchObject({ code: 'absent' });
      expect(absent!.t - sentAt, `window ${windowS} s`).toBeGreaterThanOrEqual(windowS * 1000);
      expect(absent!.t - sentAt, `window ${windowS} s`).toBeLessThan((windowS + 60) * 1000);
      harness.cleanup();
    }
  });

  it('a resumed job proven absent keeps its place in the budget until it is sent again', async () => {
    const plan = makePlan(3, 0.5);
    const [done, resumed, fresh] = plan.jobs as [PlannedJob, PlannedJob, PlannedJob];
    harness = createHarness(plan);
    Object.assign(harness.provider, { duplicates: 'accept' });
    await harness.run({ plan: { ...plan, jobs: [done] } }); // proves that lookups find this account's tasks
    harness.events.push(...answeredUnfound(resumed, harness.clock.now()));
    harness.clock.advance(10 * 60_000);
    // The worst interleaving, forced: the fresh job's budget check comes between the resumed job's
    // proof of absence and its resend.
    let proven = false;
    let absent = (): void => {};
    let decided = (): void => {};
    const absentSeen = new Promise<void>((resolve) => (absent = resolve));
    const freshDecided = new Promise<void>((resolve) => (decided = resolve));
    const gate = new TestGate(5);
    const acquire = gate.acquire.bind(gate);
    gate.acquire = async (signal) => {
      await absentSeen;
      await acquire(signal);
      setImmediate(decided); // after the check that follows the slot, and the launch
    };
    const limiter: Limiter = { take: async () => (proven ? freshDecided : undefined) };
    const onEvent = (event: JournalEvent): void => {
      if (event.ev === 'rejected' && event.job === resumed.id) {
        proven = true;
        absent();
      }
    };
    await harness.run({ limits: { budget_usd: 1.1 }, overrides: { gate, limiter, onEvent } });
    // $0.50 done + $0.50 resent = $1.00: the fresh job's $0.50 would go over $1.10.
    expect(sent(harness)).toEqual([done.external_task_id, resumed.external_task_id]);
    expect(stateOf(harness, fresh.id)?.phase).toBe('skipped_budget');
  });

  it('a list scan that stops before reaching tasks older than the submit says "unknown", not "not found"', async () => {
    harness = createHarness(makePlan(1));
    // Lookups off; 10,000 newer tasks of other shards fill the 20 pages a scan reads.
    Object.assign(harness.provider, { duplicates: 'accept', externalLookup: false, foreignTasks: 10_000 });
    harness.provider.createScript = ['lost'];
    await harness.run();
    expect(harness.provider.created).toHaveLength(1);
    expect(phases(harness)).toEqual(['submitting']);
    expect(replay(harness.events).values().next().value?.unconfirmed).toMatch(/did not reach tasks older than this job's submit/);
  });

  it('a list truncated by the provider (a full page, then nothing) proves nothing either', async () => {
    harness = createHarness(makePlan(1));
    Object.assign(harness.provider, { duplicates: 'accept', externalLookup: false, foreignTasks: 500, listMaxPages: 1 });
    harness.provider.createScript = ['lost'];
    await harness.run();
    expect(harness.provider.created).toHaveLength(1);
    expect(phases(harness)).toEqual(['submitting']);
  });
});

describe('orphaned jobs heal', () => {
  it('a duplicate refusal while lookups lag: looked up again within the run, adopted once visible', async () => {
    const plan = makePlan(1);
    const job = plan.jobs[0]!;
    harness = createHarness(plan);
    harness.provider.lagMs = 30_000;
    // Another folder created the task a moment ago: the pre-submit lookup cannot see it yet.
    await harness.provider.createTask({ image: 'https://img.test/0.png', external_task_id: job.external_task_id });
    harness.provider.created.length = 0;
    await harness.run();
    expect(harness.provider.created).toHaveLength(0);
    expect(eventsOf(harness.events, 'adopted')).toMatchObject([{ via: 'duplicate' }]);
    expect(phases(harness)).toEqual(['downloaded']);
  });

  it('an orphaned job from an earlier run is looked up again, adopted, and its video downloaded', async () => {
    const plan = makePlan(1);
    const job = plan.jobs[0]!;
    harness = createHarness(plan);
    const task = await harness.provider.createTask({ image: 'https://img.test/0.png', external_task_id: job.external_task_id });
    const t = harness.clock.now();
    harness.events.push(
      { ev: 'submitting', t, job: job.id, attempt: 1, external_task_id: job.external_task_id, request: job.request },
      { ev: 'orphaned', t, job: job.id, attempt: 1, external_task_id: job.external_task_id, message: 'exists, not found' },
    );
    await harness.run();
    expect(harness.provider.created).toHaveLength(1);
    expect(stateOf(harness, job.id)).toMatchObject({ phase: 'downloaded', taskId: task.task_id });
  });

  it('counts orphaned and unconfirmed jobs in the cost they may have incurred', async () => {
    harness = createHarness(makePlan(2, 0.5));
    Object.assign(harness.provider, { externalLookup: false, listSupported: false });
    harness.provider.createScript = ['lost'];
    const result = await harness.run({ limits: { budget_usd: 0.6 } });
    // The unconfirmed job's possible cost is committed: the second job would overshoot the budget.
    expect([...result.states.values()].map((s) => s.phase).sort()).toEqual(['skipped_budget', 'submitting']);
  });
});

describe('an edited manifest keeps its paid work', () => {
  it('tasks in flight under an earlier manifest are polled, downloaded to their recorded paths, and count against the budget', async () => {
    const before = makePlan(4, 0.33);
    harness = createHarness(before);
    // A run killed with four tasks in flight: only `submitting` and `submitted` reached the journal.
    for (const [i, job] of before.jobs.entries()) {
      const task = await harness.provider.createTask({ image: `https://img.test/${i}.png`, external_task_id: job.external_task_id });
      harness.events.push(
        { ev: 'submitting', t: harness.clock.now(), job: job.id, attempt: 1, external_task_id: job.external_task_id, request: job.request, path: `videos/old/${i}.mp4`, cost_usd: 0.33 },
        { ev: 'submitted', t: harness.clock.now(), job: job.id, attempt: 1, task_id: task.task_id },
      );
    }
    // The manifest changed (id_salt): four new jobs, none of the old ones.
    const after = makePlan(4, 0.33);
    for (const job of after.jobs) job.id = job.id.replace(/^./, (c) => (c === 'f' ? 'e' : 'f'));
    const result = await harness.run({ plan: after, limits: { budget_usd: 1.4 } });
    for (const [i, job] of before.jobs.entries()) {
      expect(stateOf(harness, job.id)?.phase).toBe('downloaded');
      expect(readFileSync(join(harness.outputDir, `videos/old/${i}.mp4`)).length).toBeGreaterThan(0);
    }
    expect(result.fromJournal.map((job) => job.id).sort()).toEqual(before.jobs.map((job) => job.id).sort());
    // $1.32 already paid under the earlier manifest: no new job fits under $1.40 (1.32 + 0.33 > 1.40).
    expect(harness.provider.created).toHaveLength(4);
    expect(after.jobs.map((job) => stateOf(harness, job.id)?.phase)).toEqual(['skipped_budget', 'skipped_budget', 'skipped_budget', 'skipped_budget']);
  });
});

describe('smaller defects', () => {
  it('a job skipped for budget after a failure starts a new attempt with a new external id', async () => {
    const plan = makePlan(1, 0.33);
    const job = plan.jobs[0]!;
    harness = createHarness(plan);
    harness.provider.failPrompts.add('prompt 0');
    await harness.run();
    expect(phases(harness)).toEqual(['failed']);
    // The failed task may be billed ($0.33): a second attempt would take committed cost to $0.66.
    await harness.run({ retryFailed: true, limits: { budget_usd: 0.5 } });
    expect(phases(harness)).toEqual(['skipped_budget']);
    harness.provider.failPrompts.clear();
    await harness.run({ retryFailed: true, limits: { budget_usd: 1 } });
    expect(sent(harness)).toEqual([job.external_task_id, `${job.external_task_id}-a2`]);
    expect(stateOf(harness, job.id)).toMatchObject({ phase: 'downloaded', attempt: 2, earlierTasks: 1 });
  });

  it('counts a failed task as possibly billed against the budget', async () => {
    harness = createHarness(makePlan(3, 0.33));
    harness.provider.failPrompts.add('prompt 0');
    await harness.run({ limits: { budget_usd: 0.7, concurrency: 1 } });
    expect(harness.provider.created).toHaveLength(2);
    expect(phases(harness)).toEqual(['failed', 'downloaded', 'skipped_budget']);
  });

  it('the task deadline starts when the provider accepted the task, not while it waited for a slot', async () => {
    harness = createHarness(makePlan(1));
    // 100 refusals, each followed by a backoff: longer than the 30-second deadline before the task exists.
    harness.provider.createScript = Array.from({ length: 100 }, () => 'reject-1303' as const);
    harness.provider.finishAfterPolls = 3;
    const start = harness.clock.now();
    await harness.run({ limits: { task_timeout_min: 0.5 } });
    const accepted = eventsOf(harness.events, 'submitted')[0]!.t;
    expect(accepted - start).toBeGreaterThan(30_000);
    expect(phases(harness)).toEqual(['downloaded']);
  });

  it('a write the disk takes only in part is finished, and the file on disk is what the journal records', async () => {
    harness = createHarness(makePlan(1));
    const halves: DownloadFs = {
      ...nodeDownloadFs,
      async open(path, flags) {
        const handle = await nodeDownloadFs.open(path, flags);
        return { write: (data) => handle.write(data.subarray(0, Math.ceil(data.length / 2))), sync: () => handle.sync(), close: () => handle.close() };
      },
    };
    const result = await harness.run({ overrides: { fs: halves } });
    const state = [...result.states.values()][0]!;
    expect(state.phase).toBe('downloaded');
    const onDisk = readFileSync(join(harness.outputDir, state.download!.path));
    expect(onDisk.length).toBe(state.download!.bytes);
  });

  it('a file that reads back different from what was downloaded is not recorded as downloaded', async () => {
    harness = createHarness(makePlan(1));
    const lie = Buffer.from('not the clip');
    const lying: DownloadFs = {
      ...nodeDownloadFs,
      openRead: async () => ({
        read: async (buffer, offset, length, position) => ({ bytesRead: lie.copy(buffer, offset, Math.min(position, lie.length), Math.min(position + length, lie.length)) }),
        close: async () => {},
      }),
    };
    const result = await harness.run({ overrides: { fs: lying } });
    const state = [...result.states.values()][0]!;
    expect(state.phase).toBe('succeeded');
    expect(state.downloadError).toMatch(/the file on disk does not match what was downloaded/);
    expect(eventsOf(harness.events, 'downloaded')).toHaveLength(0);
  });

  it('a disk that takes no bytes stops the run as a disk error, recording why the download gave up', async () => {
    harness = createHarness(makePlan(1));
    const full: DownloadFs = {
      ...nodeDownloadFs,
      async open(path, flags) {
        const handle = await nodeDownloadFs.open(path, flags);
        return { write: async () => ({ bytesWritten: 0 }), sync: () => handle.sync(), close: () => handle.close() };
      },
    };
    const result = await harness.run({ overrides: { fs: full } });
    expect((result.stopReason as NodeJS.ErrnoException).code).toBe('ENOSPC');
    expect(eventsOf(harness.events, 'download_failed')).toMatchObject([{ message: expect.stringMatching(/ENOSPC/) }]);
  });

  it('resume trusts an unchanged size and mtime without hashing, and hashes a file whose mtime moved', async () => {
    const plan = makePlan(2);
    harness = createHarness(plan);
    await harness.run();
    const [a, b] = plan.jobs.map((job) => join(harness.outputDir, videoPath(job)));
    const bytes = readFileSync(a!);
    const sameSize = Buffer.from(bytes.map((byte, i) => (i === 100 ? byte ^ 1 : byte)));
    const stateA = stateOf(harness, plan.jobs[0]!.id)!;
    // Same size, same mtime: taken as intact (that is the point of recording the mtime).
    const { utimesSync, statSync } = await import('node:fs');
    writeFileSync(a!, sameSize);
    utimesSync(a!, statSync(a!).atime, new Date(stateA.download!.mtime_ms!));
    // Same size, new mtime: hashed, found changed, downloaded again.
    writeFileSync(b!, sameSize);
    const fetched = harness.fetched.length;
    const result = await harness.run();
    expect(result.clips.get(plan.jobs[0]!.id)).toBe('intact');
    expect(result.clips.get(plan.jobs[1]!.id)).toBe('changed');
    expect(harness.fetched.length - fetched).toBe(1);
  });
});

describe('stopping', () => {
  it('Ctrl-C while a refused submit waits to try again leaves the job pending, not failed', async () => {
    harness = createHarness(makePlan(1));
    harness.provider.createScript = ['reject-1303', 'reject-1303', 'reject-1303'];
    const ctrlC = new AbortController();
    await harness.run({ overrides: { softSignal: ctrlC.signal, onEvent: (event) => void (event.ev === 'rejected' && ctrlC.abort()) } });
    expect(phases(harness)).toEqual(['pending']);
    expect(eventsOf(harness.events, 'failed')).toEqual([]);
  });
});

describe('a run that cannot make progress says so', () => {
  it('a provider that cannot be reached: a few quick tries, then the run stops with the reason; nothing is in flight', async () => {
    harness = createHarness(makePlan(5));
    harness.provider.unreachable = true;
    const start = harness.clock.now();
    const result = await harness.run();
    expect(result.stopReason).toBeInstanceOf(ProviderError);
    expect((result.stopReason as ProviderError).code).toBe('unreachable');
    expect(harness.provider.calls.length).toBeLessThanOrEqual(5);
    expect(harness.clock.now() - start).toBeLessThan(10_000);
    // A connection that was never made created no task: every job is back to pending.
    expect(phases(harness).every((p) => p === 'pending')).toBe(true);
  });

  it('a task the provider no longer knows ends lost_at_provider after the window; --retry-failed submits it again', async () => {
    const plan = makePlan(1);
    harness = createHarness(plan);
    harness.provider.finishAfterPolls = 1_000;
    // After two polls the provider forgets the task (restarted, purged).
    harness.provider.forgetAfterPolls = 2;
    await harness.run({ limits: { task_timeout_min: 60 } });
    const state = stateOf(harness, plan.jobs[0]!.id)!;
    expect(state.phase).toBe('lost_at_provider');
    expect(state.error?.message).toMatch(/no longer knows task T1/);
    // The summary names it, with why, among the jobs that need attention.
    const report = buildReport({ plan, states: replay(harness.events), manifest: { path: 'm.yaml', sha256: 'm' }, toolVersion: 'test' });
    const summary = formatReportSummary(report);
    expect(summary).toContain('1 job(s): 1 lost at provider.');
    expect(summary).toMatch(new RegExp(`Needs attention:\\n  ${plan.jobs[0]!.external_task_id} lost_at_provider: .*no longer knows task T1`));
    const polls = harness.provider.calls.filter((c) => c === 'get').length;
    expect(polls).toBeLessThan(100);
    Object.assign(harness.provider, { finishAfterPolls: 1, forgetAfterPolls: Infinity });
    await harness.run({ retryFailed: true });
    expect(sent(harness)).toEqual([plan.jobs[0]!.external_task_id, `${plan.jobs[0]!.external_task_id}-a2`]);
    expect(phases(harness)).toEqual(['downloaded']);
  });
});

describe('the provider, not the state file, decides whether a job was paid for', () => {
  it('a fresh folder adopts the task a run from another folder made, instead of paying again', async () => {
    const plan = makePlan(2);
    harness = createHarness(plan);
    harness.provider.duplicates = 'accept';
    await harness.provider.createTask({ image: 'https://img.test/0.png', external_task_id: plan.jobs[0]!.external_task_id });
    harness.clock.advance(60_000);
    await harness.run();
    expect([...harness.provider.createdPerExternalId().values()]).toEqual([1, 1]);
    expect(eventsOf(harness.events, 'adopted')).toMatchObject([{ via: 'lookup', job: plan.jobs[0]!.id, external_task_id: plan.jobs[0]!.external_task_id }]);
    expect(phases(harness)).toEqual(['downloaded', 'downloaded']);
  });

  it('stops asking once lookups prove unavailable, then submits as before', async () => {
    harness = createHarness(makePlan(20));
    harness.provider.externalLookup = false;
    await harness.run({ limits: { concurrency: 2 } });
    // Only the submits already under way when the first answer came asked.
    expect(harness.provider.calls.filter((c) => c === 'lookup').length).toBeLessThanOrEqual(2);
    expect(harness.provider.created).toHaveLength(20);
  });
});
