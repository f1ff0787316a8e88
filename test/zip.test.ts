// Paired (zipped) matrix axes: lists under `zip` pair element by element, the pairs cross with the
// other lists, null leaves a field out of the request, and include/exclude apply after the pairing
// with GitHub's rules (every zipped key counts as an original matrix key).
import { describe, expect, it } from 'vitest';
import { parseManifest } from '../src/manifest/load.js';
import { expandMatrix, matrixSpecOf, type MatrixSpec } from '../src/manifest/matrix.js';
import { planErrorsIn, planIn, png } from './helpers/manifest.js';

const HEAD = 'version: 1\nname: test\n';

function values(spec: MatrixSpec) {
  const result = expandMatrix(spec, 10_000);
  if (!result.ok) throw new Error(result.problems.map((p) => p.message).join('; '));
  return result.combinations.map((c) => c.values);
}

const problems = (spec: MatrixSpec) => {
  const result = expandMatrix(spec, 10_000);
  return result.ok ? [] : result.problems.map((p) => ({ path: p.path.join('.'), message: p.message }));
};

const ZIP = { zip: [['model', ['a', 'b', 'c']], ['mode', ['pro', null, 'std']]] } as const;

describe('zip semantics', () => {
  it('pairs element by element and crosses the pairs with the other lists, in written order', () => {
    expect(values({ dimensions: [['d', [5, 10]], ZIP] })).toEqual([
      { d: 5, model: 'a', mode: 'pro' },
      { d: 5, model: 'b', mode: null },
      { d: 5, model: 'c', mode: 'std' },
      { d: 10, model: 'a', mode: 'pro' },
      { d: 10, model: 'b', mode: null },
      { d: 10, model: 'c', mode: 'std' },
    ]);
    expect(values({ dimensions: [ZIP, ['d', [5]]] }).map((c) => Object.keys(c))).toEqual(Array(3).fill(['model', 'mode', 'd']));
  });

  it('records where each zipped value was written', () => {
    const result = expandMatrix({ dimensions: [ZIP] }, 100);
    expect(result.ok && result.combinations[1]?.origins).toEqual({ model: ['zip', 'model', 1], mode: ['zip', 'mode', 1] });
  });

  it('excludes after pairing, matching zipped keys like any original key', () => {
    expect(values({ dimensions: [ZIP, ['d', [5, 10]]], exclude: [{ model: 'b', d: 10 }, { mode: 'std' }] })).toEqual([
      { model: 'a', mode: 'pro', d: 5 },
      { model: 'a', mode: 'pro', d: 10 },
      { model: 'b', mode: null, d: 5 },
    ]);
  });

  it('includes after pairing: extends matching pairs, never overwrites a zipped value, else adds a combination', () => {
    const spec: MatrixSpec = {
      dimensions: [ZIP],
      include: [{ model: 'a', sound: 'off' }, { mode: 'pro', cfg: 1 }, { model: 'b', mode: 'pro' }, { model: 'z' }],
    };
    expect(values(spec)).toEqual([
      { model: 'a', mode: 'pro', sound: 'off', cfg: 1 },
      { model: 'b', mode: null },
      { model: 'c', mode: 'std' },
      { model: 'b', mode: 'pro' },
      { model: 'z' },
    ]);
  });

  it('refuses lists of different lengths, naming each length, and a key both zipped and listed', () => {
    expect(problems({ dimensions: [{ zip: [['model', ['a', 'b']], ['mode', ['pro']], ['d', [5, 10, 5]]] }] })).toEqual([
      { path: 'zip', message: 'the lists under `zip` pair element by element, so they need equal lengths: model has 2, mode has 1, d has 3.' },
    ]);
    expect(problems({ dimensions: [['mode', ['std']], ZIP] })).toEqual([{ path: 'zip.mode', message: '`mode` is both a list of the matrix and a list under `zip`.' }]);
  });

  it('lets exclude name zipped keys (they are original keys)', () => {
    expect(problems({ dimensions: [ZIP], exclude: [{ mode: 'pro' }] })).toEqual([]);
  });

  it('reads a manifest zip in written order at its written place', () => {
    const { manifest } = parseManifest(`${HEAD}matrix:\n  duration: [5]\n  zip:\n    mode: [pro, null]\n    model_name: [kling-v2-6, kling-v2-1-master]\njobs:\n  - image: a.png\n`, 'm.yaml');
    expect(matrixSpecOf(manifest.matrix).dimensions).toEqual([
      ['duration', ['5']],
      { zip: [['mode', ['pro', null]], ['model_name', ['kling-v2-6', 'kling-v2-1-master']]] },
    ]);
  });
});

describe('zip in a plan', () => {
  const plan = (manifest: string) => planIn(manifest, { 'a.png': png(1) });
  const planErrors = (manifest: string) => planErrorsIn(manifest, { 'a.png': png(1) });


  it('sends each pair, leaves a null field out (even one set in defaults), and crosses the rest', async () => {
    const { plan: p } = await plan(`${HEAD}defaults: { mode: std, sound: "off" }
matrix:
  zip:
    model_name: [kling-v2-6, kling-v2-1-master]
    mode:       [pro,        null]
  duration: [5, 10]
  exclude:
    - { model_name: kling-v2-1-master, duration: 10 }
  include:
    - { model_name: kling-v2-6, prompt: paired with pro }
jobs:
  - image: a.png
`);
    expect(p.jobs.map(({ variant, request: { image: _image, ...request } }) => ({ variant, request }))).toEqual([
      { variant: { model_name: 'kling-v2-6', mode: 'pro', duration: '5', prompt: 'paired with pro' }, request: { model_name: 'kling-v2-6', mode: 'pro', duration: '5', prompt: 'paired with pro', sound: 'off' } },
      { variant: { model_name: 'kling-v2-6', mode: 'pro', duration: '10', prompt: 'paired with pro' }, request: { model_name: 'kling-v2-6', mode: 'pro', duration: '10', prompt: 'paired with pro', sound: 'off' } },
      { variant: { model_name: 'kling-v2-1-master', mode: null, duration: '5' }, request: { model_name: 'kling-v2-1-master', duration: '5', sound: 'off' } },
    ]);
  });

  it('reports unequal lengths, conflicts and typos at the zip', async () => {
    expect(await planErrors(`${HEAD}matrix:\n  zip:\n    model_name: [kling-v2-6, kling-v2-1-master]\n    mode: [pro]\njobs:\n  - { image: a.png, mode: std }\n  - { image: a.png, matrix: {} }\n`)).toMatchInlineSnapshot(`
      "error: m.yaml:8:21 at \`jobs[0].mode\`: \`mode\` is set both in this job entry and in the matrix that applies to it (\`matrix.zip.mode\`, line 6); one of the two values would be silently ignored. Remove it from one of the two places.
            - { image: a.png, mode: std }
                              ^"
    `);
    expect(await planErrors(`${HEAD}matrix:\n  zip:\n    model_name: [kling-v2-6, kling-v2-1-master]\n    mode: [pro]\njobs:\n  - image: a.png\n`)).toMatchInlineSnapshot(`
      "error: m.yaml:5:5 at \`matrix.zip\`: the lists under \`zip\` pair element by element, so they need equal lengths: model_name has 2, mode has 1. Make them the same length (null leaves a field out of a pair).
              model_name: [kling-v2-6, kling-v2-1-master]
              ^"
    `);
    expect(await planErrors(`${HEAD}matrix:\n  zip: { modle_name: [kling-v2-6] }\n  mode: [null]\njobs:\n  - image: a.png\n`)).toMatchInlineSnapshot(`
      "error: m.yaml:4:10 at \`matrix.zip.modle_name\`: unknown key \`modle_name\`. Did you mean \`model_name\`?
            zip: { modle_name: [kling-v2-6] }
                   ^

      error: m.yaml:5:10 at \`matrix.mode[0]\`: expected text, got \`null\`.
            mode: [null]
                   ^"
    `);
  });

  it('checks model rules per pair, naming the pair', async () => {
    expect(await planErrors(`${HEAD}matrix:\n  zip:\n    model_name: [kling-v2-6, kling-v2-1-master]\n    mode: [pro, std]\njobs:\n  - image: a.png\n`)).toMatchInlineSnapshot(`
      "error: m.yaml:6:17 at \`matrix.zip.mode[1]\`: kling-v2-1-master has a single quality level: remove \`mode\` (in jobs[0] with model_name=kling-v2-1-master, mode=std).
              mode: [pro, std]
                          ^"
    `);
  });
});
