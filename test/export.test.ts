// The dataset export: the row of each clip, CSV per RFC 4180 and JSON Lines, `--copy-to` dataset
// folders (flat clips + metadata with file_name, as Hugging Face's loaders read them), and the
// `klingrun export` command on an output folder and on a manifest.
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exportCommand } from '../src/cli/commands/export.js';
import { writeDatasetFolder } from '../src/report/dataset-folder.js';
import { BASE_COLUMNS, columnsOf, csvField, exportRows, toCsv, toJsonl } from '../src/report/export.js';
import { runCommand, tempTree } from './helpers/manifest.js';
import { ROOT, clip, clipSha, examplePlan, outputFolder, reportFor } from './helpers/reports.js';

describe('export rows', () => {
  it('flatten each job: the clip, its source image, every request parameter, ids and times', async () => {
    const rows = exportRows(reportFor(await examplePlan(), ['succeeded', 'failed']));
    expect(rows).toHaveLength(8);
    expect(rows[0]).toMatchObject({
      video_path: expect.stringMatching(/^videos\/kling-v2-6_std_5s\/harbor__[0-9a-f]{12}\.mp4$/),
      video_sha256: clipSha(0),
      duration_s: 5,
      width: 256,
      height: 144,
      status: 'succeeded',
      external_task_id: expect.stringMatching(/^kr-/),
      task_id: 'T0',
      model_name: 'kling-v2-6',
      mode: 'std',
      duration: 5,
      prompt: 'slow push-in on the harbor, the water shimmering',
      negative_prompt: 'blurry, low quality, distorted',
      image: 'images/harbor.png',
      image_sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
      image_width: 512,
      submitted_at: '2023-11-14T22:13:21.000Z',
      finished_at: '2023-11-14T22:13:22.000Z',
      error_code: null,
    });
    expect(rows[1]).toMatchObject({ status: 'failed', video_path: null, error_code: '1301', error_message: 'Failure to pass the risk control system' });
    expect(Object.keys(rows[0]!)).toEqual([...BASE_COLUMNS]);
  });

  it('keep only the states asked for', async () => {
    const report = reportFor(await examplePlan(), ['succeeded', 'failed', 'succeeded']);
    expect(exportRows(report, { statuses: new Set(['succeeded']) }).map((r) => r.task_id)).toEqual(['T0', 'T2']);
  });

  it('carry the extra columns of a job after the base ones, renaming any that clash with a base column', async () => {
    const plan = await examplePlan();
    const withExtra = { ...plan, jobs: plan.jobs.map((job, i) => (i === 1 ? { ...job, extra: { caption: 'a boat', prompt: 'raw' } } : job)) };
    const rows = exportRows(reportFor(withExtra, []));
    expect(rows[1]).toMatchObject({ caption: 'a boat', extra_prompt: 'raw', prompt: plan.jobs[1]!.request.prompt });
    expect(columnsOf(rows).slice(-3)).toEqual(['error_message', 'caption', 'extra_prompt']);
    expect(JSON.parse(toJsonl(rows).split('\n')[0]!)).toMatchObject({ caption: null, extra_prompt: null });
  });
});

describe('formats', () => {
  it('write CSV per RFC 4180: a header, CRLF line ends, fields with commas, quotes or line breaks quoted', () => {
    const rows = [
      { a: 'plain', b: 'x, y', c: 'say "hi"' },
      { a: 'two\nlines', b: null, c: 1.5 },
    ];
    expect(toCsv(rows, ['a', 'b', 'c'])).toBe('a,b,c\r\nplain,"x, y","say ""hi"""\r\n"two\nlines",,1.5\r\n');
    expect(csvField('cr\r')).toBe('"cr\r"');
    expect(csvField(true)).toBe('true');
  });

  it('write JSON Lines with every column on every line, null where a row has no value', () => {
    const text = toJsonl([{ a: 1 }, { a: 'x', b: 'y' }], ['a', 'b']);
    expect(text.split('\n').filter(Boolean).map((line) => JSON.parse(line))).toEqual([
      { a: 1, b: null },
      { a: 'x', b: 'y' },
    ]);
  });
});

describe('dataset folder (--copy-to)', () => {
  it('lays the clips out flat with metadata whose file_name column names each one', async () => {
    const { dir, report } = outputFolder(await examplePlan(), ['succeeded', 'failed', 'succeeded']);
    const dest = join(tempTree(), 'dataset');
    const { rows } = writeDatasetFolder(report, dir, dest, 'csv');
    expect(rows.map((r) => r.status)).toEqual(['succeeded', 'succeeded']);
    const files = readdirSync(dest).sort();
    expect(files).toHaveLength(3);
    expect(files).toContain('metadata.csv');
    const lines = readFileSync(join(dest, 'metadata.csv'), 'utf8').split('\r\n');
    expect(lines[0]).toMatch(/^file_name,video_path,video_sha256,/);
    const taskId = lines[0]!.split(',').indexOf('task_id');
    for (const line of lines.slice(1, 3)) {
      const fields = line.split(',');
      expect(readFileSync(join(dest, fields[0]!))).toEqual(clip(Number(fields[taskId]!.slice(1)))); // task T<i> made clip i
    }
  });

  it('refuses a clip that is missing or does not match its recorded sha256, saying how to get it back', async () => {
    const { dir, report } = outputFolder(await examplePlan(), ['succeeded', 'succeeded']);
    writeFileSync(join(dir, report.jobs[1]!.video!.path!), 'changed');
    expect(() => writeDatasetFolder(report, dir, tempTree(), 'jsonl')).toThrow(/does not match the sha256 its run recorded.*Rerun `klingrun run <manifest>`/);
    const missing = outputFolder(await examplePlan(), ['succeeded']);
    expect(() => writeDatasetFolder(missing.report, join(missing.dir, 'elsewhere'), tempTree(), 'jsonl')).toThrow(/is missing/);
  });
});

describe('klingrun export', () => {
  it('prints the rows of an output folder to stdout, or writes them to --out', async () => {
    const { dir } = outputFolder(await examplePlan(), ['succeeded', 'failed']);
    const csv = await runCommand(exportCommand, { positionals: [dir], values: { format: 'csv', status: 'succeeded,failed' } }, ROOT);
    expect(csv).toMatchObject({ code: 0, stderr: '' });
    expect(csv.stdout.split('\r\n').filter(Boolean)).toHaveLength(3);
    const out = join(tempTree(), 'sub', 'clips.jsonl');
    const jsonl = await runCommand(exportCommand, { positionals: [dir], values: { out } }, ROOT);
    expect(jsonl).toMatchObject({ code: 0, stdout: '' });
    expect(readFileSync(out, 'utf8').trim().split('\n')).toHaveLength(8);
  });

  it('rebuilds the rows from plan + journal when given the manifest and the folder its run wrote', async () => {
    const { dir } = outputFolder(await examplePlan(), ['succeeded']);
    writeFileSync(join(dir, 'report.json'), '{"stale": true}'); // never read: the journal is the truth
    const result = await runCommand(exportCommand, { positionals: ['jobs/example.yaml'], values: { output: dir, status: 'succeeded' } }, ROOT);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout.trim().split('\n').map((line) => JSON.parse(line).video_sha256)).toEqual([clipSha(0)]);
  });

  it('copies a dataset folder with --copy-to and reports what it wrote on stderr', async () => {
    const { dir } = outputFolder(await examplePlan(), ['succeeded']);
    const dest = join(tempTree(), 'ds');
    const result = await runCommand(exportCommand, { positionals: [dir], values: { 'copy-to': dest } }, ROOT);
    expect(result).toMatchObject({ code: 0, stdout: '' });
    expect(result.stderr).toMatch(/^Copied 1 clip\(s\) to .*ds\/ with metadata\.jsonl beside them\.\n$/);
    expect(existsSync(join(dest, 'metadata.jsonl'))).toBe(true);
  });

  it('explains bad options and missing runs', async () => {
    const { dir } = outputFolder(await examplePlan(), []);
    expect((await runCommand(exportCommand, { positionals: [dir], values: { format: 'xml' } }, ROOT)).stderr).toBe('error: Expected `--format` to be one of jsonl, csv, got `xml`.\n');
    expect((await runCommand(exportCommand, { positionals: [dir], values: { status: 'done' } }, ROOT)).stderr).toMatch(/^error: Expected `--status` to be one or more of succeeded, invalid_output, .* got `done`\.\n$/);
    const none = await runCommand(exportCommand, { positionals: ['jobs/example.yaml'], values: { output: tempTree() } }, ROOT);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/^error: No run of jobs\/example\.yaml found in .*: it has no state\.jsonl\. Run the manifest first/);
    const empty = await runCommand(exportCommand, { positionals: [tempTree()] }, ROOT);
    expect(empty.stderr).toMatch(/has no report\.json\. If it is the output folder of a run that was stopped before writing one, build it from the manifest/);
  });
});
