// Prices and the cost summary: groups by variant, unknown prices kept unknown,
// provider defaults filled in for grouping, user price tables through --prices.
import { describe, expect, it } from 'vitest';
import { loadModelTable } from '../src/data/tables.js';
import { loadPlan, summarizePlan } from '../src/plan/index.js';
import { effectiveParams, type JobRequest } from '../src/plan/schema.js';
import { png, tempTree } from './helpers/manifest.js';

const models = loadModelTable();
const image = { kind: 'url', url: 'https://example.com/a.png' } as const;

describe('effectiveParams', () => {
  it('fills in the provider defaults; with the model table, mode-less models get no mode', () => {
    const bare: JobRequest = { image };
    expect(effectiveParams(bare, models)).toEqual({ model_name: 'kling-v1', mode: 'std', duration: '5' });
    expect(effectiveParams({ image, model_name: 'kling-v2-master' }, models)).toEqual({ model_name: 'kling-v2-master', mode: undefined, duration: '5' });
    expect(effectiveParams({ image, model_name: 'kling-v2-6', mode: 'pro', duration: '10' }, models)).toEqual({ model_name: 'kling-v2-6', mode: 'pro', duration: '10' });
    expect(effectiveParams(bare)).toEqual({ model_name: 'kling-v1', mode: undefined, duration: '5' }); // without a table: as written
  });
});

describe('summarizePlan', () => {
  async function planOf(manifest: string, pricesFile?: string) {
    const dir = tempTree({ 'm.yaml': manifest, 'a.png': png(1), 'b.png': png(2), 'c.png': png(3) });
    return loadPlan('m.yaml', { cwd: dir, pricesFile });
  }

  it('groups by variant (model × mode × duration here) with unit and total prices; unknown stays null, never 0', async () => {
    const { plan, models: table } = await planOf(`version: 1
name: t
matrix:
  model_name: [kling-v2-5-turbo, kling-v2-master]
  duration: [10, 5]
  mode: [pro]
  exclude: [{ model_name: kling-v2-master, mode: pro }]
  include: [{ model_name: kling-v2-master }, { model_name: kling-v2-6 }]
jobs:
  - image: "*.png"
`);
    expect(summarizePlan(plan, table)).toEqual({
      rows: [
        { variant: expect.objectContaining({ label: 'kling-v2-5-turbo pro 5s' }), model_name: 'kling-v2-5-turbo', mode: 'pro', duration: '5', jobs: 3, unit_usd: 0.33, total_usd: 0.99 },
        { variant: expect.objectContaining({ label: 'kling-v2-5-turbo pro 10s' }), model_name: 'kling-v2-5-turbo', mode: 'pro', duration: '10', jobs: 3, unit_usd: 0.66, total_usd: 1.98 },
        { variant: expect.objectContaining({ label: 'kling-v2-6 std 5s' }), model_name: 'kling-v2-6', mode: 'std', duration: '5', jobs: 3, unit_usd: null, total_usd: null },
        { variant: expect.objectContaining({ label: 'kling-v2-master 5s' }), model_name: 'kling-v2-master', mode: undefined, duration: '5', jobs: 3, unit_usd: 1.32, total_usd: 3.96 },
      ],
      jobs: 12,
      known_usd: 6.93,
      unknown_jobs: 3,
    });
    expect(plan.jobs.filter((j) => j.cost_usd === null)).toHaveLength(3);
  });

  it('reads a user price table from --prices', async () => {
    const dir = tempTree({ 'prices.yaml': '- { model_name: kling-v2-6, mode: std, duration: "5", usd: 0.25 }\n- { model_name: kling-v2-6, duration: "10", usd: 0.5 }\n' });
    const { plan, models: table } = await planOf('version: 1\nname: t\ndefaults: { model_name: kling-v2-6 }\nmatrix: { duration: [5, 10] }\njobs:\n  - image: a.png\n', `${dir}/prices.yaml`);
    expect(plan.jobs.map((j) => j.cost_usd)).toEqual([0.25, 0.5]); // a row without mode matches any mode
    expect(summarizePlan(plan, table)).toMatchObject({ known_usd: 0.75, unknown_jobs: 0 });
  });

  it('refuses an unreadable or malformed price table with a clear message', async () => {
    const dir = tempTree({ 'bad.yaml': '- { model_name: kling-v2-6, duration: 5, usd: -1 }\n' });
    await expect(planOf('version: 1\nname: t\njobs:\n  - image: a.png\n', `${dir}/bad.yaml`)).rejects.toThrow(/The price file .*bad\.yaml is invalid at 0\.duration/);
    await expect(planOf('version: 1\nname: t\njobs:\n  - image: a.png\n', `${dir}/none.yaml`)).rejects.toThrow(/Cannot read the price file/);
  });
});
