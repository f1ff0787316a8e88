// Datasets from an export: `--where` (a rating from ratings.json included), and `--format hf`, a
// folder Hugging Face's videofolder loads: split folders each with metadata.jsonl whose file_name
// names a clip beside it, the source images under images/, one type per column in every split, and
// a dataset card whose YAML header names the splits' files and the features.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { Plan } from '../src/plan/schema.js';
import { writeRatings } from '../src/report/ratings.js';
import { runInProcess } from './helpers/bad-input.js';
import { tempTree } from './helpers/manifest.js';
import { ROOT, clip, examplePlan, folderWithImages, type Outcome } from './helpers/reports.js';

type Row = Record<string, unknown>;
const linesOf = (text: string): Row[] => text.trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as Row);

/** The example's 8 jobs (harbor: 0–3, meadow: 4–7), each carrying a `category` column from its image. */
async function categorized(): Promise<Plan> {
  const plan = await examplePlan();
  return { ...plan, jobs: plan.jobs.map((job, i) => ({ ...job, extra: { category: i < 4 ? 'sea side' : 'land' } })) };
}

const ALL_OK: Outcome[] = Array(8).fill('succeeded');

async function exportTo(dir: string, args: string[]): Promise<{ code: number; stderr: string; dest: string }> {
  const dest = join(tempTree(), 'dataset');
  const result = await runInProcess(['export', dir, ...args, '--copy-to', dest], ROOT);
  return { ...result, dest };
}

/** The card's YAML header and body. */
function cardOf(dest: string): { header: Record<string, unknown>; body: string } {
  const text = readFileSync(join(dest, 'README.md'), 'utf8');
  const match = /^---\n([\s\S]*?)\n---\n([\s\S]*)$/.exec(text);
  expect(match, text).not.toBeNull();
  return { header: parse(match![1]!) as Record<string, unknown>, body: match![2]! };
}

/** Each split's metadata rows, by split folder. */
function metadataOf(dest: string): Record<string, Row[]> {
  const splits = readdirSync(dest, { withFileTypes: true }).filter((e) => e.isDirectory() && e.name !== 'images').map((e) => e.name);
  return Object.fromEntries(splits.map((split) => [split, linesOf(readFileSync(join(dest, split, 'metadata.jsonl'), 'utf8'))]));
}

describe('export --where', () => {
  it('rating=keep keeps only the clips rated keep in ratings.json; every row has a rating column', async () => {
    const plan = await examplePlan();
    const { dir } = folderWithImages(plan, ALL_OK);
    writeRatings(dir, new Map([[plan.jobs[1]!.id, 'keep'], [plan.jobs[5]!.id, 'keep'], [plan.jobs[2]!.id, 'reject']]));
    const kept = await runInProcess(['export', dir, '--where', 'rating=keep'], ROOT);
    expect(kept.code, kept.stderr).toBe(0);
    expect(linesOf(kept.stdout).map((r) => [r.job_id, r.rating])).toEqual([[plan.jobs[1]!.id, 'keep'], [plan.jobs[5]!.id, 'keep']]);
    const all = linesOf((await runInProcess(['export', dir], ROOT)).stdout);
    expect(all.map((r) => r.rating)).toEqual([null, 'keep', 'reject', null, null, 'keep', null, null]);
    // Not rejected: the unrated ones too (an empty value is no rating).
    expect(linesOf((await runInProcess(['export', dir, '--where', 'rating!=reject'], ROOT)).stdout)).toHaveLength(7);
    expect(linesOf((await runInProcess(['export', dir, '--where', 'rating='], ROOT)).stdout)).toHaveLength(5);
  });

  it('every condition must hold: an extra column, the model (alias of model_name), the variant folder, !=', async () => {
    const plan = await categorized();
    const { dir } = folderWithImages(plan, ['succeeded', 'failed', 'succeeded', 'succeeded', 'succeeded', 'succeeded', 'failed', 'succeeded']);
    const rows = linesOf((await runInProcess(['export', dir, '--where', 'category=sea side', '--where', 'status!=failed'], ROOT)).stdout);
    expect(rows.map((r) => r.task_id)).toEqual(['T0', 'T2', 'T3']);
    const all = linesOf((await runInProcess(['export', dir], ROOT)).stdout);
    // The variant column is the clip's videos folder.
    for (const row of all.filter((r) => r.video_path)) expect(String(row.video_path).split('/')[1]).toBe(row.variant);
    const model = String(all[4]!.model_name);
    const variant = String(all[4]!.variant);
    const byModel = linesOf((await runInProcess(['export', dir, '--where', `model=${model}`, '--where', `variant=${variant}`], ROOT)).stdout);
    expect(byModel.length).toBeGreaterThan(0);
    expect(byModel.every((r) => r.model_name === model && r.variant === variant)).toBe(true);
    expect(byModel.map((r) => r.task_id)).toContain('T4');
  });

  it('an unknown column is an error listing the columns, with the closest one; a condition without = too', async () => {
    const { dir } = folderWithImages(await categorized(), ALL_OK);
    const typo = await runInProcess(['export', dir, '--where', 'catgory=land'], ROOT);
    expect(typo.code).toBe(2);
    expect(typo.stdout).toBe('');
    expect(typo.stderr).toMatch(/^error: `--where catgory=land`: there is no column `catgory`\. Did you mean `category`\? The columns are: video_path, .*, rating, category \(see docs\/export-columns\.md\)\.\n$/);
    const bare = await runInProcess(['export', dir, '--where', 'rating'], ROOT);
    expect(bare.code).toBe(2);
    expect(bare.stderr).toBe('error: Expected `--where` to be FIELD=VALUE or FIELD!=VALUE (e.g. `--where rating=keep`, `--where status!=failed`), got `rating`.\n');
  });

  it('--copy-to copies only the clips that meet the conditions', async () => {
    const plan = await examplePlan();
    const { dir } = folderWithImages(plan, ALL_OK);
    writeRatings(dir, new Map([[plan.jobs[6]!.id, 'keep']]));
    const { code, stderr, dest } = await exportTo(dir, ['--where', 'rating=keep']);
    expect(code, stderr).toBe(0);
    const rows = linesOf(readFileSync(join(dest, 'metadata.jsonl'), 'utf8'));
    expect(rows.map((r) => r.job_id)).toEqual([plan.jobs[6]!.id]);
    expect(readdirSync(dest).filter((f) => f.endsWith('.mp4'))).toEqual([rows[0]!.file_name]);
    expect(readdirSync(join(dest, 'images'))).toEqual(['meadow.jpg']);
  });
});

describe('export --format hf', () => {
  it('splits by a column: a folder per value with its clips and metadata.jsonl, images once, a card naming it all', async () => {
    const { dir } = folderWithImages(await categorized(), ALL_OK);
    const { code, stderr, dest } = await exportTo(dir, ['--format', 'hf', '--split-by', 'category', '--license', 'cc-by-4.0']);
    expect(code, stderr).toBe(0);
    expect(stderr).toMatch(/^Wrote a Hugging Face dataset of 8 clip\(s\) to .*dataset\/ \(sea_side 4, land 4; 2 source image\(s\) in images\/; card README\.md\)\..* Load it with load_dataset\(".*dataset"\)\.\n$/);
    const splits = metadataOf(dest);
    expect(Object.keys(splits).sort()).toEqual(['land', 'sea_side']);
    for (const [split, rows] of Object.entries(splits)) {
      expect(rows).toHaveLength(4);
      for (const row of rows) {
        expect(row.category).toBe(split === 'land' ? 'land' : 'sea side');
        // file_name and image are relative to the metadata file, as the videofolder builder reads them.
        expect(readFileSync(join(dest, split, String(row.file_name)))).toEqual(clip(Number(String(row.task_id).slice(1))));
        expect(row.image).toMatch(/^\.\.\/images\/(harbor\.png|meadow\.jpg)$/);
        expect(readFileSync(join(dest, split, String(row.image)))).toEqual(readFileSync(join(ROOT, 'jobs', String(row.image).slice(3))));
        expect(row).toMatchObject({ model_name: expect.any(String), mode: expect.any(String), duration: 5, prompt: expect.any(String) });
        expect(row).not.toHaveProperty('status');
        expect(row).not.toHaveProperty('video_path');
      }
    }
    // One schema everywhere: the same columns in the same order, each of one JSON type (floats written with a point).
    const [a, b] = Object.values(splits) as [Row[], Row[]];
    expect(Object.keys(a[0]!)).toEqual(Object.keys(b[0]!));
    expect(Object.keys(a[0]!)[0]).toBe('file_name');
    expect(readFileSync(join(dest, 'land', 'metadata.jsonl'), 'utf8')).toMatch(/"duration_s":5\.0,/);
    expect(a[0]!.negative_prompt).toEqual(expect.any(String));
    // A column with no value in any row (no clip is rated) is left out; text with some is never null.
    expect(a[0]).not.toHaveProperty('rating');

    const { header, body } = cardOf(dest);
    expect(header).toMatchObject({
      license: 'cc-by-4.0',
      task_categories: ['image-to-video'],
      size_categories: ['n<1K'],
      configs: [{ config_name: 'default', data_files: [{ split: 'sea_side', path: 'sea_side/*' }, { split: 'land', path: 'land/*' }] }],
      dataset_info: { splits: [{ name: 'sea_side', num_examples: 4 }, { name: 'land', num_examples: 4 }] },
    });
    const features = (header.dataset_info as { features: { name: string; dtype: string }[] }).features;
    expect(features[0]).toEqual({ name: 'video', dtype: 'video' });
    expect(features).toEqual(expect.arrayContaining([{ name: 'prompt', dtype: 'string' }, { name: 'duration', dtype: 'int64' }, { name: 'duration_s', dtype: 'float64' }, { name: 'category', dtype: 'string' }]));
    expect(features.map((f) => f.name).slice(1)).toEqual(Object.keys(a[0]!).slice(1));
    expect(body).toMatch(/made with klingrun test from the manifest `example`/);
    expect(body).toMatch(/- Clips: 8 \(sea_side: 4, land: 4\)/);
    expect(body).toMatch(/- Models: `kling-v2-6` \(4\), `[^`]+` \(4\)/);
    expect(body).toContain('load_dataset(');
  });

  it('splits by a seeded ratio, the same for a job whatever else is exported', async () => {
    const plan = await examplePlan();
    const { dir } = folderWithImages(plan, ALL_OK);
    const splitOf = (dest: string) => new Map(Object.entries(metadataOf(dest)).flatMap(([split, rows]) => rows.map((r) => [String(r.job_id), split] as const)));
    const first = await exportTo(dir, ['--format', 'hf', '--split', 'train=0.5,test=0.5', '--seed', '7']);
    expect(first.code, first.stderr).toBe(0);
    const again = await exportTo(dir, ['--format', 'hf', '--split', 'train=0.5,test=0.5', '--seed', '7']);
    const full = splitOf(first.dest);
    expect(full.size).toBe(8);
    expect(new Set(full.values())).toEqual(new Set(['train', 'test']));
    expect(splitOf(again.dest)).toEqual(full);
    // A subset keeps each clip's split.
    writeRatings(dir, new Map(plan.jobs.slice(0, 3).map((job) => [job.id, 'keep'] as const)));
    const subset = await exportTo(dir, ['--format', 'hf', '--split', 'train=0.5,test=0.5', '--seed', '7', '--where', 'rating=keep']);
    expect(subset.code, subset.stderr).toBe(0);
    const kept = splitOf(subset.dest);
    expect(kept.size).toBe(3);
    for (const [id, split] of kept) expect(split).toBe(full.get(id));
    const { header } = cardOf(first.dest);
    expect(header.license).toBe('other');
    // Another seed, another draw (fixed ids, so this is a fact, not a chance).
    const other = await exportTo(dir, ['--format', 'hf', '--split', 'train=0.5,test=0.5', '--seed', '8']);
    expect(splitOf(other.dest)).not.toEqual(full);
  });

  it('without a split, every clip is in train, the name videofolder infers from the folder', async () => {
    const { dir } = folderWithImages(await examplePlan(), ['succeeded', 'failed', 'succeeded']);
    const { code, dest } = await exportTo(dir, ['--format', 'hf']);
    expect(code).toBe(0);
    expect(Object.keys(metadataOf(dest))).toEqual(['train']);
    expect(metadataOf(dest).train).toHaveLength(2);
    for (const row of metadataOf(dest).train!) expect(existsSync(join(dest, 'train', String(row.file_name)))).toBe(true);
  });

  it('refuses bad dataset options before reading anything, and a split column that cannot name a folder', async () => {
    const { dir } = folderWithImages(await categorized(), ALL_OK);
    const fails = async (args: string[]) => {
      const result = await runInProcess(['export', dir, ...args], ROOT);
      expect(result.code, result.stderr).toBe(2);
      return result.stderr;
    };
    expect(await fails(['--format', 'hf'])).toBe('error: `--format hf` writes a dataset folder: add `--copy-to DIR`.\n');
    expect(await fails(['--format', 'hf', '--copy-to', 'x', '--split', 'train=0.9,test=0.2'])).toMatch(/^error: Expected `--split` to name each split once with fractions that add up to 1, .*add up to 1\.1\)\.\n$/);
    expect(await fails(['--format', 'hf', '--copy-to', 'x', '--split', 'train=0.9,images=0.1'])).toMatch(/^error: Expected `--split` to be NAME=FRACTION pairs/);
    expect(await fails(['--format', 'hf', '--copy-to', 'x', '--split', 'train=1', '--split-by', 'category'])).toMatch(/give one of them/);
    expect(await fails(['--format', 'hf', '--copy-to', 'x', '--seed', '3'])).toMatch(/`--seed` sets the draw of `--split/);
    expect(await fails(['--split', 'train=1'])).toBe('error: `--split` applies to `--format hf` or `--format webdataset`. Drop it, or change `--format`.\n');
    expect(await fails(['--format', 'hf', '--copy-to', 'x', '--shard-size', '5'])).toMatch(/`--shard-size` applies to `--format webdataset`/);
    expect(await fails(['--format', 'hf', '--copy-to', 'x', '--split-by', 'catgory'])).toMatch(/^error: `--split-by catgory`: there is no column `catgory`\. Did you mean `category`\?/);
    expect(existsSync(join(ROOT, 'x'))).toBe(false);
    const none = await runInProcess(['export', dir, '--format', 'hf', '--copy-to', join(tempTree(), 'd'), '--where', 'rating=keep'], ROOT);
    expect(none.stderr).toMatch(/^error: No downloaded clip matches this export/);
    const empty = await runInProcess(['export', dir, '--format', 'hf', '--copy-to', join(tempTree(), 'd'), '--split-by', 'rating'], ROOT);
    expect(empty.stderr).toMatch(/^error: Cannot split by `rating`: clip [0-9a-f]{64} has no value in `rating`\. Leave such clips out with `--where rating!=`/);
  });
});
