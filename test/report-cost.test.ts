// What a batch cost, as the report, the summary and `status` tell it: certain (succeeded), possible
// (every other task that exists or may), and measured (what the provider says it charged).
import { afterEach, describe, expect, it } from 'vitest';
import { formatCost } from '../src/cli/report-summary.js';
import { buildReport } from '../src/report/build.js';
import { replay } from '../src/runner/job-state.js';
import { type Harness, createHarness, makePlan } from './helpers/runner-harness.js';

let harness: Harness;
afterEach(() => harness?.cleanup());

const reportOf = (h: Harness, plan = makePlan(3, 0.35)) =>
  buildReport({ plan, states: replay(h.events), manifest: { path: 'm.yaml', sha256: 'm' }, toolVersion: 'test' });

describe('the cost of a batch', () => {
  it("records the provider's final_unit_deduction and shows it as measured next to the estimates", async () => {
    const plan = makePlan(3, 0.35);
    harness = createHarness(plan);
    harness.provider.units = 2.5;
    await harness.run();
    const report = reportOf(harness, plan);
    expect(report.jobs.map((job) => [job.units, job.measured_usd])).toEqual([[2.5, 0.35], [2.5, 0.35], [2.5, 0.35]]);
    expect(report.cost).toEqual({ certain_usd: 1.05, certain_adopted_usd: 0, possible_usd: 0, unknown_price_tasks: 0, measured_usd: 1.05, measured_jobs: 3, unit_price: { usd_per_unit: 0.14, from: 'default' } });
    expect(formatCost(report.cost)).toBe("Cost: $1.05 certain (succeeded). The provider reports $1.05 actually charged for 3 job(s), at $0.14 a unit (Kling's standard packs; set yours with --unit-price).");
  });

  it('counts failed, unconfirmed and earlier attempts as possible cost, never as nothing', async () => {
    const plan = makePlan(3, 0.35);
    harness = createHarness(plan);
    Object.assign(harness.provider, { externalLookup: false, listSupported: false });
    harness.provider.failPrompts.add('prompt 0');
    harness.provider.createScript = ['ok', 'ok', 'lost'];
    await harness.run();
    const report = reportOf(harness, plan);
    expect(report.jobs.map((job) => [job.status, job.tasks])).toEqual([
      ['failed', { certain: 0, possible: 1, adopted: 0 }],
      ['succeeded', { certain: 1, possible: 0, adopted: 0 }],
      ['unconfirmed', { certain: 0, possible: 1, adopted: 0 }],
    ]);
    expect(report.cost).toMatchObject({ certain_usd: 0.35, possible_usd: 0.7 });
    expect(formatCost(report.cost)).toMatch(/^Cost: \$0\.35 certain \(succeeded\), \$0\.70 possible \(tasks in flight, failed, timed out, unconfirmed or lost: the provider may bill them\)\.$/);
  });

  it('counts an orphaned job (a duplicate refusal says its task exists) as possible cost', () => {
    const plan = makePlan(1, 0.35);
    harness = createHarness(plan);
    const job = plan.jobs[0]!;
    harness.events.push(
      { ev: 'submitting', t: 1, job: job.id, attempt: 1, external_task_id: job.external_task_id, request: job.request },
      { ev: 'orphaned', t: 2, job: job.id, attempt: 1, external_task_id: job.external_task_id, message: 'exists, not found yet' },
    );
    const report = reportOf(harness, plan);
    expect(report.jobs.map((j) => [j.status, j.tasks])).toEqual([['orphaned', { certain: 0, possible: 1, adopted: 0 }]]);
    expect(report.cost).toMatchObject({ certain_usd: 0, possible_usd: 0.35 });
  });
});
