// Rules across fields: the API's mutual exclusions and the model capability table. Each error
// names the model, the field and what would work, at the line where the field was written.
import { describe, expect, it } from 'vitest';
import { formatError } from '../src/cli/format-error.js';
import { loadModelTable, type ModelTable } from '../src/data/tables.js';
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

  it('refuses mode on single-quality models', () => {
    expect(problems({ model_name: 'kling-v2-master', mode: 'std' })).toEqual(['mode: kling-v2-master has a single quality level: remove `mode`.']);
    expect(problems({ model_name: 'kling-v2-1-master', mode: 'pro' })).toEqual(['mode: kling-v2-1-master has a single quality level: remove `mode`.']);
  });

  it('refuses cfg_scale on models without it and names those with it', () => {
    expect(problems({ model_name: 'kling-v2-6', cfg_scale: 0.5 })).toEqual([
      'cfg_scale: kling-v2-6 does not take `cfg_scale`: remove it. Models that do: kling-v1, kling-v1-5, kling-v1-6.',
    ]);
  });

  it('knows where image_tail works: mode, duration, silence', () => {
    expect(problems({ model_name: 'kling-v2-5-turbo', image_tail: 't.png' })).toEqual([
      'image_tail: `image_tail` needs mode pro on kling-v2-5-turbo; this job has mode std. Set `mode: pro` for it.',
    ]);
    expect(problems({ model_name: 'kling-v1', image_tail: 't.png', duration: '10' })).toEqual([
      'image_tail: `image_tail` needs duration 5 on kling-v1; this job has duration 10. Set `duration: 5` for it.',
    ]);
    expect(problems({ model_name: 'kling-v2-6', mode: 'pro', image_tail: 't.png' })).toEqual([
      'image_tail: `image_tail` on kling-v2-6 works only for silent video. Set `sound: "off"` for it.',
    ]);
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

  it('keeps image_tail apart from masks (an API rule, whatever the model)', () => {
    expect(problems({ model_name: 'kling-v1', image_tail: 't.png', static_mask: 'm.png' })[0]).toBe(
      'image_tail: `image_tail` cannot be combined with `static_mask` or `dynamic_masks`; the API takes one or the other. Remove one of them.',
    );
  });

  it('follows an edited table: durations, modes and unknown models', () => {
    const edited: ModelTable = { ...models, 'kling-v2-6': { ...(models['kling-v2-6'] as ModelTable[string]), durations: ['5'], modes: ['pro'] } };
    delete edited['kling-v1'];
    expect(problems({ model_name: 'kling-v2-6', mode: 'std', duration: '10' }, edited)).toEqual([
      'mode: kling-v2-6 takes mode pro, not std.',
      'duration: kling-v2-6 makes videos of 5 seconds, not 10. Set `duration: 5`.',
    ]);
    expect(problems({}, edited)[0]).toMatch(/^model_name: kling-v1 is not in the model capability table\. Add it to a copy of src\/data\/models\.yaml/);
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
});
