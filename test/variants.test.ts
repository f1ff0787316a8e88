// A variant is every field the matrix varies, not only model × mode × duration: sweeps over
// `sound`, `cfg_scale`, `negative_prompt`, a zipped pair and `prompt` show one row or folder per
// variant in the plan's table, report.json's by_variant, the progress bars, the summary table and
// the videos folders, and a job's folder stays put when the manifest grows.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatCostTable } from '../src/cli/commands/plan.js';
import { describePlan } from '../src/cli/commands/validate.js';
import { Progress } from '../src/cli/progress.js';
import { formatVariantTable } from '../src/cli/report-summary.js';
import { loadModelTable, loadPriceTable } from '../src/data/tables.js';
import { summarizePlan } from '../src/plan/cost.js';
import type { Plan, PlannedJob } from '../src/plan/schema.js';
import { buildReport } from '../src/report/build.js';
import { replay } from '../src/runner/job-state.js';
import { videoPath } from '../src/runner/paths.js';
import { planIn, png } from './helpers/manifest.js';
import { journalFor } from './helpers/reports.js';
import { createHarness } from './helpers/runner-harness.js';

const tables = { models: loadModelTable(), prices: loadPriceTable() };

/** Two images × the matrix (after `defaults`), planned in a temp folder. */
async function sweepIn(defaults: string, matrix: string, prompt = '\n    prompt: a slow push-in') {
  return planIn(`version: 1\nname: sweep\ndefaults: ${defaults}\nmatrix: ${matrix}\njobs:\n  - image: "*.png"${prompt}\n`);
}
const sweep = async (defaults: string, matrix: string): Promise<Plan> => (await sweepIn(defaults, matrix)).plan;

const SWEEPS = {
  sound: ['{ model_name: kling-v2-6, mode: pro }', '{ sound: ["on", "off"] }'],
  cfg_scale: ['{ model_name: kling-v1-6, mode: std }', '{ cfg_scale: [0.3, 0.7] }'],
  negative_prompt: ['{ model_name: kling-v2-6, mode: std }', '{ negative_prompt: [blurry, "Low quality, distorted"] }'],
  zipped: ['{ model_name: kling-v1-6, mode: pro }', '{ zip: { cfg_scale: [0.2, 0.8], negative_prompt: [soft, harsh] } }'],
  // Kling's structured fields (issue 19): one variant per camera move, per shot count.
  camera_control: ['{ model_name: kling-v1, mode: std }', '{ camera_control: [{ type: simple, config: { zoom: 5 } }, { type: down_back }] }'],
  multi_prompt: ['{ model_name: kling-v3, sound: "off", multi_shot: true, shot_type: customize }', '{ multi_prompt: [[{ prompt: a, duration: 5 }], [{ prompt: a, duration: 2 }, { prompt: b, duration: 3 }]] }'],
} as const;

const report = (plan: Plan) =>
  buildReport({ plan, states: replay(journalFor(plan, ['succeeded', 'succeeded', 'failed', 'succeeded'])), manifest: { path: '../m.yaml', sha256: 'm' }, toolVersion: 'test' });

/** The lines of a table after its header (and before a total line). */
const bodyOf = (table: string) => table.split('\n').slice(1).filter((line) => !line.startsWith('total'));

const folderOf = (job: PlannedJob) => videoPath(job).split('/')[1];

describe('a sweep over a field other than model, mode and duration', () => {
  it.each(Object.entries(SWEEPS))('%s: one row per variant in the plan table, by_variant and the summary table, one videos folder each', async (_name, [defaults, matrix]) => {
    const plan = await sweep(defaults, matrix);
    expect(plan.jobs).toHaveLength(4);

    const costTable = formatCostTable(summarizePlan(plan, tables));
    expect(bodyOf(costTable)).toHaveLength(2);

    const { by_variant } = report(plan);
    expect(by_variant.map((v) => v.jobs)).toEqual([2, 2]);
    expect(new Set(by_variant.map((v) => v.label)).size).toBe(2);
    expect(bodyOf(formatVariantTable(report(plan)))).toHaveLength(2);

    expect(new Set(plan.jobs.map(folderOf)).size).toBe(2);
  });

  it('names the varied field and its values everywhere', async () => {
    const plan = await sweep(...SWEEPS.sound);
    expect(formatCostTable(summarizePlan(plan, tables))).toBe(
      [
        'model       mode  duration  sound  jobs  USD/job  USD',
        'kling-v2-6  pro   5 s       off       2     0.35  0.70',
        'kling-v2-6  pro   5 s       on        2     0.70  1.40',
        'total                                 4           2.10',
      ].join('\n'),
    );
    const { by_variant } = report(plan);
    expect(by_variant.map(({ label, fields, folder, model_name, mode, duration, jobs, succeeded, failed }) => ({ label, fields, folder, model_name, mode, duration, jobs, succeeded, failed }))).toEqual([
      { label: 'kling-v2-6 pro 5s sound=on', fields: { model_name: 'kling-v2-6', mode: 'pro', duration: '5', sound: 'on' }, folder: 'kling-v2-6_pro_5s_sound-on', model_name: 'kling-v2-6', mode: 'pro', duration: '5', jobs: 2, succeeded: 1, failed: 1 },
      { label: 'kling-v2-6 pro 5s sound=off', fields: { model_name: 'kling-v2-6', mode: 'pro', duration: '5', sound: 'off' }, folder: 'kling-v2-6_pro_5s_sound-off', model_name: 'kling-v2-6', mode: 'pro', duration: '5', jobs: 2, succeeded: 2, failed: 0 },
    ]);
    expect(formatVariantTable(report(plan))).toBe(
      [
        'model       mode  duration  sound  jobs  ok  failed  success    p50    p95   USD',
        'kling-v2-6  pro   5 s       on        2   1       1      50%  1.0 s  1.0 s  0.70',
        'kling-v2-6  pro   5 s       off       2   2       0     100%  2.0 s  4.0 s  0.70',
      ].join('\n'),
    );
    expect(plan.jobs.map(folderOf)).toEqual(['kling-v2-6_pro_5s_sound-on', 'kling-v2-6_pro_5s_sound-off', 'kling-v2-6_pro_5s_sound-on', 'kling-v2-6_pro_5s_sound-off']);
  });

  it('shows one progress bar per variant on a terminal, labelled by what differs, and the variant in each plain log line', async () => {
    const plan = await sweep(...SWEEPS.cfg_scale);
    let bars = '';
    const tty = new Progress({ plan, states: new Map(), isTTY: true, write: (text) => void (bars += text), columns: 200 });
    tty.start();
    tty.stop();
    const lines = bars.split('\n').map((line) => line.replace(/\x1b\[[0-9;?]*[A-Za-z]|\x1b[78]/g, '').trim()).filter(Boolean);
    expect(lines.map((line) => line.split(' [')[0]?.trim())).toEqual(['same for every job: kling-v1-6 std 5s', 'all', 'cfg_scale=0.3', 'cfg_scale=0.7']);
    expect(lines[2]).toMatch(/ 0\/2 \| queued 2 \|/);

    let log = '';
    const plain = new Progress({ plan, states: new Map(), isTTY: false, write: (text) => void (log += text) });
    const job = plan.jobs[1] as PlannedJob;
    plain.onEvent({ ev: 'submitted', t: 1, job: job.id, attempt: 1, task_id: 'T1' }, { job: job.id, phase: 'submitted', attempt: 1, earlierTasks: 0 }, job);
    expect(log).toBe(`${job.external_task_id} cfg_scale=0.7: submitted, task T1\n`);
  });

  it('downloads each variant into its own folder in a real run', async () => {
    const { plan, dir } = await sweepIn(...SWEEPS.sound);
    const harness = createHarness(plan);
    try {
      await harness.run({ overrides: { manifestDir: dir } });
      const videos = join(harness.outputDir, 'videos');
      expect(readdirSync(videos).sort()).toEqual(['kling-v2-6_pro_5s_sound-off', 'kling-v2-6_pro_5s_sound-on']);
      for (const job of plan.jobs) expect(existsSync(join(harness.outputDir, videoPath(job)))).toBe(true);
    } finally {
      harness.cleanup();
    }
  });

  it('counts a prompt swept by the matrix as a variant; a prompt per job entry is not one', async () => {
    const { plan: swept } = await sweepIn('{ model_name: kling-v2-6, mode: std }', '{ prompt: [a slow push-in, a fast pan] }', '');
    expect(report(swept).by_variant.map((v) => v.label)).toEqual(['kling-v2-6 std 5s prompt="a slow push-in"', 'kling-v2-6 std 5s prompt="a fast pan"']);
    const { plan: perEntry } = await planIn('version: 1\nname: p\ndefaults: { model_name: kling-v2-6, mode: std }\njobs:\n  - { image: a.png, prompt: a slow push-in }\n  - { image: b.png, prompt: a fast pan }\n');
    expect(report(perEntry).by_variant.map((v) => v.label)).toEqual(['kling-v2-6 std 5s']);
  });
});

describe('a sweep over a structured field', () => {
  it('labels each variant with its one-line value and gives it a folder of its own', async () => {
    const [defaults, matrix] = SWEEPS.camera_control;
    const plan = await sweep(defaults, matrix);
    const { by_variant } = report(plan);
    expect(by_variant.map((v) => [v.label, v.fields])).toEqual([
      ['kling-v1 std 5s camera_control="simple zoom 5"', { model_name: 'kling-v1', mode: 'std', duration: '5', camera_control: 'simple zoom 5' }],
      ['kling-v1 std 5s camera_control=down_back', { model_name: 'kling-v1', mode: 'std', duration: '5', camera_control: 'down_back' }],
    ]);
    // `_` separates a folder's parts, so the field's own is made safe, and the exact values' hash added.
    expect([...new Set(plan.jobs.map(folderOf))]).toEqual(['kling-v1_std_5s_camera-control-simple-zoom-5_ff61f287', 'kling-v1_std_5s_camera-control-down-back_1076160f']);
  });

  it('matches include and exclude entries by content, whatever their key order', async () => {
    const plan = await sweep('{ model_name: kling-v1, mode: std }', `
  camera_control: [{ type: simple, config: { zoom: 5 } }, { type: down_back }, { type: forward_up }]
  exclude: [{ camera_control: { type: forward_up } }]
  include: [{ camera_control: { config: { zoom: 5 }, type: simple }, negative_prompt: shake }]`);
    expect(plan.jobs.map((job) => [job.request.camera_control?.type, job.request.negative_prompt])).toEqual([
      ['simple', 'shake'],
      ['down_back', undefined],
      ['simple', 'shake'],
      ['down_back', undefined],
    ]);
  });
});

describe('the variant count of `validate`', () => {
  it('counts model, mode and duration set by entries too, not only matrix combinations', async () => {
    const { plan } = await planIn('version: 1\nname: v\ndefaults: { model_name: kling-v2-6 }\njobs:\n  - { image: a.png, duration: 5 }\n  - { image: a.png, duration: 10 }\n');
    expect(describePlan(plan)).toBe('2 jobs from 2 entries (1 image, 2 variants)');
  });
});

describe('the summary table of a report written before variants had fields', () => {
  it('names the variants by model, mode and duration', async () => {
    const plan = await sweep(...SWEEPS.sound);
    const old = report(plan);
    const stripped = { ...old, by_variant: old.by_variant.map(({ label: _l, fields: _f, folder: _d, ...rest }) => rest) };
    expect(formatVariantTable(stripped).split('\n')[1]).toMatch(/^kling-v2-6  pro   5 s\s+2   1/);
  });
});

describe('videos folder names', () => {
  it('stay those of model × mode × duration when nothing else varies (`default` for one quality level)', async () => {
    const plan = await sweep('{ duration: 10 }', '{ model_name: [kling-v2-6, kling-v2-master] }');
    expect(plan.jobs.map(folderOf).slice(0, 2)).toEqual(['kling-v2-6_std_10s', 'kling-v2-master_default_10s']);
  });

  it('are safe, bounded and distinct: a value that had to be changed, or a long one, adds a hash of the exact values', async () => {
    const plan = await sweep('{ model_name: kling-v2-6, mode: std }', `{ negative_prompt: [blurry, Blurry, "blurry!", "${'very '.repeat(30)}long"] }`);
    const folders = plan.jobs.slice(0, 4).map(folderOf) as string[];
    expect(folders[0]).toBe('kling-v2-6_std_5s_negative-prompt-blurry');
    expect(folders[1]).toMatch(/^kling-v2-6_std_5s_negative-prompt-blurry_[0-9a-f]{8}$/);
    expect(folders[2]).toMatch(/^kling-v2-6_std_5s_negative-prompt-blurry_[0-9a-f]{8}$/);
    expect(folders[3]).toMatch(/^kling-v2-6_std_5s_negative-prompt-very-very-[a-z-]+_[0-9a-f]{8}$/);
    expect(folders[3]!.length).toBeLessThanOrEqual(96);
    // Distinct even where a file system ignores case.
    expect(new Set(folders.map((f) => f.toLowerCase())).size).toBe(4);
    for (const folder of folders) expect(folder).toMatch(/^[a-z0-9._-]+$/);
  });

  it('do not move when the manifest grows: another value for a matrix key, another image', async () => {
    const manifest = (sounds: string) => `version: 1\nname: s\ndefaults: { model_name: kling-v2-6, mode: pro }\nmatrix: { sound: ${sounds} }\njobs:\n  - image: "*.png"\n`;
    const { plan: before } = await planIn(manifest('["on"]'), { 'a.png': png(1) });
    const { plan: after } = await planIn(manifest('["on", "off"]'), { 'a.png': png(1), 'b.png': png(2) });
    const [job] = before.jobs as [PlannedJob];
    expect(videoPath(job)).toBe(`videos/kling-v2-6_pro_5s_sound-on/a__${job.id.slice(0, 12)}.mp4`);
    expect(videoPath(after.jobs.find((j) => j.id === job.id) as PlannedJob)).toBe(videoPath(job));
  });
});
