// Concurrency as Kling counts it: per model version. A batch over two models runs each model up to
// its own limit at once, a full model never holds up the other, and a 1303 lowers the model's limit.
import { describe, expect, it } from 'vitest';
import { formatSummary } from '../src/cli/summary.js';
import { loadModelTable, loadPriceTable } from '../src/data/tables.js';
import { resolveRunOptions } from '../src/runner/options.js';
import type { JournalEvent } from '../src/state/events.js';
import { emulatedBatch, twoModels } from './helpers/emulated-run.js';
import { makePlan } from './helpers/runner-harness.js';

const A = 'kling-v3';
const B = 'kling-v2-6';

/** The model of each `submitting` record, in journal order. */
function submitsByModel(events: readonly JournalEvent[]): string[] {
  return events.flatMap((event) => (event.ev === 'submitting' ? [event.request.model_name ?? '?'] : []));
}

describe('per-model concurrency', () => {
  it("two models with a limit of 2 each run 4 tasks at once; the second model's jobs do not wait behind the first's", async () => {
    // All of model A's jobs come first in plan order.
    const plan = twoModels(makePlan(12), 6, A, B);
    const batch = await emulatedBatch(plan, { concurrency: 4, concurrencyPerModel: 2, processingS: 120 }); // long enough to overlap at 1000x
    const result = await batch.run({ concurrency: 4, concurrency_per_model: 2 });

    expect([...result.states.values()].map((state) => state.phase)).toEqual(Array(12).fill('downloaded'));
    // The first four submits: both models' slots filled at once.
    expect(submitsByModel(batch.events).slice(0, 4).sort()).toEqual([B, B, A, A].sort());
    const stats = batch.emulator.stats();
    expect(stats.http429ByCode[1303]).toBe(0);
    expect(stats.peakConcurrentTasks).toBe(4);
  });

  it("a model's lower limit at the provider is found from its 1303s, while the other model keeps its slots", async () => {
    const plan = twoModels(makePlan(12), 6, A, B);
    // The provider allows model A only 1 at once; the runner was told 3 per model.
    const batch = await emulatedBatch(plan, { concurrency: 6, concurrencyPerModel: { [A]: 1, [B]: 3 }, processingS: 120 });
    const result = await batch.run({ concurrency: 6, concurrency_per_model: 3 });

    expect([...result.states.values()].map((state) => state.phase)).toEqual(Array(12).fill('downloaded'));
    const refused = batch.events.filter((event) => event.ev === 'rejected' && event.code === 1303).map((event) => ('job' in event ? event.job : ''));
    const modelOf = new Map(plan.jobs.map((job) => [job.id, job.request.model_name]));
    expect(refused.length).toBeGreaterThan(0);
    expect(refused.every((id) => modelOf.get(id) === A)).toBe(true);
    expect(batch.emulator.stats().peakConcurrentTasks).toBeGreaterThanOrEqual(3);
  });

  it('the summary before a run says the per-model limits beside the total', () => {
    const plan = twoModels(makePlan(4), 2, A, B);
    const limitsLine = (limits: Parameters<typeof resolveRunOptions>[0][number]): string | undefined =>
      formatSummary({ plan, toSubmit: plan.jobs, options: resolveRunOptions([limits]), tables: { models: loadModelTable(), prices: loadPriceTable() } })
        .split('\n')
        .find((line) => line.startsWith('limits: '));
    expect(limitsLine({ concurrency: 10, concurrency_per_model: 5 })).toMatch(/^limits: concurrency 10 \(5 per model\), /);
    expect(limitsLine({ concurrency: 20, concurrency_per_model: { [A]: 5 } })).toMatch(/^limits: concurrency 20 \(kling-v3 5 per model\), /);
    expect(limitsLine({})).toMatch(/^limits: concurrency 5, /);
  });
});
