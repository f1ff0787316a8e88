// Prompt templates: `{caption}` fills from the row's columns and `{motion}` from a matrix key that
// is no field, so a table's captions cross a camera-motion sweep. What is sent, what the id is
// made of and what the plan shows is the filled prompt; every template problem is located.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseTemplate } from '../src/manifest/template.js';
import { loadPlan } from '../src/plan/index.js';
import { variantLabels, variantOf, variantOfFields } from '../src/plan/variants.js';
import { buildGrid } from '../src/report/gallery-grid.js';
import { planErrorsIn, planIn, png } from './helpers/manifest.js';
import { reportFor } from './helpers/reports.js';

const HEAD = 'version: 1\nname: test\ndefaults: { model_name: kling-v2-6, mode: std }\n';
const IMAGES = { 'images/a.png': png(1), 'images/b.png': png(2) };
const CSV = 'image,caption,category\nimages/a.png,a harbor at dawn,sea\nimages/b.png,"a meadow, windy",land\n';

/** The plan of `manifest` beside the two images and (by default) the caption table. */
const plan = (manifest: string, files: Record<string, string | Uint8Array> = { 'data/t.csv': CSV }) => planIn(manifest, { ...IMAGES, ...files });
const planErrors = (manifest: string, files: Record<string, string | Uint8Array> = { 'data/t.csv': CSV }) => planErrorsIn(manifest, { ...IMAGES, ...files });

const SWEEP = `${HEAD}matrix:\n  motion: [slow pan left, dolly in]\njobs:\n  - from: data/t.csv\n    prompt: "{caption}; {motion}"\n    negative_prompt: "no {category} blur"\n`;

describe('filling', () => {
  it('crosses a table column with a matrix key that is only a template variable', async () => {
    const { plan: p } = await plan(SWEEP);
    expect(p.jobs.map((j) => [j.request.prompt, j.request.negative_prompt, j.variant])).toEqual([
      ['a harbor at dawn; slow pan left', 'no sea blur', { motion: 'slow pan left' }],
      ['a harbor at dawn; dolly in', 'no sea blur', { motion: 'dolly in' }],
      ['a meadow, windy; slow pan left', 'no land blur', { motion: 'slow pan left' }],
      ['a meadow, windy; dolly in', 'no land blur', { motion: 'dolly in' }],
    ]);
    // The variable is not a request field: it is never sent.
    expect(p.jobs.every((j) => !('motion' in j.request))).toBe(true);
  });

  it('makes the ids of the filled prompts: the same manifest gives the same ids, equal to the prompts written out', async () => {
    const first = await plan(SWEEP);
    const again = await plan(SWEEP);
    expect(again.plan.jobs.map((j) => j.id)).toEqual(first.plan.jobs.map((j) => j.id));
    const written = await plan(
      `${HEAD}jobs:\n  - image: images/a.png\n    prompt: "a harbor at dawn; dolly in"\n    negative_prompt: "no sea blur"\n`,
      {},
    );
    expect(first.plan.jobs[1]?.id).toBe(written.plan.jobs[0]?.id);
  });

  it('puts a variable axis in the variant: its label, its folder, a report row and a gallery column', async () => {
    const { plan: p } = await plan(SWEEP);
    const [slow, dolly] = p.jobs.slice(0, 2).map((job) => variantOf(job));
    expect(slow?.label).toBe('kling-v2-6 std 5s motion="slow pan left"');
    expect(dolly?.label).toBe('kling-v2-6 std 5s motion="dolly in"');
    expect(slow?.key).not.toBe(dolly?.key);
    expect(slow?.folder).not.toBe(dolly?.folder);
    // report.json's by_variant holds the fields; reading them back gives the same variant.
    expect(variantOfFields(Object.fromEntries(slow?.fields ?? [])).key).toBe(slow?.key);
    // The terminal's labels say what differs first, and the rest once.
    const labels = variantLabels([slow, dolly].flatMap((v) => (v ? [v] : [])));
    expect([slow, dolly].map((v) => v && labels.label(v))).toEqual(['motion="slow pan left"', 'motion="dolly in"']);
    expect(labels.common).toBe('kling-v2-6 std 5s');
    // The gallery has one column per motion, labelled by it.
    const grid = buildGrid(reportFor(p, []).jobs);
    expect(grid.columns.map((column) => column.label)).toEqual([[['motion', 'slow pan left']], [['motion', 'dolly in']]]);
  });

  it('reads `{{` and `}}` as braces, fills matrix values and multi_prompt shots, and never reads a cell as a template', async () => {
    const { plan: p } = await plan(
      `version: 1\nname: test\ndefaults: { model_name: kling-v3, mode: std, duration: 10, multi_shot: true, shot_type: customize }\nmatrix:\n  prompt: ["{caption} {{literal}}"]\njobs:\n  - from: data/t.csv\n    multi_prompt:\n      - { prompt: "{caption}, wide", duration: 5 }\n      - { prompt: "close on {category}", duration: 5 }\n`,
      { 'data/t.csv': 'image,caption,category\nimages/a.png,{not a variable},sea\n' },
    );
    expect(p.jobs[0]?.request.prompt).toBe('{not a variable} {literal}');
    expect(p.jobs[0]?.request.multi_prompt?.map((shot) => shot.prompt)).toEqual(['{not a variable}, wide', 'close on sea']);
  });
});

describe('the example', () => {
  it('jobs/captions.yaml crosses each caption of its CSV with three camera moves', async () => {
    const { plan: p } = await loadPlan(fileURLToPath(new URL('../jobs/captions.yaml', import.meta.url)));
    expect(p.jobs).toHaveLength(9);
    expect(new Set(p.jobs.map((job) => variantOf(job).label)).size).toBe(3);
    expect(p.jobs[1]?.request.prompt).toBe('fishing boats at the harbor at dawn, the water shimmering; dolly in');
    expect(p.jobs[1]?.extra).toEqual({ caption: 'fishing boats at the harbor at dawn, the water shimmering', category: 'coast' });
  });

  it('is accepted by the JSON Schema editors use, matrix variable and all', () => {
    const read = (file: string) => readFileSync(new URL(`../${file}`, import.meta.url), 'utf8');
    const validate = new Ajv2020({ strict: false, allErrors: true }).compile(JSON.parse(read('schemas/manifest.schema.json')));
    expect(validate(parse(read('jobs/captions.yaml'))), JSON.stringify(validate.errors)).toBe(true);
    expect(validate(parse('version: 1\nname: x\nmatrix: { motion: [[nested]] }\njobs: [{ image: a.png }]\n'))).toBe(false);
  });
});

describe('problems', () => {
  it('names an unknown variable at its line and column, with a did-you-mean and the known variables', async () => {
    const out = await planErrors(`${HEAD}matrix:\n  motion: [dolly in]\njobs:\n  - from: data/t.csv\n    prompt: "{caption}; {moton}"\n`);
    expect(out).toContain('m.yaml:8:25 at `jobs[0].prompt`: unknown variable `moton` in this template of jobs[0].');
    // The key the typo meant is not called unknown as well.
    expect(out).not.toContain('unknown key');
    expect(out).toContain('Did you mean `motion`? The variables of jobs[0]: motion, image, caption, category.');
  });

  it('says an entry without a table or matrix has no variables, and points at a malformed template', async () => {
    const out = await planErrors(`${HEAD}jobs:\n  - image: images/a.png\n    prompt: "a {cat"\n  - image: images/b.png\n    prompt: "{caption}"\n`, {});
    expect(out).toContain('m.yaml:6:16 at `jobs[0].prompt`: this prompt has a `{` that is never closed. Close the variable with `}`, or write `{{` for a literal brace.');
    expect(out).toContain('m.yaml:8:14 at `jobs[1].prompt`: unknown variable `caption` in this template of jobs[1]. jobs[1] has no variables.');
  });

  it('still calls a matrix key that no prompt uses an unknown key, saying how variables work', async () => {
    const out = await planErrors(`${HEAD}matrix:\n  motion: [dolly in]\njobs:\n  - image: images/a.png\n    prompt: plain\n`, {});
    expect(out).toContain('m.yaml:5:3 at `matrix.motion`: unknown key `motion`.');
    expect(out).toContain('A key that is not a field is a template variable: use it in a prompt as `{motion}`.');
    // A request field the matrix cannot vary is never a variable, even where a prompt names it.
    const image = await planErrors(`${HEAD}matrix:\n  image_tail: [images/b.png]\njobs:\n  - image: images/a.png\n    prompt: "{image_tail}"\n`, {});
    expect(image).toContain('m.yaml:5:3 at `matrix.image_tail`: unknown key `image_tail`.');
  });

  it('refuses an empty cell a prompt needs, at its row and column, and a template that fills to nothing', async () => {
    const out = await planErrors(`${HEAD}jobs:\n  - from: data/t.csv\n    prompt: "{caption}"\n    negative_prompt: "{note}"\n`, {
      'data/t.csv': 'image,caption,note\nimages/a.png,,x\nimages/b.png,fine,\n',
    });
    expect(out).toContain('data/t.csv:2:14 at `row 1, column caption`: `caption` is empty, and the prompt `{caption}` (`jobs[0].prompt`, line 6 of m.yaml) needs it');
    expect(out).toContain('Fill the cell, or leave the row out (delete it, or filter the table with `where`).');
    expect(out).toContain('data/t.csv:3:1 at `row 2`: the template `{note}` (`jobs[0].negative_prompt`, line 7 of m.yaml) fills to empty text; the job would be paid for without a negative prompt (jobs[0] data/t.csv row 2).');
  });

  it('refuses a variable that is both a column and a matrix key', async () => {
    const out = await planErrors(`${HEAD}matrix:\n  category: [sea]\njobs:\n  - from: data/t.csv\n    prompt: "{caption} {category}"\n`);
    expect(out).toContain('`category` is both a column of data/t.csv and a template variable of the matrix that applies to this entry');
  });
});

describe('parseTemplate', () => {
  it('splits literals and variables, and names each malformed shape', () => {
    expect(parseTemplate('{a} and { b }}}')).toMatchObject({ ok: true, parts: [{ name: 'a' }, ' and ', { name: 'b', token: '{ b }' }, '}'] });
    expect(parseTemplate('x } y')).toMatchObject({ ok: false, message: 'this prompt has a `}` that closes no `{`.' });
    expect(parseTemplate('{}')).toMatchObject({ ok: false, token: '{}' });
    expect(parseTemplate('plain text')).toEqual({ ok: true, parts: ['plain text'], variables: [] });
  });
});
