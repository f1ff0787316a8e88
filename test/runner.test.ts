// Runner behaviour against a scripted provider: never paying twice, resuming, budgets, stops.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ProviderError } from '../src/api/errors.js';
import { StateError } from '../src/errors.js';
import { replay } from '../src/runner/job-state.js';
import { videoPath } from '../src/runner/paths.js';
import { FAKE_MP4, type Harness, TestGate, createHarness, eventsOf, makePlan } from './helpers/runner-harness.js';

let harness: Harness;
afterEach(() => harness?.cleanup());

const phases = (h: Harness) => [...replay(h.events).values()].map((s) => s.phase);
const oncePerJob = (h: Harness) => [...h.provider.createdPerExternalId().values()].every((n) => n === 1);

describe('runJobs', () => {
  it('submits, polls and downloads every job, recording sha256 and paths', async () => {
    const plan = makePlan(3);
    harness = createHarness(plan);
    const result = await harness.run();
    expect(result.stopReason).toBeUndefined();
    expect(phases(harness)).toEqual(['downloaded', 'downloaded', 'downloaded']);
    expect(harness.provider.created).toHaveLength(3);
    const sha = createHash('sha256').update(FAKE_MP4).digest('hex');
    for (const job of plan.jobs) {
      const file = join(harness.outputDir, videoPath(job));
      expect(readFileSync(file)).toEqual(FAKE_MP4);
      expect(result.states.get(job.id)?.download).toMatchObject({ path: videoPath(job), sha256: sha, bytes: FAKE_MP4.length });
    }
    // `submitting` is always journaled before the create call's answer.
    const order = harness.events.filter((e) => e.ev === 'submitting' || e.ev === 'submitted').map((e) => e.ev);
    expect(order.filter((e) => e === 'submitting')).toHaveLength(3);
  });

  it('adopts the task of a lost answer found by external_task_id, creating nothing twice', async () => {
    harness = createHarness(makePlan(2));
    harness.provider.createScript = ['lost'];
    await harness.run();
    expect(oncePerJob(harness)).toBe(true);
    expect(harness.provider.created).toHaveLength(2);
    expect(eventsOf(harness.events, 'adopted')).toMatchObject([{ via: 'lookup' }]);
    expect(phases(harness)).toEqual(['downloaded', 'downloaded']);
  });

  it('falls back to the list when external-id lookups are not supported', async () => {
    harness = createHarness(makePlan(1));
    harness.provider.createScript = ['lost'];
    harness.provider.externalLookup = false;
    await harness.run();
    expect(harness.provider.created).toHaveLength(1);
    expect(eventsOf(harness.events, 'adopted')).toMatchObject([{ via: 'list' }]);
  });

  it('marks a job orphaned, never paying twice, when a duplicate id is refused and no lookup shows it', async () => {
    harness = createHarness(makePlan(1));
    harness.provider.createScript = ['reject-1201-duplicate'];
    harness.provider.externalLookup = false;
    harness.provider.listSupported = false;
    await harness.run();
    expect(harness.provider.created).toHaveLength(0);
    expect(phases(harness)).toEqual(['orphaned']);
  });

  it('resumes a job left in `submitting` by adopting its task instead of submitting again', async () => {
    harness = createHarness(makePlan(1));
    harness.provider.createScript = ['lost'];
    await harness.run();
    // Rewind the journal to a crash right after the `submitting` record was fsynced.
    harness.events.splice(harness.events.findIndex((e) => e.ev === 'submitting') + 1);
    expect(phases(harness)).toEqual(['submitting']);
    await harness.run();
    expect(harness.provider.created).toHaveLength(1);
    expect(eventsOf(harness.events, 'adopted')).toMatchObject([{ via: 'lookup' }]);
    expect(phases(harness)).toEqual(['downloaded']);
  });

  it('halves concurrency on 1303 and retries without using up retries', async () => {
    harness = createHarness(makePlan(2));
    harness.provider.createScript = ['reject-1303', 'reject-1303', 'reject-1303', 'reject-1303', 'reject-1303', 'reject-1303', 'reject-1303', 'reject-1303'];
    const gate = new TestGate(5);
    await harness.run({ overrides: { gate } });
    // Kling counts per model: a 1303 lowers the model's limit (per-model-concurrency.test.ts), not the account gate's.
    expect(gate.rejected).toBe(0);
    expect(phases(harness)).toEqual(['downloaded', 'downloaded']);
    expect(eventsOf(harness.events, 'rejected')).toHaveLength(8);
  });

  it('stops submitting on a balance refusal and reports it as the stop reason', async () => {
    harness = createHarness(makePlan(4));
    harness.provider.createScript = ['ok', 'reject-1102'];
    const result = await harness.run({ limits: { concurrency: 1 } });
    expect(result.stopReason).toBeInstanceOf(ProviderError);
    expect((result.stopReason as ProviderError).code).toBe(1102);
    expect(harness.provider.created).toHaveLength(1);
    // The job already in flight was still collected.
    expect(phases(harness).filter((p) => p === 'downloaded')).toHaveLength(1);
  });

  it('fails a job refused for its parameters, without retrying', async () => {
    harness = createHarness(makePlan(1));
    harness.provider.createScript = ['reject-1201'];
    await harness.run();
    expect(harness.provider.calls.filter((c) => c === 'create')).toHaveLength(1);
    expect(replay(harness.events).values().next().value).toMatchObject({ phase: 'failed', error: { code: 1201, retriable: false } });
  });

  it('retries a moderation failure only with --retry-failed, as attempt 2 with a new external id', async () => {
    const plan = makePlan(1);
    harness = createHarness(plan);
    harness.provider.failPrompts.add('prompt 0');
    await harness.run();
    expect(phases(harness)).toEqual(['failed']);
    await harness.run();
    expect(harness.provider.created).toHaveLength(1);
    harness.provider.failPrompts.clear();
    await harness.run({ retryFailed: true });
    expect(harness.provider.created.map((b) => b.external_task_id)).toEqual([plan.jobs[0]?.external_task_id, `${plan.jobs[0]?.external_task_id}-a2`]);
    expect(phases(harness)).toEqual(['downloaded']);
  });

  it('never lets committed cost exceed the budget', async () => {
    harness = createHarness(makePlan(5, 0.33));
    await harness.run({ limits: { budget_usd: 1 } });
    expect(harness.provider.created).toHaveLength(3);
    expect(phases(harness).filter((p) => p === 'skipped_budget')).toHaveLength(2);
    // A later run with a larger budget picks the skipped jobs up.
    await harness.run({ limits: { budget_usd: 2 } });
    expect(harness.provider.created).toHaveLength(5);
  });

  it('re-downloads a deleted video and asks for a fresh URL when one expired', async () => {
    const plan = makePlan(2);
    harness = createHarness(plan);
    await harness.run();
    const [a, b] = plan.jobs;
    rmSync(join(harness.outputDir, videoPath(a!)));
    const url = replay(harness.events).get(b!.id)?.video?.url as string;
    // b's file is intact: no download. a's is missing: downloaded again, its URL first answers 403.
    const urlA = replay(harness.events).get(a!.id)?.video?.url as string;
    harness.expireOnce.add(urlA);
    const fetchedBefore = harness.fetched.length;
    await harness.run();
    expect(existsSync(join(harness.outputDir, videoPath(a!)))).toBe(true);
    expect(harness.fetched.slice(fetchedBefore)).toEqual([urlA, urlA]);
    expect(harness.fetched).not.toContain(`${url}#again`);
    expect(harness.provider.created).toHaveLength(2);
  });

  it('stops polling when the key is revoked, leaving the task in the journal for the next run', async () => {
    harness = createHarness(makePlan(1));
    harness.provider.pollScript = ['revoked'];
    const result = await harness.run();
    expect((result.stopReason as ProviderError).errorClass).toBe('fatal-run');
    expect(phases(harness)).toEqual(['submitted']);
    await harness.run();
    expect(phases(harness)).toEqual(['downloaded']);
    expect(harness.provider.created).toHaveLength(1);
  });

  it('marks a task that never finishes as timed_out, and checks it again on the next run', async () => {
    harness = createHarness(makePlan(1));
    harness.provider.finishAfterPolls = 1_000;
    await harness.run({ limits: { task_timeout_min: 1 } });
    expect(phases(harness)).toEqual(['timed_out']);
    harness.provider.finishAfterPolls = 1;
    await harness.run({ limits: { task_timeout_min: 1 } });
    expect(harness.provider.created).toHaveLength(1);
    expect(phases(harness)).toEqual(['downloaded']);
  });
});

describe('downloads that fall behind', () => {
  it('hold back new submits: the videos waiting for a download slot stay a bounded few, and every job still finishes', async () => {
    harness = createHarness(makePlan(40));
    // Tasks finish at once on the virtual clock; each download takes a few real milliseconds.
    const slowFetch = (async () => {
      await new Promise((resolve) => setTimeout(resolve, 2));
      return new Response(FAKE_MP4, { status: 200, headers: { 'content-length': String(FAKE_MP4.length) } });
    }) as typeof fetch;
    let waiting = 0;
    let most = 0;
    const result = await harness.run({
      limits: { concurrency: 4, download_concurrency: 1 },
      overrides: {
        fetch: slowFetch,
        onEvent: (event) => {
          if (event.ev === 'succeeded') most = Math.max(most, ++waiting);
          if (event.ev === 'downloaded') waiting -= 1;
        },
      },
    });
    expect(phases(harness).filter((phase) => phase === 'downloaded')).toHaveLength(40);
    expect(result.stopReason).toBeUndefined();
    // At most the backlog (4) queued, one downloading, and the tasks in flight (4) finishing meanwhile.
    expect(most).toBeLessThanOrEqual(9);
  });
});

describe('a journal that cannot be written', () => {
  it('after a download: the run stops with the journal error, the clip is not fetched again and again', async () => {
    harness = createHarness(makePlan(1));
    const events = harness.events;
    const full = new StateError('state_invalid', 'Cannot write the journal: ENOSPC');
    const result = await harness.run({
      overrides: {
        journal: {
          append: (event) => {
            if (event.ev === 'downloaded') throw full;
            events.push(event);
          },
        },
      },
    });
    expect(result.stopReason).toBe(full);
    expect(harness.fetched).toHaveLength(1);
    expect(eventsOf(events, 'download_failed')).toEqual([]);
  });
});

describe('clip checks', () => {
  const served = (h: Harness, bytes: Buffer) => ({
    fetch: (async () => new Response(bytes, { status: 200, headers: { 'content-length': String(bytes.length) } })) as typeof fetch,
  });

  it('records duration and size from the MP4 header', async () => {
    harness = createHarness(makePlan(1));
    const result = await harness.run();
    expect([...result.states.values()][0]?.download).toMatchObject({ duration_s: 5, width: 256, height: 144 });
    expect([...result.states.values()][0]?.download?.warnings).toBeUndefined();
  });

  it('warns when the clip is not as long as requested', async () => {
    const plan = makePlan(1);
    plan.jobs[0]!.request.duration = '10';
    harness = createHarness(plan);
    const result = await harness.run();
    expect([...result.states.values()][0]?.download?.warnings).toEqual(['the video lasts 5.00 s but 10 s was requested']);
  });

  it('flags a file that is not a playable MP4 as invalid', async () => {
    harness = createHarness(makePlan(1));
    const corrupt = Buffer.concat([FAKE_MP4.subarray(0, 32), Buffer.alloc(200, 7)]);
    const result = await harness.run({ overrides: served(harness, corrupt) });
    const download = [...result.states.values()][0]?.download;
    expect(download?.invalid).toBe(true);
    expect(download?.warnings?.[0]).toMatch(/not a readable MP4/);
  });
});
