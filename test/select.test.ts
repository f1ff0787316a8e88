// `--shard i/n` and `--only`: which jobs a run may submit.
import { describe, expect, it } from 'vitest';
import { replay } from '../src/runner/job-state.js';
import { inShard, parseShard, selectOnly } from '../src/runner/select.js';
import { createHarness, makePlan } from './helpers/runner-harness.js';

describe('--shard', () => {
  it('splits a plan into n disjoint slices that cover every job, evenly', () => {
    const plan = makePlan(400);
    const slices = [1, 2, 3, 4].map((index) => plan.jobs.filter((job) => inShard(job, { index, count: 4 })).map((j) => j.id));
    expect(new Set(slices.flat()).size).toBe(400);
    expect(slices.flat()).toHaveLength(400);
    for (const slice of slices) expect(slice.length).toBeGreaterThan(60);
  });

  it('is deterministic: the same job lands in the same shard whatever the plan order', () => {
    const plan = makePlan(50);
    const a = plan.jobs.filter((job) => inShard(job, { index: 2, count: 3 })).map((j) => j.id);
    const b = [...plan.jobs].reverse().filter((job) => inShard(job, { index: 2, count: 3 })).map((j) => j.id);
    expect(new Set(a)).toEqual(new Set(b));
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
