// `--shard i/n` and `--only`: which jobs a run may submit, and a shard's run saying which it is.
import { describe, expect, it } from 'vitest';
import { replay } from '../src/runner/job-state.js';
import { formatSummary } from '../src/cli/summary.js';
import { loadModelTable, loadPriceTable } from '../src/data/tables.js';
import type { PlannedJob } from '../src/plan/schema.js';
import { resolveRunOptions } from '../src/runner/options.js';
import { parseShard, selectOnly, shardJobs } from '../src/runner/select.js';
import { createHarness, makePlan } from './helpers/runner-harness.js';

describe('--shard', () => {
  const slicesOf = (jobs: readonly PlannedJob[], count: number) => Array.from({ length: count }, (_, i) => shardJobs(jobs, { index: i + 1, count }).map((j) => j.id));

  it.each([
    [12, 4],
    [5, 4],
    [3, 4],
    [7, 3],
    [400, 4],
    [1001, 7],
  ])('splits %i jobs into %i disjoint slices that cover every job, sizes differing by at most one', (jobs, count) => {
    const plan = makePlan(jobs);
    const slices = slicesOf(plan.jobs, count);
    expect(new Set(slices.flat()).size).toBe(jobs);
    expect(slices.flat()).toHaveLength(jobs);
    const sizes = slices.map((slice) => slice.length);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
  });

  it('is deterministic: the same job lands in the same shard whatever the plan order, kept in plan order', () => {
    const plan = makePlan(50);
    const a = shardJobs(plan.jobs, { index: 2, count: 3 }).map((j) => j.id);
    const b = shardJobs([...plan.jobs].reverse(), { index: 2, count: 3 }).map((j) => j.id);
    expect(new Set(a)).toEqual(new Set(b));
    expect(a).toEqual(plan.jobs.map((j) => j.id).filter((id) => a.includes(id)));
  });

  it('moves few jobs when the manifest gains jobs: at most n-1 per job added', () => {
    const plan = makePlan(120);
    const before = slicesOf(plan.jobs.slice(0, 100), 4);
    for (const added of [1, 5, 20]) {
      const after = slicesOf(plan.jobs.slice(0, 100 + added), 4);
      const moved = before.flatMap((slice, i) => slice.filter((id) => !after[i]!.includes(id)));
      expect(moved.length).toBeLessThanOrEqual(3 * added);
    }
  });

  it('has the run say which shard it is', () => {
    const plan = makePlan(12);
    const slice = { ...plan, jobs: shardJobs(plan.jobs, { index: 2, count: 4 }) };
    const options = resolveRunOptions([]);
    expect(formatSummary({ plan: slice, toSubmit: slice.jobs, options, tables: { models: loadModelTable(), prices: loadPriceTable() }, shard: { index: 2, count: 4, batchJobs: 12 } }).split('\n').slice(0, 2)).toEqual([
      'test: 3 job(s) planned, 3 to run.',
      'shard 2/4: 3 of 12 jobs',
    ]);
    expect(formatSummary({ plan: slice, toSubmit: [], todo: 0, options, tables: { models: loadModelTable(), prices: loadPriceTable() }, shard: { index: 2, count: 4, batchJobs: 12 } })).toBe('test: 3 job(s) planned, nothing to run: all 3 have already finished.\nshard 2/4: 3 of 12 jobs');
  });

  it.each(['0/2', '3/2', 'x', '1/0', '1-2'])('refuses %s', (text) => {
    expect(() => parseShard(text)).toThrow(/--shard/);
  });
});

describe('--only', () => {
  it('selects failed or timed-out jobs from the journal, or jobs by id or external id prefix', async () => {
    const plan = makePlan(3);
    const harness = createHarness(plan);
    try {
      harness.provider.failPrompts.add('prompt 1');
      await harness.run();
      const states = replay(harness.events);
      const [a, b] = plan.jobs;
      expect([...selectOnly('failed', plan.jobs, states)]).toEqual([b?.id]);
      expect(selectOnly('timed_out', plan.jobs, states).size).toBe(0);
      expect([...selectOnly(a!.id.slice(0, 8), plan.jobs, states)]).toEqual([a?.id]);
      expect([...selectOnly(a!.external_task_id.slice(0, 10), plan.jobs, states)]).toEqual([a?.id]);
      expect(() => selectOnly('ffffffffffff', plan.jobs, states)).toThrow(/matches no job/);

      // Rerunning only the failed one starts attempt 2 for it and submits nothing else.
      harness.provider.failPrompts.clear();
      await harness.run({ retryFailed: true, overrides: { selected: selectOnly('failed', plan.jobs, states) } });
      expect(harness.provider.created.map((body) => body.external_task_id)).toEqual([a?.external_task_id, b?.external_task_id, plan.jobs[2]?.external_task_id, `${b?.external_task_id}-a2`]);
    } finally {
      harness.cleanup();
    }
  });
});
