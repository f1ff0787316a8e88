// The manifest language: what parses, how it is normalised, and every error a user can meet,
// shown exactly as the CLI prints it (file, line, column, field, fix).
import { describe, expect, it } from 'vitest';
import { ManifestError } from '../src/errors.js';
import { MAX_ISSUES, checkManifest, parseManifest } from '../src/manifest/load.js';
import { loadPlan } from '../src/plan/index.js';
import { parseErrors, png, tempTree } from './helpers/manifest.js';

const HEAD = 'version: 1\nname: test\n';

describe('parseManifest: valid input', () => {
  it('normalises durations to strings, defaults id_salt, keeps the matrix in written order', () => {
    const { manifest } = parseManifest(
      `${HEAD}defaults:\n  duration: 10\nmatrix:\n  mode: [pro, std]\n  model_name: [kling-v2-6]\n  duration: [5, "10"]\n  include:\n    - { sound: "off", mode: pro }\njobs:\n  - image: a.png\n    duration: "5"\n`,
      'm.yaml',
    );
    expect(manifest.defaults?.duration).toBe('10');
    expect(manifest.jobs[0]?.duration).toBe('5');
    expect(manifest.matrix?.duration).toEqual(['5', '10']);
    expect(manifest.id_salt).toBe('');
    expect(Object.keys(manifest.matrix ?? {})).toEqual(['mode', 'model_name', 'duration', 'include']);
    expect(Object.keys(manifest.matrix?.include?.[0] ?? {})).toEqual(['sound', 'mode']);
  });

  it('accepts every field of the create call, a list of images, repeat, matrix {} and limits', () => {
    const { manifest } = parseManifest(
      `${HEAD}id_salt: v2
limits: { concurrency: 4, rpm: 30, budget_usd: 12.5, task_timeout_min: 45, poll_interval_s: 5, download_concurrency: 2 }
defaults:
  model_name: kling-v1
  mode: std
  cfg_scale: 0.5
  negative_prompt: blur
  callback_url: https://example.com/hook
  sound: "off"
jobs:
  - image: [a.png, "b/*.jpg", https://example.com/c.png]
    prompt: hello
    repeat: 3
    matrix: {}
    static_mask: m.png
    dynamic_masks:
      - mask: d.png
        trajectories: [{ x: 1, y: 2 }, { x: 3, y: 4 }]
`,
      'm.yaml',
    );
    expect(manifest.limits).toEqual({ concurrency: 4, rpm: 30, budget_usd: 12.5, task_timeout_min: 45, poll_interval_s: 5, download_concurrency: 2 });
    expect(manifest.jobs[0]?.matrix).toEqual({});
    expect(manifest.jobs[0]?.image).toHaveLength(3);
  });

  it('ignores comments and key order', () => {
    const a = parseManifest(`${HEAD}jobs:\n  - { image: a.png, prompt: p, mode: pro }\n`, 'm.yaml').manifest;
    const b = parseManifest(`# comment\nname: test # here\nversion: 1\njobs:\n  - mode: pro\n    prompt: p\n    image: a.png\n`, 'm.yaml').manifest;
    expect(b).toEqual(a);
  });
});

describe('parseManifest: errors', () => {
  it('suggests the key a typo meant, at the key itself', () => {
    expect(parseErrors(`${HEAD}defaults:\n  modle_name: kling-v2-6\njobs:\n  - image: a.png\n    promt: hi\n`)).toMatchInlineSnapshot(`
      "error: jobs/m.yaml:4:3 at \`defaults.modle_name\`: unknown key \`modle_name\`. Did you mean \`model_name\`?
            modle_name: kling-v2-6
            ^

      error: jobs/m.yaml:7:5 at \`jobs[0].promt\`: unknown key \`promt\`. Did you mean \`prompt\`?
              promt: hi
              ^"
    `);
  });

  it('lists the valid keys when nothing is close, and explains keys that belong elsewhere', () => {
    expect(parseErrors(`${HEAD}limits:\n  banana: 1\ndefaults:\n  image: a.png\n  external_task_id: x\njobs:\n  - image: a.png\n`)).toMatchInlineSnapshot(`
      "error: jobs/m.yaml:4:3 at \`limits.banana\`: unknown key \`banana\`. Valid keys here: concurrency, concurrency_per_model, rpm, budget_usd, task_timeout_min, poll_interval_s, download_concurrency, absence_window_s, transit_window_s, request_timeout_s, download_timeout_s, max_video_mb.
            banana: 1
            ^

      error: jobs/m.yaml:6:3 at \`defaults.image\`: unknown key \`image\`. \`image\` belongs in each \`jobs[]\` entry (a matrix varies the other fields): move it there.
            image: a.png
            ^

      error: jobs/m.yaml:7:3 at \`defaults.external_task_id\`: unknown key \`external_task_id\`. klingrun sets \`external_task_id\` itself (kr- + the job id) so that resumed runs never pay twice: remove it.
            external_task_id: x
            ^"
    `);
  });

  it('finds unknown keys at every depth: matrix, include, dynamic masks, trajectories', () => {
    const text = `${HEAD}matrix:\n  mdoe: [std]\n  include:\n    - { sond: "on" }\njobs:\n  - image: a.png\n    dynamic_masks:\n      - mask: m.png\n        trajectory: []\n        trajectories: [{ x: 1, y: 2, z: 3 }, { x: 1, y: 1 }]\n`;
    const out = parseErrors(text);
    expect(out).toContain('jobs/m.yaml:4:3 at `matrix.mdoe`: unknown key `mdoe`. Did you mean `mode`?');
    expect(out).toContain('jobs/m.yaml:6:9 at `matrix.include[0].sond`: unknown key `sond`. Did you mean `sound`?');
    expect(out).toContain('jobs/m.yaml:11:9 at `jobs[0].dynamic_masks[0].trajectory`: unknown key `trajectory`. Did you mean `trajectories`?');
    expect(out).toContain('jobs/m.yaml:12:38 at `jobs[0].dynamic_masks[0].trajectories[0].z`: unknown key `z`. Valid keys here: x, y.');
  });

  it('names bad enum values; models and modes are left to the model table (manifest-rules.test.ts)', () => {
    expect(parseErrors(`${HEAD}matrix:\n  model_name: [kling-v2-6, kling-v26]\n  mode: [std, fast]\njobs:\n  - image: a.png\n`)).toBe('');
    expect(parseErrors(`${HEAD}matrix:\n  sound: ["on", loud]\njobs:\n  - image: a.png\n`)).toContain('jobs/m.yaml:4:17 at `matrix.sound[1]`: `loud` (string) is not one of on, off.');
  });

  it('checks every single-field API rule', () => {
    const long = 'x'.repeat(501);
    const text = `version: 2
name: Bad Name
defaults:
  duration: 7.5
  cfg_scale: 1.5
  negative_prompt: ${'n'.repeat(201)}
  callback_url: ftp://example.com/hook
  sound: loud
jobs:
  - image: a.png
    prompt: ${long}
    repeat: 0
    dynamic_masks:
      - { mask: a.png, trajectories: [{ x: 1, y: 1 }] }
      - { mask: a.png, trajectories: [{ x: 1.5, y: 1 }, { x: 1, y: 1 }] }
`;
    const lines = parseErrors(text).split('\n').filter((l) => l.startsWith('error:'));
    // Prompt lengths are the model table's (`limits`), checked when planning: manifest-rules.test.ts.
    expect(lines).toEqual([
      'error: jobs/m.yaml:1:10 at `version`: must be 1 (the only manifest version), got `2` (number).',
      'error: jobs/m.yaml:2:7 at `name`: may only use a-z, 0-9, ".", "_" and "-", got `Bad Name` (string).',
      'error: jobs/m.yaml:4:13 at `defaults.duration`: must be a whole number of seconds, e.g. 5 or 10, got `7.5` (number).',
      'error: jobs/m.yaml:5:14 at `defaults.cfg_scale`: must be ≤ 1, got `1.5` (number).',
      'error: jobs/m.yaml:7:17 at `defaults.callback_url`: must be an http(s) URL, e.g. https://example.com/hook, got `ftp://example.com/hook` (string).',
      'error: jobs/m.yaml:8:10 at `defaults.sound`: `loud` (string) is not one of on, off.',
      'error: jobs/m.yaml:12:13 at `jobs[0].repeat`: must be ≥ 1, got `0` (number).',
      'error: jobs/m.yaml:14:38 at `jobs[0].dynamic_masks[0].trajectories`: has 1 entry; at least 2 are needed.',
      'error: jobs/m.yaml:15:44 at `jobs[0].dynamic_masks[1].trajectories[0].x`: expected a whole number, got `1.5` (number).',
    ]);
  });

  it('limits dynamic masks to 6 and trajectories to 77 points', () => {
    const points = (n: number) => `[${Array.from({ length: n }, (_, i) => `{ x: ${i}, y: ${i} }`).join(', ')}]`;
    const mask = (n: number) => `      - { mask: a.png, trajectories: ${points(n)} }\n`;
    expect(parseErrors(`${HEAD}jobs:\n  - image: a.png\n    dynamic_masks:\n${mask(77)}`)).toBe('');
    expect(parseErrors(`${HEAD}jobs:\n  - image: a.png\n    dynamic_masks:\n${mask(78)}`)).toContain('has 78 entries; at most 77 are allowed.');
    expect(parseErrors(`${HEAD}jobs:\n  - image: a.png\n    dynamic_masks:\n${mask(2).repeat(7)}`)).toContain(
      'jobs/m.yaml:6:7 at `jobs[0].dynamic_masks`: has 7 entries; at most 6 are allowed.',
    );
  });

  it('validates the limits block', () => {
    const out = parseErrors(`${HEAD}limits: { concurrency: 0, rpm: 1.5, budget_usd: 0, poll_interval_s: -1 }\njobs:\n  - image: a.png\n`);
    expect(out.split('\n').filter((l) => l.startsWith('error:'))).toEqual([
      'error: jobs/m.yaml:3:24 at `limits.concurrency`: must be ≥ 1, got `0` (number).',
      'error: jobs/m.yaml:3:32 at `limits.rpm`: expected a whole number, got `1.5` (number).',
      'error: jobs/m.yaml:3:49 at `limits.budget_usd`: must be > 0, got `0` (number).',
      'error: jobs/m.yaml:3:69 at `limits.poll_interval_s`: must be > 0, got `-1` (number).',
    ]);
  });

  it('explains wrong shapes in YAML words', () => {
    const out = parseErrors(`${HEAD}defaults: [model_name]\njobs:\n  - image: { path: a.png }\n    prompt: 42\n    repeat: 1.5\n`);
    expect(out.split('\n').filter((l) => l.startsWith('error:'))).toEqual([
      'error: jobs/m.yaml:3:11 at `defaults`: expected a map of keys, got a list of 1.',
      'error: jobs/m.yaml:5:12 at `jobs[0].image`: must be a path, a glob or an https URL, or a list of them, got a map.',
      'error: jobs/m.yaml:6:13 at `jobs[0].prompt`: expected text, got `42` (number).',
      'error: jobs/m.yaml:7:13 at `jobs[0].repeat`: expected a whole number, got `1.5` (number).',
    ]);
    expect(parseErrors(`${HEAD}jobs: { image: a.png }\n`)).toContain('jobs/m.yaml:3:7 at `jobs`: expected a list, got a map.');
  });

  it('points missing required fields at the enclosing entry', () => {
    expect(parseErrors(`name: test\njobs:\n  - prompt: no image here\n`)).toMatchInlineSnapshot(`
      "error: jobs/m.yaml:1:1 at \`version\`: is required but missing.
          name: test
          ^

      error: jobs/m.yaml:3:5 at \`jobs[0]\`: this entry names no images: give it \`image\` (a path, glob or https URL), \`from\` (a .csv or .jsonl table), or, for an end-frame-only job on a model that takes one, \`image_tail\` alone.
            - prompt: no image here
              ^"
    `);
    expect(parseErrors(`${HEAD}jobs: []\n`)).toContain('jobs/m.yaml:3:7 at `jobs`: has 0 entries; at least 1 is needed.');
    expect(parseErrors(`${HEAD}jobs:\n  - image: []\n`)).toContain('at `jobs[0].image`: has 0 entries; at least 1 is needed.');
    expect(parseErrors(`${HEAD}matrix:\n  mode: []\njobs:\n  - image: a.png\n`)).toContain('at `matrix.mode`: has 0 entries; at least 1 is needed.');
  });

  it('reports invalid YAML and tabs with their position', () => {
    expect(parseErrors(`${HEAD}jobs:\n\t- image: a.png\n`)).toMatchInlineSnapshot(`
      "error: jobs/m.yaml:4:1: invalid YAML: Tabs are not allowed as indentation. Indent with spaces; YAML does not allow tabs.
          	- image: a.png
          ^"
    `);
    expect(parseErrors(`${HEAD}name: again\njobs: [\n`)).toContain('jobs/m.yaml:3:1: invalid YAML: Map keys must be unique. Remove one of the two entries.');
  });

  it('refuses an empty file and a document that is not a map', () => {
    expect(parseErrors('# nothing yet\n')).toBe('error: jobs/m.yaml: the manifest is empty. Start it with `version: 1`, a `name` and a `jobs` list.');
    expect(parseErrors('- a\n- b\n')).toContain('jobs/m.yaml:1:1: the manifest must be a map of keys (version, name, jobs, …), not a list or a single value.');
  });

  it('reports all problems at once, capped, in reading order', () => {
    const entries = Array.from({ length: MAX_ISSUES + 50 }, () => '  - { image: a.png, sound: bad }\n').join('');
    let error: unknown;
    try {
      parseManifest(`${HEAD}jobs:\n${entries}`, 'm.yaml');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ManifestError);
    const issues = (error as ManifestError).issues;
    expect(issues).toHaveLength(MAX_ISSUES);
    expect(issues.map((i) => i.line)).toEqual(issues.map((_, k) => k + 4));
  });

  it('cuts very long source lines around the column', () => {
    const out = parseErrors(`${HEAD}jobs:\n  - { image: a.png, cfg_scale: 3, prompt: ${'p'.repeat(600)}, sound: fast }\n`);
    // The second error (`sound`, at column 652) shows a window of its line, caret on the value.
    const [, excerpt, caret] = out.split('\n\n')[1]?.split('\n') ?? [];
    expect(out.split('\n\n')[1]).toContain('jobs/m.yaml:4:652 at `jobs[0].sound`');
    expect(excerpt?.length).toBeLessThan(110);
    expect(excerpt?.slice(caret?.indexOf('^'))).toBe('fast }');
  });
});

describe('checkManifest: what a failed schema check leaves to check', () => {
  it('keeps every entry that passed, at its own index, and marks the ones that failed', () => {
    const checked = checkManifest(`${HEAD}jobs:\n  - { image: a.png, promt: p }\n  - { image: b.png, mode: pro }\n  - { image: c.png, cfg_scale: 3 }\n`, 'm.yaml');
    expect(checked.issues.map((i) => i.path)).toEqual(['jobs[0].promt', 'jobs[2].cfg_scale']);
    expect([...checked.badEntries]).toEqual([0, 2]);
    expect(checked.manifest?.jobs).toEqual([{}, { image: 'b.png', mode: 'pro' }, {}]);
    expect(checked.rulesCheckable).toBe(true);
  });

  it('repairs the top-level fields that need no guess (version, name, limits, unknown keys) and keeps checking', () => {
    const checked = checkManifest('version: 2\nname: Bad Name\nlimits: { rpm: 0 }\nowner: me\njobs:\n  - image: a.png\n', 'm.yaml');
    expect(checked.issues.map((i) => i.path)).toEqual(['version', 'name', 'limits.rpm', 'owner']);
    expect(checked.manifest?.jobs).toEqual([{ image: 'a.png' }]);
    expect(checked.rulesCheckable).toBe(true);
  });

  it('does not check model rules when defaults or the matrix are broken: every request would repeat the mistake', () => {
    expect(checkManifest(`${HEAD}defaults: { modle_name: kling-v3 }\njobs:\n  - image: a.png\n`, 'm.yaml').rulesCheckable).toBe(false);
    expect(checkManifest(`${HEAD}matrix: { mode: pro }\njobs:\n  - image: a.png\n`, 'm.yaml').rulesCheckable).toBe(false);
  });

  it('has nothing more to check without a list of jobs, or after a YAML error', () => {
    expect(checkManifest(`${HEAD}jobs: []\n`, 'm.yaml').manifest).toBeUndefined();
    expect(checkManifest(`${HEAD}jobs: {image: a.png}\n`, 'm.yaml').manifest).toBeUndefined();
    expect(checkManifest(`${HEAD}jobs:\n\t- image: a.png\n`, 'm.yaml').manifest).toBeUndefined();
  });
});

describe('loadPlan reports every problem in one pass', () => {
  const plan = async (manifest: string, files: Record<string, string | Uint8Array> = {}): Promise<string[]> => {
    const dir = tempTree({ 'm.yaml': manifest, 'a.png': png(1), ...files });
    const error = await loadPlan('m.yaml', { cwd: dir }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ManifestError);
    return (error as ManifestError).issues.map((i) => `${i.line} ${i.path} ${i.message}`);
  };

  it('a schema error in one entry does not stop the image and rule checks of the others', async () => {
    const issues = await plan(`${HEAD}jobs:\n  - { image: a.png, sound: loud }\n  - { image: gone.png }\n  - { image: a.png, model_name: kling-v2-6, mode: 4k }\n`);
    expect(issues).toEqual([
      expect.stringMatching(/^4 jobs\[0\]\.sound /),
      expect.stringMatching(/^5 jobs\[1\]\.image `gone\.png` does not exist/),
      expect.stringMatching(/^6 jobs\[2\]\.mode kling-v2-6 takes mode std or pro, not 4k/),
    ]);
  });

  it('a broken `defaults` is reported with the images, without rule errors that would only echo it', async () => {
    const issues = await plan(`${HEAD}defaults: { modle_name: kling-v2-6, sound: "on" }\njobs:\n  - { image: gone.png }\n`);
    expect(issues).toEqual([expect.stringMatching(/^3 defaults\.modle_name unknown key/), expect.stringMatching(/^5 jobs\[0\]\.image `gone\.png` does not exist/)]);
  });

  it('reads the tables of valid entries beside a broken one', async () => {
    const issues = await plan(`${HEAD}jobs:\n  - { image: a.png, repeat: 0 }\n  - { from: rows.csv }\n`, { 'rows.csv': 'image,cfg_scale\na.png,9\n' });
    expect(issues).toEqual([expect.stringMatching(/^4 jobs\[0\]\.repeat /), expect.stringMatching(/^2 row 1, column cfg_scale /)]);
  });
});
