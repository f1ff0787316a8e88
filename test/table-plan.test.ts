// Jobs from tables: rows become requests under the same precedence, matrix and rules as written
// entries; `name` and the other columns ride along without entering the id; every bad row is
// located in the table; ids survive reordering, new columns and renames, and grow with new rows.
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { formatError } from '../src/cli/format-error.js';
import { ManifestError } from '../src/errors.js';
import { MAX_ISSUES } from '../src/manifest/load.js';
import { loadPlan } from '../src/plan/index.js';
import { planSchema, type PlannedJob } from '../src/plan/schema.js';
import { png, tempTree } from './helpers/manifest.js';

const HEAD = 'version: 1\nname: test\n';
const IMAGES = { 'images/a.png': png(1), 'images/b.png': png(2), 'images/c.png': png(3) };

async function plan(manifest: string, files: Record<string, string | Uint8Array>) {
  const dir = tempTree({ 'm.yaml': manifest, ...IMAGES, ...files });
  return { dir, ...(await loadPlan('m.yaml', { cwd: dir })) };
}

async function planErrors(manifest: string, files: Record<string, string | Uint8Array>): Promise<string> {
  try {
    await plan(manifest, files);
    return '';
  } catch (error) {
    if (!(error instanceof ManifestError)) throw error;
    return formatError(error);
  }
}

const summary = (job: PlannedJob) => {
  const { image, ...rest } = job.request;
  return { image: image?.kind === 'file' ? image.path : image?.url, ...rest, ...(job.name ? { name: job.name } : {}), ...(job.extra ? { extra: job.extra } : {}) };
};

describe('rows as jobs', () => {
  it('sends the API-field columns, names the output by `name`, carries other columns as text', async () => {
    const { plan: p } = await plan(`${HEAD}defaults: { model_name: kling-v2-6, mode: std, negative_prompt: blur }\njobs:\n  - from: data/t.csv\n`, {
      'data/t.csv': 'source_id,image,prompt,name,split,mode,duration\n7,images/a.png,"pan left, slowly",clip_a,train,pro,10\n8,images/b.png,"café au lait, 東京の夜",,val,,\n',
    });
    expect(p.jobs.map(summary)).toEqual([
      { image: 'images/a.png', model_name: 'kling-v2-6', mode: 'pro', duration: '10', prompt: 'pan left, slowly', negative_prompt: 'blur', name: 'clip_a', extra: { source_id: '7', split: 'train' } },
      { image: 'images/b.png', model_name: 'kling-v2-6', mode: 'std', duration: '5', prompt: 'café au lait, 東京の夜', negative_prompt: 'blur', extra: { source_id: '8', split: 'val' } },
    ]);
    expect(() => planSchema.parse(p)).not.toThrow();
  });

  it('applies defaults < entry < row, then the matrix over every row, and repeat to each', async () => {
    const { plan: p } = await plan(
      `${HEAD}defaults: { model_name: kling-v2-6, prompt: from defaults }\nmatrix: { mode: [std, pro] }\njobs:\n  - from: data/t.jsonl\n    negative_prompt: from the entry\n    repeat: 2\n`,
      { 'data/t.jsonl': '{"image": "images/a.png", "prompt": "row one", "duration": 10}\n{"image": "images/b.png", "cfg_scale": null}\n' },
    );
    expect(p.jobs.map((j) => [j.request.image?.kind === 'file' && j.request.image.path, j.request.prompt, j.request.negative_prompt, j.request.duration, j.variant, j.repeat])).toEqual([
      ['images/a.png', 'row one', 'from the entry', '10', { mode: 'std' }, 1],
      ['images/a.png', 'row one', 'from the entry', '10', { mode: 'std' }, 2],
      ['images/a.png', 'row one', 'from the entry', '10', { mode: 'pro' }, 1],
      ['images/a.png', 'row one', 'from the entry', '10', { mode: 'pro' }, 2],
      ['images/b.png', 'from defaults', 'from the entry', '5', { mode: 'std' }, 1],
      ['images/b.png', 'from defaults', 'from the entry', '5', { mode: 'std' }, 2],
      ['images/b.png', 'from defaults', 'from the entry', '5', { mode: 'pro' }, 1],
      ['images/b.png', 'from defaults', 'from the entry', '5', { mode: 'pro' }, 2],
    ]);
  });

  it('renames columns, filters rows with `where`, and reads images relative to the manifest', async () => {
    const { plan: p } = await plan(`${HEAD}jobs:\n  - from: data/t.csv\n    columns: { image: path, prompt: caption, name: clip }\n    where: { split: train, fold: 1 }\n`, {
      'data/t.csv': 'path,caption,clip,split,fold\nimages/a.png,one,c1,train,1\nimages/b.png,two,c2,val,1\nimages/c.png,three,c3,train,2\nimages/c.png,four,c4,train,1\n',
    });
    expect(p.jobs.map(summary)).toEqual([
      { image: 'images/a.png', model_name: 'kling-v1', mode: 'std', duration: '5', prompt: 'one', name: 'c1', extra: { split: 'train', fold: '1' } },
      { image: 'images/c.png', model_name: 'kling-v1', mode: 'std', duration: '5', prompt: 'four', name: 'c4', extra: { split: 'train', fold: '1' } },
    ]);
  });

  it('carries JSONL values of any type as text, and reads typed API fields as they are', async () => {
    const { plan: p } = await plan(`${HEAD}jobs:\n  - from: t.jsonl\n`, {
      't.jsonl': '{"image": "images/a.png", "cfg_scale": 0.25, "n": 3, "ok": true, "tags": ["a", "b"], "none": null}\n',
    });
    expect(p.jobs[0]?.request.cfg_scale).toBe(0.25);
    expect(p.jobs[0]?.extra).toEqual({ n: '3', ok: 'true', tags: '["a","b"]', none: '' });
  });

  it('reads cfg_scale and dynamic_masks from CSV text', async () => {
    const { plan: p } = await plan(`${HEAD}jobs:\n  - from: t.csv\n`, {
      't.csv': 'image,cfg_scale,dynamic_masks\nimages/a.png,0.5,"[{""mask"": ""images/b.png"", ""trajectories"": [{""x"": 1, ""y"": 2}, {""x"": 3, ""y"": 4}]}]"\n',
    });
    expect(p.jobs[0]?.request.cfg_scale).toBe(0.5);
    expect(p.jobs[0]?.request.dynamic_masks?.[0]).toMatchObject({ mask: { path: 'images/b.png' }, trajectories: [{ x: 1, y: 2 }, { x: 3, y: 4 }] });
  });

  it('collapses identical rows with a warning naming them, and warns about columns that look like fields', async () => {
    const { plan: p } = await plan(`${HEAD}jobs:\n  - from: t.csv\n`, { 't.csv': 'image,prompt,negativ_prompt\nimages/a.png,hi,x\nimages/b.png,hi,y\nimages/a.png,hi,z\n' });
    expect(p.jobs).toHaveLength(2);
    expect(p.warnings).toEqual([
      't.csv: column `negativ_prompt` is not a field klingrun sends, so it is carried through as data; if it is meant as `negative_prompt`, rename it or map it with `columns: { negative_prompt: negativ_prompt }`.',
      'jobs[0]: 1 job(s) are identical to other jobs of the same entry (same request, image content and repeat; e.g. `t.csv row 3` has the same content as `t.csv row 1`), so each is planned once.',
    ]);
  });
});

describe('the shipped example', () => {
  it('jobs/dataset-table.yaml plans its CSV: quoted and non-ASCII captions, names, carried columns', async () => {
    const { plan: p } = await loadPlan(fileURLToPath(new URL('../jobs/dataset-table.yaml', import.meta.url)));
    expect(p.jobs.map((j) => [j.name, j.request.prompt, j.request.duration, j.extra])).toEqual([
      ['harbor_push', 'slow push-in on the harbor, the water shimmering', '5', { source_id: 'sa-0001', split: 'train' }],
      ['meadow_wind', 'wind moves through the meadow, clouds drift overhead', '5', { source_id: 'sa-0002', split: 'train' }],
      ['harbor_night', 'café au lait, 東京の夜', '5', { source_id: 'sa-0003', split: 'val' }],
      ['meadow_gust', 'a "quiet" morning, then\na gust of wind bends the grass', '10', { source_id: 'sa-0004', split: 'train' }],
      ['harbor_gulls', 'gulls circle the masts at dusk', '5', { source_id: 'sa-0005', split: 'test' }],
    ]);
  });
});

describe('row errors', () => {
  it('lists every bad row at its file, line, column and row; nothing is planned', async () => {
    const out = await planErrors(`${HEAD}defaults: { model_name: kling-v2-6 }\njobs:\n  - from: data/t.csv\n    columns: { prompt: caption }\n`, {
      'data/t.csv': `image,caption,name,mode,cfg_scale\nimages/a.png,fine,ok_1,pro,\nimages/nope.png,fine,ok_2,pro,\nimages/a.png,"${'x'.repeat(501)}",ok_3,fast,\n,hi,sub/dir,pro,\nimages/b.png,hi,ok_5,pro,0.5\nimages/*.png,hi,ok_6,,\n`,
    });
    expect(out).toMatchInlineSnapshot(`
      "error: data/t.csv:3:1 at \`row 2, column image\`: \`images/nope.png\` does not exist (paths are relative to the manifest's folder).
          images/nope.png,fine,ok_2,pro,
          ^

      error: data/t.csv:4:14 at \`row 3, column caption (prompt)\`: \`prompt\` is 501 characters long; the limit is 500 on kling-v2-6 (\`limits\` in the model table src/data/models.yaml). Shorten it, or, if your provider takes longer text, raise \`limits.prompt\` in a copy of src/data/models.yaml, passed with --models <file> (see docs/models-and-prices.md).
          images/a.png,"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx…
                       ^

      error: data/t.csv:4:523 at \`row 3, column mode\`: kling-v2-6 takes mode std or pro, not fast. If the provider offers fast for this model, add it to the model's \`modes\` in a copy of src/data/models.yaml, passed with --models <file> (see docs/models-and-prices.md).
          …xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",ok_3,fast,
                                                                                                          ^

      error: data/t.csv:5:1 at \`row 4, column image\`: is required but missing.
          ,hi,sub/dir,pro,
          ^

      error: data/t.csv:5:5 at \`row 4, column name\`: \`sub/dir\` contains a path separator; \`name\` is a file name, not a path. Use e.g. \`sub_dir\`.
          ,hi,sub/dir,pro,
              ^

      error: data/t.csv:6:26 at \`row 5, column cfg_scale\`: kling-v2-6 does not support \`cfg_scale\`. Remove it, or use another model. Models that do: kling-v1, kling-v1-5, kling-v1-6.
          images/b.png,hi,ok_5,pro,0.5
                                   ^

      error: data/t.csv:7:1 at \`row 6, column image\`: \`images/*.png\` is a glob; this field takes exactly one image file or https URL.
          images/*.png,hi,ok_6,,
          ^"
    `);
  });

  it('names the rows a manifest-side rule breaks in, at the manifest field', async () => {
    const out = await planErrors(`${HEAD}defaults: { cfg_scale: 0.5 }\njobs:\n  - from: t.jsonl\n`, {
      't.jsonl': '{"image": "images/a.png", "model_name": "kling-v1"}\n{"image": "images/b.png", "model_name": "kling-v2-6"}\n{"image": "images/c.png", "model_name": "kling-v2-6"}\n',
    });
    expect(out).toMatchInlineSnapshot(`
      "error: m.yaml:3:24 at \`defaults.cfg_scale\`: kling-v2-6 does not support \`cfg_scale\` (in jobs[0] t.jsonl row 2, and 1 more combination(s)). Remove it, or use another model. Models that do: kling-v1, kling-v1-5, kling-v1-6.
          defaults: { cfg_scale: 0.5 }
                                 ^"
    `);
  });

  it('checks names as file stems: no separators, no leading dot, safe characters, trimmed', async () => {
    const out = await planErrors(`${HEAD}jobs:\n  - from: t.csv\n`, { 't.csv': 'image,name\nimages/a.png,  padded_ok  \nimages/a.png,..\\up\nimages/a.png,.hidden\nimages/a.png,clip 01\n' });
    expect(out.split('\n\n').map((e) => e.split('\n')[0])).toEqual([
      'error: t.csv:3:14 at `row 2, column name`: `..\\up` contains a path separator; `name` is a file name, not a path. Use e.g. `up`.',
      'error: t.csv:4:14 at `row 3, column name`: `.hidden` starts with a dot; `name` is a plain file name (no hidden files, no `..`). Use e.g. `hidden`.',
      'error: t.csv:5:14 at `row 4, column name`: `clip 01` contains a space; a name may use letters a-z and A-Z, digits, ".", "_" and "-". Use e.g. `clip_01`.',
    ]);
    const { plan: p } = await plan(`${HEAD}jobs:\n  - from: t.csv\n`, { 't.csv': 'image,name\nimages/a.png,  padded_ok  \n' });
    expect(p.jobs[0]?.name).toBe('padded_ok');
  });

  it('lists bad rows up to the cap', async () => {
    const rows = Array.from({ length: 300 }, (_, i) => `images/a.png,p${i},fast\n`).join('');
    const error = await plan(`${HEAD}jobs:\n  - from: t.csv\n`, { 't.csv': `image,prompt,mode\n${rows}` }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ManifestError);
    const issues = (error as ManifestError).issues;
    expect(issues).toHaveLength(MAX_ISSUES);
    expect(issues.slice(0, 2).map((i) => [i.file, i.line, i.path])).toEqual([
      ['t.csv', 2, 'row 1, column mode'],
      ['t.csv', 3, 'row 2, column mode'],
    ]);
  });

  it('reports table-wide problems once, in the manifest, with suggestions', async () => {
    const out = await planErrors(`${HEAD}jobs:\n  - from: t.csv\n    columns: { prompt: captoin }\n    where: { splt: train }\n  - from: missing.jsonl\n  - from: u.csv\n    prompt: hi\n    where: { split: test }\n`, {
      't.csv': 'image_path,caption,split\nimages/a.png,x,train\n',
      'u.csv': 'image,prompt,split\nimages/a.png,x,train\nimages/b.png,y,val\n',
    });
    expect(out).toMatchInlineSnapshot(`
      "error: m.yaml:4:11 at \`jobs[0].from\`: t.csv has no \`image\` column. Read it from \`image_path\` with \`columns: { image: image_path }\`.
            - from: t.csv
                    ^

      error: m.yaml:5:24 at \`jobs[0].columns.prompt\`: t.csv has no column \`captoin\`. Did you mean \`caption\`?
              columns: { prompt: captoin }
                                 ^

      error: m.yaml:6:14 at \`jobs[0].where.splt\`: t.csv has no column \`splt\` to filter on. Did you mean \`split\`?
              where: { splt: train }
                       ^

      error: m.yaml:7:11 at \`jobs[1].from\`: \`missing.jsonl\` does not exist (paths are relative to the manifest's folder).
            - from: missing.jsonl
                    ^

      error: m.yaml:9:5 at \`jobs[2].prompt\`: \`prompt\` is set both in this job entry and by the column \`prompt\` of u.csv; the column would override it in every row. Remove one of the two.
              prompt: hi
              ^"
    `);
    expect(await planErrors(`${HEAD}jobs:\n  - from: u.csv\n    where: { split: test }\n`, { 'u.csv': 'image,split\nimages/a.png,train\nimages/b.png,val\n' })).toMatchInlineSnapshot(`
      "error: m.yaml:5:12 at \`jobs[0].where\`: no row of u.csv matches \`where\` (2 rows read). In the table, \`split\` has "train", "val".
              where: { split: test }
                     ^"
    `);
  });

  it('refuses a column that the matrix also sets, and entries that mix `image` and `from`', async () => {
    const out = await planErrors(`${HEAD}matrix: { prompt: [a, b] }\njobs:\n  - from: t.csv\n    columns: { prompt: caption }\n`, {
      't.csv': 'image,caption\nimages/a.png,x\n',
    });
    expect(out).toMatchInlineSnapshot(`
      "error: m.yaml:6:24 at \`jobs[0].columns.prompt\`: \`prompt\` is set both by the column \`caption\` of t.csv and by the matrix that applies to this entry (\`matrix.prompt\`, line 3); the matrix would override the column in every row. Remove the column or the matrix key.
              columns: { prompt: caption }
                                 ^"
    `);
    expect(await planErrors(`${HEAD}jobs:\n  - { image: images/a.png, from: t.csv }\n  - { image: images/a.png, where: { split: x } }\n  - { from: t.txt }\n`, {})).toMatchInlineSnapshot(`
      "error: m.yaml:4:34 at \`jobs[0].from\`: this entry has both \`image\` and \`from\`; an entry takes its images either from \`image\` or from the rows of a table.
            - { image: images/a.png, from: t.csv }
                                           ^

      error: m.yaml:5:35 at \`jobs[1].where\`: \`where\` applies to the rows of a table and needs \`from\`.
            - { image: images/a.png, where: { split: x } }
                                            ^

      error: m.yaml:6:13 at \`jobs[2].from\`: must name a .csv or .jsonl file, got \`t.txt\` (string).
            - { from: t.txt }
                      ^"
    `);
  });

  it('lists the manifest’s problems before the table’s', async () => {
    const out = await planErrors(`${HEAD}jobs:\n  - from: t.csv\n  - image: images/nope.png\n`, { 't.csv': 'image\nimages/none.png\n' });
    expect(out.split('\n\n').map((e) => e.split(' at ')[0])).toEqual(['error: m.yaml:5:12', 'error: t.csv:2:1']);
  });
});

describe('ids from tables', () => {
  const HEADER = 'image,prompt,name,split\n';
  const row = (i: number) => `images/${['a', 'b', 'c'][i % 3]}.png,"prompt ${i}, slow pan",clip_${i},${i % 5 ? 'train' : 'val'}\n`;
  const rows = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => row(from + k)).join('');
  const ids = (p: { plan: { jobs: PlannedJob[] } }) => p.plan.jobs.map((j) => j.id);

  it('survive reordering rows, adding unrelated columns, renaming names and the table file', async () => {
    const base = await plan(`${HEAD}jobs:\n  - from: t.csv\n`, { 't.csv': HEADER + rows(0, 30) });
    const reordered = await plan(`${HEAD}jobs:\n  - from: t.csv\n`, { 't.csv': HEADER + rows(0, 30).split('\n').reverse().join('\n') });
    const moreColumns = await plan(`${HEAD}jobs:\n  - from: t.csv\n`, {
      't.csv': `batch,${HEADER}${rows(0, 30).replaceAll('clip_', 'renamed_').split('\n').filter(Boolean).map((line) => `b1,${line}\n`).join('')}`,
    });
    const renamedFile = await plan(`${HEAD}jobs:\n  - from: other/pairs.jsonl\n`, {
      'other/pairs.jsonl': Array.from({ length: 30 }, (_, i) => `${JSON.stringify({ prompt: `prompt ${i}, slow pan`, image: `images/${['a', 'b', 'c'][i % 3]}.png` })}\n`).join(''),
    });
    expect(new Set(ids(base)).size).toBe(30);
    expect([...ids(reordered)].sort()).toEqual([...ids(base)].sort());
    expect(ids(moreColumns)).toEqual(ids(base));
    expect(ids(renamedFile)).toEqual(ids(base));
    expect(moreColumns.plan.jobs[0]).toMatchObject({ name: 'renamed_0', extra: { batch: 'b1', split: 'val' } });
  });

  it('grow by exactly the appended rows: 10,000 rows plus 1,000 give 1,000 new ids', async () => {
    const dir = tempTree({ 'm.yaml': `${HEAD}jobs:\n  - from: t.csv\n`, ...IMAGES, 't.csv': HEADER + rows(0, 10_000) });
    const before = new Set(ids(await loadPlan('m.yaml', { cwd: dir })));
    writeFileSync(join(dir, 't.csv'), HEADER + rows(0, 11_000));
    const after = ids(await loadPlan('m.yaml', { cwd: dir }));
    expect(before.size).toBe(10_000);
    expect(after).toHaveLength(11_000);
    expect(after.filter((id) => !before.has(id))).toHaveLength(1_000);
    renameSync(join(dir, 't.csv'), join(dir, 'renamed.csv'));
    writeFileSync(join(dir, 'm.yaml'), `${HEAD}jobs:\n  - from: renamed.csv\n`);
    expect(ids(await loadPlan('m.yaml', { cwd: dir }))).toEqual(after);
  });
});
