// Rules across fields: the API's mutual exclusions and the model capability table. Each error
// names the model, the field and what would work, at the line where the field was written.
import { fileURLToPath } from 'node:url';
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
    const silent = 'image_tail: `image_tail` cannot be combined with sound on kling-v2-6 (it works only for silent video). Leave `sound` out or set it to "off" for it.';
    // Left out, `sound` is Kling's default, off: a tail frame is fine (issue 19).
    expect(problems({ model_name: 'kling-v2-6', mode: 'pro', image_tail: 't.png' })).toEqual([]);
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
    expect(problems({ model_name: 'kling-v3', mode: 'pro', image_tail: 't.png' }, edited)).toEqual([]); // sound left out: off
    expect(problems({ model_name: 'kling-v3', mode: 'pro', image_tail: 't.png', sound: 'on' }, edited)[0]).toMatch(/^image_tail: `image_tail` cannot be combined with sound on kling-v3/);
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

describe("Kling's 2026 controls and the provider's limits, from the model table (issue 19)", () => {
  const kling = loadModelTable(fileURLToPath(new URL('../src/data/kling/models.yaml', import.meta.url)));
  const zoom = { type: 'simple', config: { zoom: 5 } } as const;
  async function planErrors(manifest: string): Promise<string> {
    try {
      await loadPlan('m.yaml', { cwd: tempTree({ 'm.yaml': manifest, 'a.png': png(1) }) });
      return '';
    } catch (error) {
      if (!(error instanceof ManifestError)) throw error;
      return formatError(error);
    }
  }

  it('camera_control: where the table allows it, of the types it allows, never with a tail frame or masks', () => {
    expect(problems({ model_name: 'kling-v1', camera_control: zoom })).toEqual([]);
    expect(problems({ model_name: 'kling-v1-5', mode: 'pro', camera_control: zoom })).toEqual([]);
    expect(problems({ model_name: 'kling-v1', mode: 'pro', camera_control: zoom })).toEqual([
      'camera_control: `camera_control` needs mode std on kling-v1; this job has mode pro. Set `mode: std` for it.',
    ]);
    expect(problems({ model_name: 'kling-v1-5', mode: 'pro', camera_control: { type: 'down_back' } })).toEqual([
      'camera_control: kling-v1-5 takes `camera_control` of type simple only, not down_back. Use type simple, or another model. Models that do: kling-v1.',
    ]);
    expect(problems({ model_name: 'kling-v2-6', camera_control: zoom })).toEqual([
      'camera_control: kling-v2-6 does not support `camera_control`. Remove it, or use another model. Models that do: kling-v1, kling-v1-5.',
    ]);
    expect(problems({ model_name: 'kling-v1', camera_control: zoom, image_tail: 't.png' })).toEqual([
      'image_tail: `image_tail` cannot be combined with `camera_control` on kling-v1. Remove one of them.',
    ]);
  });

  it('multi-shot on kling-v3: shots that add up to the video, with multi_shot and shot_type customize', () => {
    const shots = [
      { index: 1, prompt: 'a', duration: '2' },
      { index: 2, prompt: 'b', duration: '3' },
    ];
    expect(problems({ model_name: 'kling-v3', multi_shot: true, shot_type: 'customize', multi_prompt: shots })).toEqual([]);
    expect(problems({ model_name: 'kling-v3', duration: '10', multi_shot: true, shot_type: 'customize', multi_prompt: shots })).toEqual([
      "multi_prompt: The shots of `multi_prompt` last 5 s in all, but the video lasts 10 s; they must add up to the video's duration. Make the shots' durations add up to 10, or set `duration: 5` where the model makes it.",
    ]);
    expect(problems({ model_name: 'kling-v3', multi_shot: true, shot_type: 'customize' })[0]).toMatch(/^shot_type: `shot_type: customize` needs the shots in `multi_prompt`/);
    expect(problems({ model_name: 'kling-v3', multi_prompt: shots })[0]).toMatch(/^multi_prompt: `shot_type` and `multi_prompt` need `multi_shot: true`/);
    expect(problems({ model_name: 'kling-v2-6', multi_shot: true, shot_type: 'intelligence' })[0]).toBe(
      'multi_shot: kling-v2-6 does not support `multi_shot`. Remove it, or use another model. Models that do: kling-v3.',
    );
  });

  it('voice_list needs sound on, a model with voices, and names the voices the prompt uses', () => {
    const voices = [{ voice_id: 'narrator' }];
    expect(problems({ model_name: 'kling-v2-6', mode: 'pro', sound: 'on', voice_list: voices, prompt: '<<<voice_1>>> speaks' })).toEqual([]);
    expect(problems({ model_name: 'kling-v2-6', mode: 'pro', voice_list: voices })).toEqual([
      'voice_list: `voice_list` needs `sound: "on"` (left out, Kling makes silent video). Set `sound: "on"` for it.',
    ]);
    expect(problems({ model_name: 'kling-v2-6', mode: 'pro', sound: 'on', voice_list: voices, prompt: '<<<voice_2>>>' })[0]).toMatch(/^prompt: The prompt names <<<voice_2>>>, but `voice_list` has 1 voice\./);
    expect(problems({ model_name: 'kling-v2-6', mode: 'std', voice_list: voices })[0]).toMatch(/^voice_list: `voice_list` needs mode pro on kling-v2-6/);
  });

  it("prompt lengths are the provider's: 500/200 in the shipped CometAPI table, 2,500/2,500 in Kling's", () => {
    const long = { prompt: 'x'.repeat(501), negative_prompt: 'n'.repeat(201) };
    expect(problems(long)).toEqual([
      'prompt: `prompt` is 501 characters long; the limit is 500 on kling-v1 (`limits` in the model table src/data/models.yaml). Shorten it, or, if your provider takes longer text, raise `limits.prompt` in a copy of src/data/models.yaml, passed with --models <file> (see docs/models-and-prices.md).',
      'negative_prompt: `negative_prompt` is 201 characters long; the limit is 200 on kling-v1 (`limits` in the model table src/data/models.yaml). Shorten it, or, if your provider takes longer text, raise `limits.negative_prompt` in a copy of src/data/models.yaml, passed with --models <file> (see docs/models-and-prices.md).',
    ]);
    expect(problems({ prompt: 'x'.repeat(2500), negative_prompt: 'n'.repeat(2500) }, kling)).toEqual([]);
    expect(problems({ prompt: 'x'.repeat(2501) }, kling)[0]).toMatch(/^prompt: `prompt` is 2501 characters long; the limit is 2500 on kling-v1/);
    expect(problems({ model_name: 'kling-v3', mode: '4k', duration: '15' }, kling)).toEqual([]);
    expect(problems({ model_name: 'kling-v3', duration: '3', multi_shot: true, shot_type: 'intelligence' }, kling)).toEqual([]);
  });

  it('a manifest with the new fields: shapes checked where written, rules located, values sent as planned', async () => {
    const bad = await planErrors(`version: 1
name: test
defaults: { model_name: kling-v1 }
jobs:
  - { image: a.png, camera_control: { type: simple, config: { zoom: 5, pan: 1 } } }
  - { image: a.png, model_name: kling-v3, multi_shot: true, shot_type: customize, multi_prompt: [{ prompt: a, duration: 2 }] }
`);
    expect(bad).toContain('m.yaml:5:61 at `jobs[0].camera_control.config`: with type simple, exactly one of horizontal, vertical, pan, tilt, roll, zoom must be non-zero (got pan, zoom), e.g. { zoom: 5 }.');
    expect(bad).toContain('m.yaml:6:97 at `jobs[1].multi_prompt`: The shots of `multi_prompt` last 2 s in all, but the video lasts 5 s');
    const dir = tempTree({ 'm.yaml': 'version: 1\nname: t\njobs:\n  - { image: a.png, model_name: kling-v3, duration: 5, multi_shot: true, shot_type: customize, multi_prompt: [{ prompt: a, duration: 2 }, { prompt: b, duration: "3" }], watermark_info: { enabled: false } }\n', 'a.png': png(1) });
    const { plan } = await loadPlan('m.yaml', { cwd: dir });
    expect(plan.jobs[0]?.request).toMatchObject({
      multi_shot: true,
      shot_type: 'customize',
      multi_prompt: [
        { index: 1, prompt: 'a', duration: '2' },
        { index: 2, prompt: 'b', duration: '3' },
      ],
      watermark_info: { enabled: false },
    });
  });
});
