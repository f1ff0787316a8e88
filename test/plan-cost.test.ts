// Prices and the cost summary: USD per second by model, mode and sound, times the duration;
// groups by model × mode × duration (× sound where it changes the price), unknown prices kept
// unknown, provider defaults filled in, user price tables through --prices.
import { describe, expect, it } from 'vitest';
import { formatCostTable } from '../src/cli/commands/plan.js';
import { loadModelTable, loadPriceTable, type PriceTable } from '../src/data/tables.js';
import { loadPlan, priceJob, summarizePlan } from '../src/plan/index.js';
import { effectiveParams, type JobRequest } from '../src/plan/schema.js';
import { png, tempTree } from './helpers/manifest.js';

const models = loadModelTable();
const prices = loadPriceTable();
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

describe('the shipped price table (Kling\'s official list, per second)', () => {
  const price = (request: Omit<JobRequest, 'image'>) => priceJob({ image, ...request }, models, prices);

  it('prices every model, mode and sound on the list as rate × duration', () => {
    expect(price({ model_name: 'kling-v2-5-turbo', mode: 'std', duration: '5' })).toBe(0.21);
    expect(price({ model_name: 'kling-v2-5-turbo', mode: 'pro', duration: '10' })).toBe(0.7);
    expect(price({ model_name: 'kling-v2-6', mode: 'std', duration: '10' })).toBe(0.42);
    expect(price({ model_name: 'kling-v2-6', mode: 'pro', duration: '5', sound: 'off' })).toBe(0.35);
    expect(price({ model_name: 'kling-v2-6', mode: 'pro', duration: '10', sound: 'on' })).toBe(1.4);
    expect(price({ model_name: 'kling-v3', mode: 'std', duration: '5', sound: 'off' })).toBe(0.42);
    expect(price({ model_name: 'kling-v3', mode: 'pro', duration: '10', sound: 'off' })).toBe(1.12);
    expect(price({ model_name: 'kling-v3', mode: 'std', duration: '10', sound: 'on' })).toBe(1.26);
    expect(price({ model_name: 'kling-v3', mode: 'pro', duration: '5', sound: 'on' })).toBe(0.84);
  });

  it("prices sound left out as Kling's default, off (issue 19)", () => {
    expect(price({ model_name: 'kling-v2-6', mode: 'pro', duration: '5' })).toBe(0.35);
    expect(price({ model_name: 'kling-v3', mode: 'std', duration: '5' })).toBe(0.42);
    expect(price({ model_name: 'kling-v2-6', mode: 'std', duration: '5' })).toBe(0.21); // std is silent anyway
  });

  it('prices a voice_list at the voice rate: 0.168 USD/s for kling-v2-6 pro (issue 19)', () => {
    const voice_list = [{ voice_id: 'narrator' }];
    expect(price({ model_name: 'kling-v2-6', mode: 'pro', duration: '5', sound: 'on', voice_list })).toBe(0.84);
    expect(price({ model_name: 'kling-v2-6', mode: 'pro', duration: '10', sound: 'on', voice_list })).toBe(1.68);
    expect(price({ model_name: 'kling-v2-6', mode: 'pro', duration: '5', sound: 'on' })).toBe(0.7); // without voices: the sound rate
  });

  it('keeps the models the list no longer has unknown (null), never 0', () => {
    for (const model_name of ['kling-v1', 'kling-v1-5', 'kling-v1-6', 'kling-v2-1', 'kling-v2-master', 'kling-v2-1-master']) {
      expect(price({ model_name, duration: '5' }), model_name).toBeNull();
    }
  });
});

describe('summarizePlan', () => {
  async function planOf(manifest: string, pricesFile?: string) {
    const dir = tempTree({ 'm.yaml': manifest, 'a.png': png(1), 'b.png': png(2), 'c.png': png(3) });
    return loadPlan('m.yaml', { cwd: dir, pricesFile });
  }

  it('says `mixed` when the jobs of one variant differ in sound (set per job entry, not by the matrix)', async () => {
    const loaded = await planOf('version: 1\nname: t\ndefaults: { model_name: kling-v2-6, mode: pro }\njobs:\n  - { image: a.png, sound: "on" }\n  - { image: b.png, sound: "off" }\n');
    const [row] = summarizePlan(loaded.plan, loaded).rows;
    expect(row).toMatchObject({ jobs: 2, sound: 'mixed', unit_usd: null });
  });

  it('groups by model × mode × duration, and by sound where it changes the price; unknown stays null, never 0', async () => {
    const loaded = await planOf(`version: 1
name: t
matrix:
  model_name: [kling-v2-5-turbo, kling-v2-master]
  duration: [10, 5]
  mode: [pro]
  exclude: [{ model_name: kling-v2-master, mode: pro }]
  include: [{ model_name: kling-v2-master }, { model_name: kling-v2-6 }, { model_name: kling-v2-6, mode: pro, sound: "off" }, { model_name: kling-v2-6, mode: pro }]
jobs:
  - image: "*.png"
`);
    const summary = summarizePlan(loaded.plan, loaded);
    expect({ ...summary, rows: summary.rows.map(({ variant, ...row }) => ({ variant: variant.label, ...row })) }).toEqual({
      rows: [
        { variant: 'kling-v2-5-turbo pro 5s', model_name: 'kling-v2-5-turbo', mode: 'pro', duration: '5', sound: undefined, jobs: 3, unit_usd: 0.35, total_usd: 1.05 },
        { variant: 'kling-v2-5-turbo pro 10s', model_name: 'kling-v2-5-turbo', mode: 'pro', duration: '10', sound: undefined, jobs: 3, unit_usd: 0.7, total_usd: 2.1 },
        { variant: 'kling-v2-6 pro 5s', model_name: 'kling-v2-6', mode: 'pro', duration: '5', sound: 'default', jobs: 3, unit_usd: 0.35, total_usd: 1.05 },
        { variant: 'kling-v2-6 pro 5s sound=off', model_name: 'kling-v2-6', mode: 'pro', duration: '5', sound: 'off', jobs: 3, unit_usd: 0.35, total_usd: 1.05 },
        { variant: 'kling-v2-6 std 5s', model_name: 'kling-v2-6', mode: 'std', duration: '5', sound: undefined, jobs: 3, unit_usd: 0.21, total_usd: 0.63 },
        { variant: 'kling-v2-master 5s', model_name: 'kling-v2-master', mode: undefined, duration: '5', sound: undefined, jobs: 3, unit_usd: null, total_usd: null },
      ],
      jobs: 18,
      known_usd: 5.88,
      unknown_jobs: 3,
    });
    expect(loaded.plan.jobs.filter((j) => j.cost_usd === null)).toHaveLength(3);
  });

  it('shows the sound column and its note only where sound changes a price', async () => {
    const loaded = await planOf('version: 1\nname: t\ndefaults: { model_name: kling-v2-6, mode: pro }\nmatrix: { sound: ["on", "off"] }\njobs:\n  - image: a.png\n  - { image: b.png, matrix: {} }\n');
    expect(formatCostTable(summarizePlan(loaded.plan, loaded))).toMatchInlineSnapshot(`
      "model       mode  duration  sound    jobs  USD/job  USD
      kling-v2-6  pro   5 s       default     1     0.35  0.35
      kling-v2-6  pro   5 s       off         1     0.35  0.35
      kling-v2-6  pro   5 s       on          1     0.70  0.70
      total                                   3           1.40

      sound default: these jobs leave \`sound\` out, so Kling's default applies: off, priced as silent video. Set \`sound: "on"\` for generated audio."
    `);
    const silent = await planOf('version: 1\nname: t\ndefaults: { model_name: kling-v2-5-turbo }\njobs:\n  - image: a.png\n');
    expect(formatCostTable(summarizePlan(silent.plan, silent))).toMatchInlineSnapshot(`
      "model             mode  duration  jobs  USD/job  USD
      kling-v2-5-turbo  std   5 s          1     0.21  0.21
      total                                1           0.21"
    `);
  });

  it('reads a user price table from --prices: rows without mode or sound match any', async () => {
    const dir = tempTree({ 'prices.yaml': '- { model_name: kling-v2-6, mode: std, usd_per_second: 0.05 }\n- { model_name: kling-v2-6, usd_per_second: 0.1 }\n- { model_name: kling-v2-6, mode: pro, sound: "on", usd_per_second: 0.2 }\n' });
    const loaded = await planOf('version: 1\nname: t\ndefaults: { model_name: kling-v2-6 }\nmatrix: { duration: [5, 10] }\njobs:\n  - image: a.png\n  - { image: a.png, mode: pro, sound: "off", matrix: {} }\n  - { image: a.png, mode: pro, sound: "on", matrix: {} }\n', `${dir}/prices.yaml`);
    expect(loaded.plan.jobs.map((j) => j.cost_usd)).toEqual([0.25, 0.5, 0.5, 1]); // std; pro off (any-mode row); pro on (the most specific row)
    expect(summarizePlan(loaded.plan, loaded)).toMatchObject({ known_usd: 2.25, unknown_jobs: 0 });
  });

  it('refuses an unreadable or malformed price table with a clear message', async () => {
    const dir = tempTree({ 'bad.yaml': '- { model_name: kling-v2-6, usd_per_second: -1 }\n' });
    await expect(planOf('version: 1\nname: t\njobs:\n  - image: a.png\n', `${dir}/bad.yaml`)).rejects.toThrow(/The price file .*bad\.yaml is invalid at 0\.usd_per_second/);
    await expect(planOf('version: 1\nname: t\njobs:\n  - image: a.png\n', `${dir}/none.yaml`)).rejects.toThrow(/Cannot read the price file/);
  });

  it('refuses two rows for the same model, mode, sound and voice_list: the price would depend on their order', () => {
    const dir = tempTree({ 'twice.yaml': '- { model_name: kling-v3, mode: pro, sound: "on", usd_per_second: 0.168 }\n- { model_name: kling-v3, mode: pro, usd_per_second: 0.112 }\n- { model_name: kling-v3, mode: pro, sound: "on", usd_per_second: 0.2 }\n' });
    expect(() => loadPriceTable(`${dir}/twice.yaml`)).toThrow(expect.objectContaining({
      issues: [expect.objectContaining({ line: 3, path: '[2].model_name', message: 'this row has the same model_name, mode, sound and voice_list as row [0]; keep one of them.' })],
    }));
  });
});

describe('price rows', () => {
  it('have no duration: the same per-second row prices any length a model table allows', () => {
    const table: PriceTable = [{ model_name: 'kling-v3', mode: 'std', sound: 'off', usd_per_second: 0.084 }];
    const wide = { file: 'm.yaml', models: { 'kling-v3': { ...(models.models['kling-v3'] as (typeof models.models)[string]), durations: { min: 3, max: 15 } } } };
    expect(['3', '7', '15'].map((duration) => priceJob({ image, model_name: 'kling-v3', mode: 'std', duration, sound: 'off' }, wide, table))).toEqual([0.252, 0.588, 1.26]);
  });
});
