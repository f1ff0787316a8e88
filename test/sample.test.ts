// `--sample N`: a pilot spread over every variant, with the full run's ids, so the full run that
// follows pays for the rest only.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadPlan } from '../src/plan/index.js';
import { formatBudgetFit, formatSample, parseSample, sampleJobs } from '../src/plan/sample.js';
import type { PlannedJob } from '../src/plan/schema.js';
import { variantKey } from '../src/plan/variants.js';
import { selectJobs, shardJobs } from '../src/runner/select.js';
import { runInProcess } from './helpers/bad-input.js';
import { emulator as testEmulator } from './helpers/emulator.js';
import { tempTree } from './helpers/manifest.js';
import { makePlan } from './helpers/runner-harness.js';

/** `counts[v]` jobs for each variant v (a model of its own), variants interleaved as a matrix would. */
function variantJobs(counts: readonly number[]): PlannedJob[] {
  const base = makePlan(counts.reduce((a, b) => a + b, 0)).jobs;
  const models = counts.flatMap((count, v) => Array.from({ length: count }, () => `model-${v}`));
  return base.map((job, i) => ({ ...job, request: { ...job.request, model_name: models[i] as string } }));
}

const perVariant = (jobs: readonly PlannedJob[]): number[] => {
  const counts = new Map<string, number>();
  for (const job of jobs) counts.set(variantKey(job), (counts.get(variantKey(job)) ?? 0) + 1);
  return [...counts.values()];
};

const ids = (jobs: readonly PlannedJob[]) => jobs.map((job) => job.id);

describe('sampleJobs', () => {
  it.each([
    [[6, 6, 6, 6], 8, [2, 2, 2, 2]],
    [[6, 6, 6, 6], 6, [1, 2]],
    [[6, 6, 6, 6], 3, [0, 1]],
    [[10, 10, 10], 10, [3, 4]],
  ])('gives every variant of %j floor or ceil of %i/variants', (counts, n, allowed) => {
    const jobs = variantJobs(counts);
    const picked = sampleJobs(jobs, { count: n, seed: 1 });
    expect(picked).toHaveLength(n);
    const shares = counts.map((_, v) => picked.filter((job) => job.request.model_name === `model-${v}`).length);
    for (const share of shares) expect(allowed).toContain(share);
  });

  it('hands the share a small variant cannot fill to the others', () => {
    const jobs = variantJobs([1, 10, 10]);
    const shares = [0, 1, 2].map((v) => sampleJobs(jobs, { count: 9, seed: 1 }).filter((job) => job.request.model_name === `model-${v}`).length);
    expect(shares).toEqual([1, 4, 4]);
  });

  it('keeps plan order, and gives every job when N covers them all', () => {
    const jobs = variantJobs([5, 5, 5]);
    const picked = ids(sampleJobs(jobs, { count: 7, seed: 3 }));
    expect(picked).toEqual(ids(jobs).filter((id) => picked.includes(id)));
    expect(ids(sampleJobs(jobs, { count: 15, seed: 3 }))).toEqual(ids(jobs));
    expect(ids(sampleJobs(jobs, { count: 99, seed: 3 }))).toEqual(ids(jobs));
  });

  it('picks the same jobs for the same seed whatever the plan order, other jobs for another seed', () => {
    const jobs = variantJobs([20, 20, 20, 20]);
    const a = ids(sampleJobs(jobs, { count: 8, seed: 1 }));
    expect(new Set(ids(sampleJobs([...jobs].reverse(), { count: 8, seed: 1 })))).toEqual(new Set(a));
    expect(ids(sampleJobs(jobs, { count: 8, seed: 2 }))).not.toEqual(a);
  });

  it('grows a pilot: a larger N keeps every job a smaller one picked', () => {
    const jobs = variantJobs([7, 13, 3, 9]);
    let before: string[] = [];
    for (let n = 1; n <= jobs.length; n++) {
      const now = ids(sampleJobs(jobs, { count: n, seed: 5 }));
      expect(now).toEqual(expect.arrayContaining(before));
      before = now;
    }
  });
});

describe('selectJobs: shard, then only, then sample', () => {
  it('samples among the jobs --only selects, within the shard', () => {
    const jobs = variantJobs([10, 10, 10, 10]);
    const shard = shardJobs(jobs, { index: 1, count: 2 });
    const prefix = shard[0]!.id.slice(0, 1);
    const { selected, sample } = selectJobs(shard, new Map(), { only: prefix, sample: { count: 3, seed: 1 } });
    const pool = shard.filter((job) => job.id.startsWith(prefix));
    expect(sample?.pool).toEqual(pool);
    expect([...(selected ?? [])].every((id) => pool.some((job) => job.id === id))).toBe(true);
    expect(selected?.size).toBe(Math.min(3, pool.length));
  });

  it('without --sample or --only, selects nothing in particular (every job)', () => {
    expect(selectJobs(variantJobs([2]), new Map(), {})).toEqual({ selected: undefined });
  });
});

describe('parseSample', () => {
  it('reads N and the seed, with a fixed default seed', () => {
    expect(parseSample('8', undefined)).toEqual({ count: 8, seed: 1 });
    expect(parseSample('8', '0')).toEqual({ count: 8, seed: 0 });
    expect(parseSample(undefined, undefined)).toBeUndefined();
  });

  it.each([
    ['0', undefined, /--sample.*whole number of jobs >= 1/],
    ['2.5', undefined, /--sample/],
    ['x', undefined, /--sample/],
    ['8', '-1', /--sample-seed.*whole number >= 0/],
    [undefined, '3', /add `--sample N`/],
  ])('refuses --sample %s --sample-seed %s', (count, seed, message) => {
    expect(() => parseSample(count, seed)).toThrow(message);
  });
});

describe('what the plan says', () => {
  it('shows the sample, its seed, and per variant how many of how many and which', () => {
    const jobs = variantJobs([6, 6, 6, 6]);
    const picked = sampleJobs(jobs, { count: 8, seed: 4 });
    const text = formatSample(jobs, picked, { count: 8, seed: 4 });
    expect(text.split('\n')[0]).toBe(
      "sample: 8 of 24 job(s), over 4 of 4 variant(s) (--sample 8, seed 4; the same seed picks the same jobs). They keep the full run's ids: a run without --sample then submits only the rest.",
    );
    for (const job of picked) expect(text).toContain(job.external_task_id.slice(0, 11));
    expect(text.split('\n').slice(1).map((line) => line.replace(/\s+/g, ' ').trim().replace(/ kr-.*/, ''))).toEqual([
      'model-0 pro 5s 2 of 6',
      'model-1 pro 5s 2 of 6',
      'model-2 pro 5s 2 of 6',
      'model-3 pro 5s 2 of 6',
    ]);
  });

  it('under --budget, says which jobs fit: per variant, in plan order or from the sample', () => {
    const jobs = variantJobs([3, 3]);
    const fitting = jobs.slice(0, 4);
    const text = formatBudgetFit(jobs, fitting, false);
    expect(text?.split('\n')).toEqual([
      'budget: the 4 of 6 job(s) to submit that fit are taken from plan order (`--sample 4` would spread as many over every variant):',
      '  model-0 pro 5s  3 of 3',
      '  model-1 pro 5s  1 of 3',
    ]);
    expect(formatBudgetFit(jobs, [jobs[0]!, jobs[3]!], false)?.split('\n')[0]).toBe('budget: the 2 of 6 job(s) to submit that fit are taken from plan order:');
    expect(formatBudgetFit(jobs, fitting, true)?.split('\n')[0]).toBe('budget: the 4 of 6 job(s) to submit that fit are taken from the --sample selection, in plan order:');
    expect(formatBudgetFit(jobs, jobs, false)).toBeUndefined();
    expect(formatBudgetFit(jobs, [], false)).toBeUndefined();
  });
});

/** 6 images × 2 models × 2 modes = 24 jobs in 4 variants (images by URL: the emulator takes them unseen). */
const PILOT_MANIFEST = `version: 1
name: pilot
defaults:
  duration: 5
matrix:
  model_name: [kling-v2-6, kling-v2-5-turbo]
  mode: [std, pro]
jobs:
${['a', 'b', 'c', 'd', 'e', 'f'].map((n) => `  - { image: "https://img.test/${n}.png", prompt: "clip ${n}" }`).join('\n')}
`;

describe('klingrun plan --sample', () => {
  it('shows the pilot, its seed and cost; with --json, its jobs only (the ones run --sample picks)', async () => {
    const dir = tempTree({ 'jobs/pilot.yaml': PILOT_MANIFEST });
    const { plan } = await loadPlan('jobs/pilot.yaml', { cwd: dir });
    const text = await runInProcess(['plan', 'jobs/pilot.yaml', '--sample', '5', '--sample-seed', '7'], dir);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain('sample: 5 of 24 job(s), over 4 of 4 variant(s) (--sample 5, seed 7;');
    expect(text.stdout).toMatch(/\nThe pilot costs about \$\d+\.\d\d \(the whole batch about \$\d+\.\d\d\)\.\n/);
    const json = await runInProcess(['plan', 'jobs/pilot.yaml', '--sample', '5', '--sample-seed', '7', '--json'], dir);
    expect((JSON.parse(json.stdout) as { jobs: { id: string }[] }).jobs.map((job) => job.id)).toEqual(ids(sampleJobs(plan.jobs, { count: 5, seed: 7 })));
    const bad = await runInProcess(['plan', 'jobs/pilot.yaml', '--sample-seed', '7'], dir);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('add `--sample N`');
  });
});

describe('run --budget says which jobs fit', () => {
  it('per variant: in plan order, or from the --sample selection', async () => {
    const dir = tempTree({ 'jobs/pilot.yaml': PILOT_MANIFEST });
    // Over $1 without a terminal and without --yes: the run stops at the question, nothing sent.
    const plain = await runInProcess(['run', 'jobs/pilot.yaml', '--emulator', '--budget', '3'], dir);
    expect(plain.code).toBe(2);
    // A matrix over each entry: plan order spreads them already.
    expect(plain.stdout).toMatch(/\nbudget: the 10 of 24 job\(s\) to submit that fit are taken from plan order:\n {2}kling-v2-6 std 5s +3 of 6\n {2}kling-v2-6 pro 5s +3 of 6\n/);
    const sampled = await runInProcess(['run', 'jobs/pilot.yaml', '--emulator', '--budget', '1.5', '--sample', '8'], dir);
    expect(sampled.code).toBe(2);
    expect(sampled.stdout).toMatch(/\nbudget: the \d+ of 8 job\(s\) to submit that fit are taken from the --sample selection, in plan order:\n/);
    expect(sampled.stderr).toMatch(/This run would submit \d+ of 8 job\(s\)/);
  });
});

describe('a pilot, then the whole batch, against the emulator', () => {
  it('run --sample 8 then run: one create per job, the pilot not resubmitted, every video on disk', async () => {
    const dir = tempTree({ 'jobs/pilot.yaml': PILOT_MANIFEST });
    const emulator = await testEmulator({ timeScale: 0.002 });
    const env = { COMETAPI_KEY: 'emulator-key' };
    const run = (...extra: string[]) =>
      runInProcess(['run', 'jobs/pilot.yaml', '--base-url', emulator.url, '--yes', '--output', 'out', '--poll-interval', '0.05', '--rpm', '6000', '--concurrency', '24', ...extra], dir, env);
    const { plan } = await loadPlan('jobs/pilot.yaml', { cwd: dir });
    const pilotIds = sampleJobs(plan.jobs, { count: 8, seed: 1 }).map((job) => job.external_task_id);
    expect(perVariant(sampleJobs(plan.jobs, { count: 8, seed: 1 }))).toEqual([2, 2, 2, 2]);

    const pilot = await run('--sample', '8');
    expect(pilot.code, pilot.stderr).toBe(0);
    expect(pilot.stdout).toContain('sample: 8 of 24 job(s), over 4 of 4 variant(s) (--sample 8, seed 1;');
    expect(Object.keys(emulator.stats().tasksByExternalId).sort()).toEqual([...pilotIds].sort());
    // The rest is work left, not failures, nor a batch said to be done.
    expect(pilot.stdout).toContain('24 job(s): 8 succeeded, 16 pending.');
    expect(pilot.stdout).toMatch(/This was a pilot \(--sample\): 16 other job\(s\) of the batch are not run yet \(work left, not failures\)\. To run them, run the command without --sample; the pilot's jobs are not submitted again: .*run jobs\/pilot\.yaml --base-url \S+ --yes --output out --poll-interval 0\.05 --rpm 6000 --concurrency 24\n/);
    const status = await runInProcess(['status', 'out'], dir);
    expect(status.stdout).toContain('24 job(s): 8 succeeded, 16 pending.');
    // The same command picks the same jobs: a second pilot has nothing to submit.
    const again = await run('--sample', '8');
    expect(again.code, again.stderr).toBe(0);
    expect(emulator.stats().tasksCreated).toBe(8);

    const full = await run();
    expect(full.code, full.stderr).toBe(0);
    const stats = emulator.stats();
    expect(stats.tasksCreated).toBe(24);
    expect(Object.keys(stats.tasksByExternalId).sort()).toEqual(plan.jobs.map((job) => job.external_task_id).sort());
    expect(Object.values(stats.tasksByExternalId).every((n) => n === 1)).toBe(true);
    // Not even sent again (a refused duplicate costs nothing but would be a resubmit): the full
    // run's part of the journal submits the other 16 jobs only.
    const journal = readFileSync(join(dir, 'out', 'state.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { ev: string; job?: string });
    const lastRun = journal.map((event) => event.ev).lastIndexOf('run');
    const submitted = new Set(journal.slice(lastRun).flatMap((event) => (event.ev === 'submitting' && event.job ? [event.job] : [])));
    expect([...submitted].sort()).toEqual(plan.jobs.filter((job) => !pilotIds.includes(job.external_task_id)).map((job) => job.id).sort());
    expect(full.stdout).toContain('24 job(s): 24 succeeded.');
    const report = JSON.parse(readFileSync(join(dir, 'out', 'report.json'), 'utf8')) as { jobs: { status: string; video: { path: string | null } | null }[] };
    expect(report.jobs).toHaveLength(24);
    for (const job of report.jobs) {
      expect(job.status).toBe('succeeded');
      expect(existsSync(join(dir, 'out', job.video?.path ?? 'missing'))).toBe(true);
    }
  });
});
