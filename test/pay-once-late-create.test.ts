// A create that reaches the provider late: a gateway holds the POST past the client's timeout and
// past the absence window, then the provider makes the task. "Not found" proves nothing about a
// POST that may still be on its way: it is sent again only where a duplicate refusal, seen in this
// run, shows that a late first POST and a resend cannot both make a task.
import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { ProviderError } from '../src/api/errors.js';
import type { CreateTaskBody, Task } from '../src/api/schemas.js';
import type { EmulatorOptionsInput } from '../src/emulator/index.js';
import type { Plan } from '../src/plan/schema.js';
import { replay } from '../src/runner/job-state.js';
import type { RunOptionsInput } from '../src/runner/options.js';
import type { RunResult } from '../src/runner/run.js';
import { tasksOf } from '../src/runner/spend.js';
import type { JournalEvent } from '../src/state/events.js';
import { type InProcessRun, runInProcess } from './helpers/crash.js';
import { body, call, emulator } from './helpers/emulator.js';
import { FakeClock } from './helpers/fake-clock.js';
import { FakeProvider } from './helpers/fake-provider.js';
import { type Harness, createHarness, makePlan } from './helpers/runner-harness.js';

const REQUEST_TIMEOUT_MS = 30_000;

/**
 * A provider behind a gateway that sits on the first POST of chosen external ids for `holdMs`.
 * The held task is made, at its time, as the provider is next asked anything (or `landDue()`).
 */
class GatewayHeldProvider extends FakeProvider {
  readonly held = new Set<string>();
  holdMs = 100_000;
  readonly #inTransit: { body: CreateTaskBody; at: number }[] = [];

  constructor(readonly clock: FakeClock) {
    super();
    this.now = () => clock.now();
  }

  /** A task made under `externalTaskId` now, by someone else (another folder's run). */
  madeElsewhere(externalTaskId: string): void {
    void super.createTask({ image: 'https://img.test/a.png', external_task_id: externalTaskId }); // stored before it first waits
  }

  /** Makes the tasks of the held POSTs whose time has come, whoever still waits for their answer. */
  async landDue(): Promise<void> {
    const now = this.clock.now();
    for (const post of this.#inTransit.filter((p) => p.at <= now)) {
      this.#inTransit.splice(this.#inTransit.indexOf(post), 1);
      this.now = () => post.at;
      try {
        await super.createTask(post.body).catch(() => {}); // a refused duplicate: nobody hears of it
      } finally {
        this.now = () => this.clock.now();
      }
    }
  }

  override async createTask(body: CreateTaskBody): Promise<Task> {
    await this.landDue();
    if (!this.held.delete(String(body.external_task_id))) return super.createTask(body);
    this.calls.push('create');
    this.#inTransit.push({ body, at: this.clock.now() + this.holdMs });
    await this.clock.sleep(REQUEST_TIMEOUT_MS);
    throw new ProviderError(`no answer within ${REQUEST_TIMEOUT_MS} ms (POST /kling/v1/videos/image2video)`, { code: 'timeout', errorClass: 'retryable-server' });
  }

  override async getTask(taskId: string): Promise<Task> {
    await this.landDue();
    return super.getTask(taskId);
  }

  override async findByExternalId(externalTaskId: string): Promise<Task | null> {
    await this.landDue();
    return super.findByExternalId(externalTaskId);
  }

  override async listTasks(options: { pageNum: number; pageSize: number }): Promise<Task[]> {
    await this.landDue();
    return super.listTasks(options);
  }
}

/** Runs the harness on the fake clock, moving it on whenever the run waits. */
async function drive(clock: FakeClock, run: Promise<RunResult>): Promise<RunResult> {
  let settled = false;
  void run.finally(() => (settled = true)).catch(() => {});
  while (!settled) if (!(await clock.next())) await new Promise((resolve) => setTimeout(resolve, 1));
  return run;
}

let harness: Harness;
afterEach(() => harness?.cleanup());

function world(plan: Plan, duplicates: 'accept' | 'reject') {
  harness = createHarness(plan);
  const clock = new FakeClock();
  const provider = new GatewayHeldProvider(clock);
  provider.duplicates = duplicates;
  const run = (options: { resubmitUnconfirmed?: boolean; limits?: RunOptionsInput; onEvent?: (event: JournalEvent) => void } = {}) => {
    const { onEvent, ...rest } = options;
    return drive(clock, harness.run({ ...rest, overrides: { client: provider, clock, ...(onEvent ? { onEvent } : {}) } }));
  };
  return { clock, provider, run };
}

const story = (events: readonly JournalEvent[], jobId: string): string[] =>
  events.flatMap((e) => (!('job' in e) || e.job !== jobId || e.ev === 'status' ? [] : [e.ev === 'adopted' ? `adopted by ${e.via}` : e.ev === 'rejected' ? `rejected ${String(e.code)}` : e.ev]));

describe('a create held by a gateway past the timeout and the absence window', () => {
  it('duplicates accepted: one paid task, the job unconfirmed (not resent), and a rerun adopts the late task', async () => {
    const plan = makePlan(2);
    const [first, late] = plan.jobs as [Plan['jobs'][number], Plan['jobs'][number]];
    const { clock, provider, run } = world(plan, 'accept');
    provider.held.add(late.external_task_id);
    await run(); // the first job's task proves that lookups find this account's tasks
    await clock.advance(provider.holdMs);
    await provider.landDue(); // the gateway lets go
    expect(provider.createdPerExternalId().get(late.external_task_id), 'tasks paid for the late job').toBe(1);
    const state = replay(harness.events).get(late.id);
    expect(state?.phase).toBe('submitting');
    expect(state?.unconfirmed).toMatch(/^The submit got no answer \(no answer within 30000 ms.*may still reach the provider/);
    expect(harness.events.find((e) => e.ev === 'unconfirmed')).toMatchObject({ in_transit: true });
    expect(tasksOf(state)).toEqual({ certain: 0, possible: 1, adopted: 0 });

    await run();
    expect(provider.createdPerExternalId().get(late.external_task_id)).toBe(1);
    expect(story(harness.events, late.id)).toEqual(['submitting', 'unconfirmed', 'adopted by lookup', 'succeeded', 'downloaded']);
    expect(replay(harness.events).get(first.id)?.phase).toBe('downloaded');
  });

  it('a rerun that still does not find it leaves it unconfirmed: the in-transit POST still proves nothing', async () => {
    const plan = makePlan(2);
    const late = plan.jobs[1]!;
    const { provider, run } = world(plan, 'accept');
    provider.held.add(late.external_task_id);
    provider.holdMs = 24 * 3_600_000; // never within these runs
    await run();
    await run();
    expect(provider.createdPerExternalId().get(late.external_task_id)).toBeUndefined();
    expect(story(harness.events, late.id)).toEqual(['submitting', 'unconfirmed']);
  });

  it('duplicates refused: resent only once a refusal in this run has shown it, then refused as a duplicate and the late task adopted', async () => {
    const plan = makePlan(4);
    // The first job's task proves that lookups find this account's tasks.
    const [, before, other, after] = plan.jobs as [Plan['jobs'][number], Plan['jobs'][number], Plan['jobs'][number], Plan['jobs'][number]];
    const { provider, run } = world(plan, 'reject');
    provider.lagMs = 50_000; // lookups see a task 50 s after its create
    provider.holdMs = 60_000; // made 60 s after its POST, visible at 110 s: after the window, before the resend's looks end
    provider.held.add(before.external_task_id).add(after.external_task_id);
    // Once the first job is left alone, another folder makes a task under the middle job's id: its
    // POST meets a duplicate refusal. One job after the other, in plan order.
    const onEvent = (event: JournalEvent): void => {
      if (event.ev === 'unconfirmed' && event.job === before.id) provider.madeElsewhere(other.external_task_id);
    };
    await run({ limits: { concurrency: 1 }, onEvent });
    // Nothing had shown yet that this provider refuses duplicates: not sent again.
    expect(story(harness.events, before.id)).toEqual(['submitting', 'unconfirmed']);
    expect(story(harness.events, other.id)).toEqual(['submitting', 'adopted by duplicate', 'succeeded', 'downloaded']);
    // Now it had: "not found" is enough, and the resend meets the late task.
    expect(story(harness.events, after.id)).toEqual(['submitting', 'rejected timeout', 'submitting', 'adopted by duplicate', 'succeeded', 'downloaded']);
    for (const job of [before, other, after]) expect(provider.createdPerExternalId().get(job.external_task_id), job.external_task_id).toBe(1);
  });

  /**
   * A first job run to its end (it proves that lookups find this account's tasks), then a run
   * killed while its POST of the second job was under way, and a rerun `laterMs` after the kill.
   */
  async function rerunAfterKill(laterMs: number) {
    const plan = makePlan(2);
    const [first, killed] = plan.jobs as [Plan['jobs'][number], Plan['jobs'][number]];
    const { clock, provider, run } = world(plan, 'accept');
    await drive(clock, harness.run({ plan: { ...plan, jobs: [first] }, overrides: { client: provider, clock } }));
    harness.events.push({ ev: 'submitting', t: clock.now(), job: killed.id, attempt: 1, external_task_id: killed.external_task_id, request: killed.request });
    await clock.advance(laterMs);
    await run();
    return { provider, killed };
  }

  it('a run killed during its POST knows no more than one that timed out: the rerun does not send it again on "not found"', async () => {
    const { provider, killed } = await rerunAfterKill(10 * 60_000);
    expect(provider.createdPerExternalId().get(killed.external_task_id)).toBeUndefined();
    expect(story(harness.events, killed.id)).toEqual(['submitting', 'unconfirmed']);
    expect(harness.events.find((e) => e.ev === 'unconfirmed')).toMatchObject({ in_transit: true, message: expect.stringMatching(/^An earlier submit may have created its task, .*may still reach the provider/) });
  });

  it('past the transit window a POST can no longer arrive: the rerun proves it absent and sends it once', async () => {
    const { provider, killed } = await rerunAfterKill(16 * 60_000); // past the default transit window of 15 minutes
    expect(story(harness.events, killed.id)).toEqual(['submitting', 'rejected absent', 'submitting', 'submitted', 'succeeded', 'downloaded']);
    expect(provider.createdPerExternalId().get(killed.external_task_id)).toBe(1);
  });

  it('a transit window that ends within the absence window is waited out: the late task is found, not paid twice', async () => {
    const plan = makePlan(2);
    const late = plan.jobs[1]!;
    const { provider, run } = world(plan, 'accept');
    provider.held.add(late.external_task_id);
    // Held 100 s; the client gives up at 30 s; 80 s of transit end 50 s later, within the 60 s window.
    await run({ limits: { transit_window_s: 80 } });
    expect(story(harness.events, late.id)).toEqual(['submitting', 'adopted by lookup', 'succeeded', 'downloaded']);
    expect(provider.createdPerExternalId().get(late.external_task_id)).toBe(1);
  });

  it('--resubmit-unconfirmed sends it again, and the report counts the first POST as a possible cost', async () => {
    const plan = makePlan(2);
    const late = plan.jobs[1]!;
    const { clock, provider, run } = world(plan, 'accept');
    provider.held.add(late.external_task_id);
    provider.holdMs = 24 * 3_600_000;
    await run();
    await run({ resubmitUnconfirmed: true });
    const state = replay(harness.events).get(late.id);
    expect(state?.phase).toBe('downloaded');
    // The held POST may still make a second task: one certain, one possible.
    expect(tasksOf(state)).toEqual({ certain: 1, possible: 1, adopted: 0 });
    await clock.advance(provider.holdMs);
    await provider.landDue();
    expect(provider.createdPerExternalId().get(late.external_task_id)).toBe(2);
  });
});

describe('emulator: the `late-create` fault', () => {
  const KEY = 'late-create-key';
  /** 1/500 speed: the 1,000 emulated seconds a create is held take 2 real seconds. */
  const options = { keys: [KEY], timeScale: 0.002, queueS: 5, processingS: 20, duplicateExternalId: 'accept', lateCreateS: 1_000 } as const satisfies EmulatorOptionsInput;

  async function until(check: () => boolean): Promise<void> {
    for (let i = 0; i < 500 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  }

  it('holds the create, then makes its task: with duplicates accepted, a run pays once and leaves the job unconfirmed; a rerun adopts it', async () => {
    const emu = await emulator(options);
    // Another run's task on the account: lookups can be proven to find this account's tasks.
    expect((await call(emu, 'POST', '/kling/v1/videos/image2video', { key: KEY, body: body({ external_task_id: 'another-run-1' }) })).json?.code).toBe(0);
    emu.configure({ faults: [{ kind: 'late-create', on: ['create'], count: 1, p: 1 }] });
    const plan = makePlan(1);
    const job = plan.jobs[0]!;
    const runs: InProcessRun[] = [];
    try {
      runs.push(await runInProcess(emu, plan, { key: KEY, timeoutMs: 250 }));
      expect(emu.stats().faultsFired).toEqual({ 'late-create': 1 });
      expect(replay(runs[0]!.events).get(job.id)?.phase).toBe('submitting');
      await until(() => emu.stats().tasksByExternalId[job.external_task_id] !== undefined);
      expect(emu.stats().tasksByExternalId[job.external_task_id], 'the held create made its task').toBe(1);

      runs.push(await runInProcess(emu, plan, { key: KEY, outputDir: runs[0]!.outputDir }));
      expect(replay(runs[1]!.events).get(job.id)?.phase).toBe('downloaded');
      expect(emu.stats().tasksByExternalId[job.external_task_id], 'paid once').toBe(1);
    } finally {
      for (const run of runs) rmSync(run.outputDir, { recursive: true, force: true });
    }
  });
});
