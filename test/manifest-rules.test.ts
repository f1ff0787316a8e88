// Rules across fields: the API's mutual exclusions and the model capability table. Each error
// names the model, the field and what would work, at the line where the field was written.
import { describe, expect, it } from 'vitest';
import { runInProcess } from './helpers/bad-input.js';
import { formatError } from '../src/cli/format-error.js';
import { loadModelTable, type ModelCapability, type ModelTable } from '../src/data/tables.js';
import { ManifestError } from '../src/errors.js';
import { checkRequest, type MergedFields } from '../src/manifest/rules.js';
import { loadPlan } from '../src/plan/index.js';
import { png, tempTree } from './helpers/manifest.js';

const models = loadModelTable();
const problems = (fields: MergedFields, table: ModelTable = models) => checkRequest(fields, table).map((p) => `${p.field}: ${p.message}${p.hint ? ` ${p.hint}` : ''}`);

describe('checkRequest with the shipped model table', () => {
  it('passes requests every model takes', () => {
    expect(problems({})).toEqual([]); // the API defaults: kling-v1, std, 5 s
    expect(problems({ model_name: 'kling-v2-master', duration: '10' })).toEqual([]);
    expect(problems({ model_name: 'kling-v2-6', mode: 'pro', sound: 'on' })).toEqual([]);
    expect(problems({ model_name: 'kling-v2-6', mode: 'pro', image_tail: 't.png', sound: 'off' })).toEqual([]);
    expect(problems({ model_name: 'kling-v1', static_mask: 'm.png', cfg_scale: 0.3 })).toEqual([]);
    expect(problems({ model_name: 'kling-v1-5', sound: 'off' })).toEqual([]);
  });

  it('follows the reviewed kling-v3 row: sound in std and pro, image_tail also with sound', () => {
    expect(problems({ model_name: 'kling-v3', mode: 'std', sound: 'on' })).toEqual([]);
    expect(problems({ model_name: 'kling-v3', mode: 'pro', sound: 'on', image_tail: 't.png' })).toEqual([]);
    expect(problems({ model_name: 'kling-v3', mode: 'std', image_tail: 't.png' })).toEqual([]);
  });

  it('refuses mode on single-quality models', () => {
    expect(problems({ model_name: 'kling-v2-master', mode: 'std' })).toEqual(['mode: kling-v2-master has a single quality level: remove `mode`.']);
    expect(problems({ model_name: 'kling-v2-1-master', mode: 'pro' })).toEqual(['mode: kling-v2-1-master has a single quality level: remove `mode`.']);
  });

  it('refuses cfg_scale on models without it and names those with it', () => {
    expect(problems({ model_name: 'kling-v2-6', cfg_scale: 0.5 })).toEqual([
      'cfg_scale: kling-v2-6 does not support `cfg_scale`. Remove it, or use another model. Models that do: kling-v1, kling-v1-5, kling-v1-6.',
    ]);
  });

  it('knows where image_tail works: mode, duration, silence', () => {
    expect(problems({ model_name: 'kling-v2-5-turbo', image_tail: 't.png' })).toEqual([
      'image_tail: `image_tail` needs mode pro on kling-v2-5-turbo; this job has mode std. Set `mode: pro` for it.',
    ]);
    expect(problems({ model_name: 'kling-v1', image_tail: 't.png', duration: '10' })).toEqual([
      'image_tail: `image_tail` needs duration 5 on kling-v1; this job has duration 10. Set `duration: 5` for it.',
    ]);
    const silent = 'image_tail: `image_tail` cannot be combined with sound on kling-v2-6 (it works only for silent video). Set `sound: "off"` for it.';
    expect(problems({ model_name: 'kling-v2-6', mode: 'pro', image_tail: 't.png' })).toEqual([silent]); // sound left to the provider's default
    expect(problems({ model_name: 'kling-v2-6', mode: 'pro', image_tail: 't.png', sound: 'on' })).toEqual([silent]);
    expect(problems({ model_name: 'kling-v2-master', image_tail: 't.png' })).toEqual([
      'image_tail: kling-v2-master does not support `image_tail`. Remove it, or use another model. Models that do: kling-v1, kling-v1-5, kling-v1-6, kling-v2-1, kling-v2-5-turbo, kling-v2-6, kling-v3.',
    ]);
  });

  it('knows where masks work', () => {
    expect(problems({ model_name: 'kling-v2-6', mode: 'pro', static_mask: 'm.png' })).toEqual([
      'static_mask: kling-v2-6 does not support `static_mask`. Remove it, or use another model. Models that do: kling-v1, kling-v1-5.',
    ]);
    expect(problems({ model_name: 'kling-v1-5', mode: 'std', dynamic_masks: [{ mask: 'm.png', trajectories: [] }] })).toEqual([
      'dynamic_masks: `dynamic_masks` needs mode pro on kling-v1-5; this job has mode std. Set `mode: pro` for it.',
    ]);
  });

  it('allows sound only where the model makes it', () => {
    expect(problems({ model_name: 'kling-v2-6', mode: 'std', sound: 'on' })).toEqual([
      'sound: `sound` needs mode pro on kling-v2-6; this job has mode std. Set `mode: pro` for it.',
    ]);
    expect(problems({ model_name: 'kling-v2-5-turbo', sound: 'on' })).toEqual([
      'sound: kling-v2-5-turbo does not support `sound`. Remove it, or use another model. Models that do: kling-v2-6, kling-v3.',
    ]);
  });

  it('keeps image_tail apart from masks where the table says so', () => {
    expect(problems({ model_name: 'kling-v1', image_tail: 't.png', static_mask: 'm.png' })).toEqual([
      'image_tail: `image_tail` cannot be combined with `static_mask` on kling-v1. Remove one of them.',
    ]);
  });

  it('names the table and how to add a row for a model it does not have, with a "did you mean"', () => {
    expect(problems({ model_name: 'kling-v26' })).toEqual([
      'model_name: kling-v26 is not in the model table src/data/models.yaml. Did you mean `kling-v2-6`? To use another model, add a row for it to a copy of src/data/models.yaml, passed with --models <file> (see docs/models-and-prices.md). Known models: kling-v1, kling-v1-5, kling-v1-6, kling-v2-master, kling-v2-1-master, kling-v2-1, kling-v2-5-turbo, kling-v2-6, kling-v3.',
    ]);
    expect(problems({ model_name: 'kling-v2-6', mode: 'prp' })).toEqual(['mode: kling-v2-6 takes mode std or pro, not prp. Did you mean `pro`?']);
  });

  it('refuses what CometAPI does not document, saying how a table can allow it: 15 s, 4k', () => {
    expect(problems({ model_name: 'kling-v3', duration: '15' })).toEqual([
      'duration: kling-v3 makes videos of 5 or 10 seconds, not 15. Set `duration: 5`, or, if the provider makes 15 s videos with this model, widen its `durations` in a copy of src/data/models.yaml, passed with --models <file> (see docs/models-and-prices.md).',
    ]);
    expect(problems({ model_name: 'kling-v3', mode: '4k' })).toEqual([
      'mode: kling-v3 takes mode std or pro, not 4k. If the provider offers 4k for this model, add it to the model\'s `modes` in a copy of src/data/models.yaml, passed with --models <file> (see docs/models-and-prices.md).',
    ]);
  });

  it('follows an edited table: new models, modes, duration ranges, features and exclusions', () => {
    const v3 = models.models['kling-v3'] as ModelCapability;
    const rows: Record<string, ModelCapability> = {
      ...models.models,
      'kling-v2-6': { ...(models.models['kling-v2-6'] as ModelCapability), durations: [5], modes: ['pro'] },
      'kling-v3': { ...v3, modes: ['std', 'pro', '4k'], durations: { min: 3, max: 15 }, sound: { modes: ['std', 'pro'] }, excludes: [['image_tail', 'sound']] },
      'kling-v9': { modes: ['turbo'], durations: [7], cfg_scale: { durations: [7] }, image_tail: false, masks: false, sound: false },
    };
    delete rows['kling-v1'];
    const edited: ModelTable = { file: 'my-models.yaml', models: rows };
    expect(problems({ model_name: 'kling-v2-6', mode: 'std', duration: '10' }, edited)).toEqual([
      'mode: kling-v2-6 takes mode pro, not std. If the provider offers std for this model, add it to the model\'s `modes` in my-models.yaml (see docs/models-and-prices.md).',
      'duration: kling-v2-6 makes videos of 5 seconds, not 10. Set `duration: 5`, or, if the provider makes 10 s videos with this model, widen its `durations` in my-models.yaml (see docs/models-and-prices.md).',
    ]);
    expect(problems({ model_name: 'kling-v3', mode: '4k', duration: '15' }, edited)).toEqual([]);
    expect(problems({ model_name: 'kling-v3', mode: 'pro', duration: '3', sound: 'on' }, edited)).toEqual([]);
    expect(problems({ model_name: 'kling-v3', mode: '4k', duration: '16' }, edited)).toEqual([
      'duration: kling-v3 makes videos of 3 to 15 seconds, not 16. Set `duration: 3`, or, if the provider makes 16 s videos with this model, widen its `durations` in my-models.yaml (see docs/models-and-prices.md).',
    ]);
    expect(problems({ model_name: 'kling-v3', mode: '4k', sound: 'on' }, edited)[0]).toMatch(/^sound: `sound` needs mode std or pro on kling-v3; this job has mode 4k/);
    expect(problems({ model_name: 'kling-v3', mode: 'pro', image_tail: 't.png' }, edited)[0]).toMatch(/^image_tail: `image_tail` cannot be combined with sound on kling-v3/);
    expect(problems({ model_name: 'kling-v3', mode: '4k', image_tail: 't.png' }, edited)).toEqual([]); // 4k makes no sound here: nothing to exclude
    expect(problems({ model_name: 'kling-v9', mode: 'turbo', duration: '7', cfg_scale: 0.5 }, edited)).toEqual([]);
    expect(problems({}, edited)[0]).toMatch(/^model_name: kling-v1 is not in the model table my-models\.yaml\. (Did you mean `kling-v3`\? )?To use another model, add a row for it to my-models\.yaml/);
  });
});

describe('rule errors in a manifest', () => {
  async function planErrors(manifest: string, modelsFile?: string): Promise<string> {
    const dir = tempTree({ 'm.yaml': manifest, 'a.png': png(1), 't.png': png(2) });
    try {
      await loadPlan('m.yaml', { cwd: dir, modelsFile });
      return '';
    } catch (error) {
      if (!(error instanceof ManifestError)) throw error;
      return formatError(error);
    }
  }

  it('points at where the offending value was written and says which combinations break', async () => {
    const out = await planErrors(`version: 1
name: test
defaults:
  mode: std
matrix:
  model_name: [kling-v2-6, kling-v2-master, kling-v2-1-master]
  duration: [5, 10]
jobs:
  - image: a.png
`);
    expect(out).toMatchInlineSnapshot(`
      "error: m.yaml:4:9 at \`defaults.mode\`: kling-v2-master has a single quality level: remove \`mode\` (in jobs[0] with model_name=kling-v2-master, duration=5, and 1 more combination(s)).
            mode: std
                  ^

      error: m.yaml:4:9 at \`defaults.mode\`: kling-v2-1-master has a single quality level: remove \`mode\` (in jobs[0] with model_name=kling-v2-1-master, duration=5, and 1 more combination(s)).
            mode: std
                  ^"
    `);
  });

  it('locates values an include added', async () => {
    const out = await planErrors(`version: 1
name: test
matrix:
  model_name: [kling-v2-6]
  include:
    - { model_name: kling-v2-6, sound: "on" }
jobs:
  - image: a.png
`);
    expect(out).toMatchInlineSnapshot(`
      "error: m.yaml:6:40 at \`matrix.include[0].sound\`: \`sound\` needs mode pro on kling-v2-6; this job has mode std (in jobs[0] with model_name=kling-v2-6, sound=on). Set \`mode: pro\` for it.
              - { model_name: kling-v2-6, sound: "on" }
                                                 ^"
    `);
  });

  it('reads the model table from --models', async () => {
    const manifest = 'version: 1\nname: test\njobs:\n  - { image: a.png, model_name: kling-v2-master, mode: pro }\n';
    expect(await planErrors(manifest)).toContain('kling-v2-master has a single quality level');
    const dir = tempTree({ 'models.yaml': "kling-v2-master:\n  modes: [pro]\n  durations: ['5']\n  cfg_scale: false\n  image_tail: false\n  masks: false\n  sound: false\n" });
    expect(await planErrors(manifest, `${dir}/models.yaml`)).toBe('');
  });

  /** The shipped kling-v3 row widened to what Kling itself documents: 3–15 s and a 4k mode. */
  const KLING_V3 = 'kling-v3:\n  modes: [std, pro, 4k]\n  durations: { min: 3, max: 15 }\n  cfg_scale: false\n  image_tail: true\n  masks: false\n  sound: { modes: [std, pro] }\n';

  it('takes a 15 s duration and the 4k mode only from a table that has them, and prices them', async () => {
    const manifest = 'version: 1\nname: test\ndefaults: { model_name: kling-v3 }\njobs:\n  - { image: a.png, duration: "15", sound: "off" }\n  - { image: a.png, duration: 10, mode: 4k }\n';
    expect(await planErrors(manifest)).toMatchInlineSnapshot(`
      "error: m.yaml:5:31 at \`jobs[0].duration\`: kling-v3 makes videos of 5 or 10 seconds, not 15 (in jobs[0]). Set \`duration: 5\`, or, if the provider makes 15 s videos with this model, widen its \`durations\` in a copy of src/data/models.yaml, passed with --models <file> (see docs/models-and-prices.md).
            - { image: a.png, duration: "15", sound: "off" }
                                        ^

      error: m.yaml:6:41 at \`jobs[1].mode\`: kling-v3 takes mode std or pro, not 4k (in jobs[1]). If the provider offers 4k for this model, add it to the model's \`modes\` in a copy of src/data/models.yaml, passed with --models <file> (see docs/models-and-prices.md).
            - { image: a.png, duration: 10, mode: 4k }
                                                  ^"
    `);
    const dir = tempTree({ 'm.yaml': manifest, 'a.png': png(1), 'kling.yaml': KLING_V3 });
    const { plan } = await loadPlan('m.yaml', { cwd: dir, modelsFile: 'kling.yaml' });
    expect(plan.jobs.map((j) => [j.request.mode, j.request.duration, j.request.sound, j.cost_usd])).toEqual([
      ['std', '15', 'off', 1.26], // 0.084 USD/s without sound
      ['4k', '10', undefined, 4.2], // 0.42 USD/s, whatever the sound
    ]);
  });

  it('validate and plan read a relative --models from the folder they run in', async () => {
    const manifest = 'version: 1\nname: test\ndefaults: { model_name: kling-v3 }\njobs:\n  - { image: a.png, duration: "15" }\n';
    const dir = tempTree({ 'm.yaml': manifest, 'a.png': png(1), 'kling.yaml': KLING_V3 });
    for (const command of ['validate', 'plan']) {
      const result = await runInProcess([command, 'm.yaml', '--models', 'kling.yaml'], dir);
      expect(result.code, `${command}: ${result.stderr}`).toBe(0);
    }
  });

  it('names the --models file when a model is not in it', async () => {
    const dir = tempTree({ 'kling.yaml': KLING_V3 });
    const out = await planErrors('version: 1\nname: test\njobs:\n  - { image: a.png, model_name: kling-v2-6 }\n', `${dir}/kling.yaml`);
    expect(out).toContain(`error: m.yaml:4:33 at \`jobs[0].model_name\`: kling-v2-6 is not in the model table ${dir}/kling.yaml (in jobs[0]). Did you mean \`kling-v3\`? To use another model, add a row for it to ${dir}/kling.yaml (see docs/models-and-prices.md). Known models: kling-v3.`);
  });

  it('refuses a duration that is not whole seconds before looking at the table', async () => {
    const out = await planErrors('version: 1\nname: test\njobs:\n  - { image: a.png, duration: 7.5 }\n  - { image: a.png, duration: "ten" }\n  - { image: a.png, duration: 0 }\n');
    expect(out).toContain('m.yaml:4:31 at `jobs[0].duration`: must be a whole number of seconds, e.g. 5 or 10, got `7.5` (number).');
    expect(out).toContain('m.yaml:5:31 at `jobs[1].duration`: must be a whole number of seconds, e.g. 5 or 10, got `ten` (string).');
    expect(out).toContain('m.yaml:6:31 at `jobs[2].duration`: must be > 0, got `0` (number).');
  });
});
