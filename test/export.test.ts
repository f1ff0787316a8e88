// The dataset export: the row of each clip, CSV per RFC 4180 and JSON Lines, `--copy-to` dataset
// folders (flat clips, their source images, metadata with file_name as Hugging Face's loaders read
// it, every path relative to the folder), paths from the output folder, the clip's fps, codec and
// frame count, and the `klingrun export` command on an output folder and on a manifest.
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exportCommand } from '../src/cli/commands/export.js';
import type { ImageRef } from '../src/plan/schema.js';
import { buildReport } from '../src/report/build.js';
import { withClipHeaders } from '../src/report/clip-headers.js';
import { imageNames, writeDatasetFolder } from '../src/report/dataset-folder.js';
import { replay } from '../src/runner/job-state.js';
import { BASE_COLUMNS, columnsOf, csvField, exportRows, toCsv, toJsonl } from '../src/report/export.js';
import { runCommand, tempTree } from './helpers/manifest.js';
import { ROOT, clip, clipSha, examplePlan, folderWithImages, outputFolder, reportFor } from './helpers/reports.js';
import { FAKE_MP4, createHarness } from './helpers/runner-harness.js';

const linesOf = (text: string) => text.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);

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
      // From the output folder, like the video (the report's manifest is ../jobs/example.yaml).
      image: '../jobs/images/harbor.png',
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
    expect(columnsOf(rows).slice(-3)).toEqual(['rating', 'caption', 'extra_prompt']);
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
    const { dir, report } = folderWithImages(await examplePlan(), ['succeeded', 'failed', 'succeeded']);
    const dest = join(tempTree(), 'dataset');
    const { rows } = writeDatasetFolder(report, dir, dest, 'csv');
    expect(rows.map((r) => r.status)).toEqual(['succeeded', 'succeeded']);
    const files = readdirSync(dest).sort();
    expect(files).toHaveLength(4);
    expect(files).toContain('metadata.csv');
    expect(files).toContain('images');
    const lines = readFileSync(join(dest, 'metadata.csv'), 'utf8').split('\r\n');
    expect(lines[0]).toMatch(/^file_name,video_path,video_sha256,/);
    const taskId = lines[0]!.split(',').indexOf('task_id');
    for (const line of lines.slice(1, 3)) {
      const fields = line.split(',');
      expect(readFileSync(join(dest, fields[0]!))).toEqual(clip(Number(fields[taskId]!.slice(1)))); // task T<i> made clip i
    }
  });

  it('copies the source images too, and every path of its metadata resolves inside it, wherever it is moved', async () => {
    const { dir, report } = folderWithImages(await examplePlan(), ['succeeded', 'succeeded', 'failed', 'pending', 'succeeded']);
    const dest = join(tempTree(), 'dataset');
    expect(writeDatasetFolder(report, dir, dest, 'jsonl').images).toBe(2);
    expect(readdirSync(join(dest, 'images')).sort()).toEqual(['harbor.png', 'meadow.jpg']);
    const moved = join(tempTree(), 'uploaded');
    renameSync(dest, moved);
    const rows = linesOf(readFileSync(join(moved, 'metadata.jsonl'), 'utf8'));
    expect(rows.map((r) => r.image)).toEqual(['images/harbor.png', 'images/harbor.png', 'images/meadow.jpg']);
    for (const row of rows) {
      expect(row.video_path).toBe(row.file_name);
      for (const path of [row.file_name, row.video_path, row.image] as string[]) expect(existsSync(join(moved, path)), path).toBe(true);
      expect(readFileSync(join(moved, row.image as string))).toEqual(readFileSync(join(ROOT, 'jobs', (row.image as string))));
    }
  });

  it('names images that share a file name by their content, whichever jobs are exported', async () => {
    const plan = await examplePlan();
    // meadow.jpg, as if it were other/harbor.png.
    const other: ImageRef = { ...(plan.jobs[4]!.request.image as ImageRef & { kind: 'file' }), path: 'other/harbor.png' };
    const clash = { ...plan, jobs: plan.jobs.map((job, i) => (i >= 4 ? { ...job, request: { ...job.request, image: other } } : job)) };
    const names = imageNames(reportFor(clash, []));
    const sha = (i: number) => (clash.jobs[i]!.request.image as { sha256: string }).sha256;
    expect([names.get(sha(0)), names.get(sha(4))]).toEqual([`images/harbor__${sha(0).slice(0, 12)}.png`, `images/harbor__${sha(4).slice(0, 12)}.png`]);
    expect(imageNames(reportFor(plan, [])).get(sha(0))).toBe('images/harbor.png');
  });

  it('refuses a source image that is missing or changed since the run, saying what to do', async () => {
    const plan = await examplePlan();
    const { dir, report } = outputFolder(plan, ['succeeded']); // its manifest, ../gone.yaml, and images are not there
    expect(() => writeDatasetFolder(report, dir, tempTree(), 'jsonl')).toThrow(/^The source image .*harbor\.png is missing\. Source images are read where the run found them, relative to its manifest; put the image back as it was, or export without --copy-to\.$/);
    const image = plan.jobs[0]!.request.image as { sha256: string };
    const changed = reportFor({ ...plan, jobs: plan.jobs.map((job) => ({ ...job, request: { ...job.request, image: { ...job.request.image, sha256: image.sha256.replace(/^./, 'f') } as typeof image & NonNullable<typeof job.request.image> } })) }, []);
    const folder = folderWithImages(plan, ['succeeded']);
    const stale = { ...folder.report, jobs: folder.report.jobs.map((job, i) => ({ ...job, params: changed.jobs[i]!.params })) };
    expect(() => writeDatasetFolder(stale, folder.dir, tempTree(), 'jsonl')).toThrow(/The source image .*harbor\.png does not match the sha256 its run recorded/);
  });

  it('a dataset folder that cannot be written: a coded error naming where, never a raw one', async () => {
    const { dir, report } = folderWithImages(await examplePlan(), ['succeeded']);
    const dest = tempTree({ images: 'a file where the images folder goes' });
    expect(() => writeDatasetFolder(report, dir, dest, 'jsonl')).toThrow(expect.objectContaining({ name: 'StateError', message: expect.stringMatching(/^Cannot place the source image at .*images\/.*: E[A-Z]+: .*Choose a folder you can write to/) }));
  });

  it("a clip path that is a folder leaves the clip's header columns empty", async () => {
    const { dir, report } = outputFolder(await examplePlan(), ['succeeded']);
    const path = join(dir, report.jobs[0]!.video!.path!);
    renameSync(path, `${path}.moved`);
    mkdirSync(path);
    const [row] = withClipHeaders({ ...report, jobs: [{ ...report.jobs[0]!, video: { ...report.jobs[0]!.video!, codec: null } }] }, dir).jobs;
    expect(row?.video?.codec).toBeNull();
  });

  it('refuses a clip that is missing or does not match its recorded sha256, saying how to get it back', async () => {
    const { dir, report } = folderWithImages(await examplePlan(), ['succeeded', 'succeeded']);
    writeFileSync(join(dir, report.jobs[1]!.video!.path!), 'changed');
    expect(() => writeDatasetFolder(report, dir, tempTree(), 'jsonl')).toThrow(/does not match the sha256 its run recorded.*Rerun `klingrun run <manifest>`/);
    const missing = folderWithImages(await examplePlan(), ['succeeded']);
    expect(() => writeDatasetFolder(missing.report, join(missing.dir, 'elsewhere'), tempTree(), 'jsonl')).toThrow(/The video .* is missing/);
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
    // Under a file: exit 2 naming it, no stack trace.
    const blocked = await runCommand(exportCommand, { positionals: [dir], values: { out: join(out, 'x.csv') } }, ROOT);
    expect(blocked.code).toBe(2);
    expect(blocked.stderr).toMatch(/^error: Cannot write .*clips\.jsonl\/x\.csv: E[A-Z]+: .*Choose a file you can write to with --out FILE\.\n$/);
  });

  it('rebuilds the rows from plan + journal when given the manifest and the folder its run wrote', async () => {
    const { dir } = outputFolder(await examplePlan(), ['succeeded']);
    writeFileSync(join(dir, 'report.json'), '{"stale": true}'); // never read: the journal is the truth
    const result = await runCommand(exportCommand, { positionals: ['jobs/example.yaml'], values: { output: dir, status: 'succeeded' } }, ROOT);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout.trim().split('\n').map((line) => JSON.parse(line).video_sha256)).toEqual([clipSha(0)]);
  });

  it('copies a dataset folder with --copy-to and reports what it wrote on stderr', async () => {
    const { dir } = folderWithImages(await examplePlan(), ['succeeded']);
    const dest = join(tempTree(), 'ds');
    const result = await runCommand(exportCommand, { positionals: [dir], values: { 'copy-to': dest } }, ROOT);
    expect(result).toMatchObject({ code: 0, stdout: '' });
    expect(result.stderr).toMatch(/^Copied 1 clip\(s\) to .*ds\/ \(and 1 source image\(s\) to images\/\) with metadata\.jsonl beside them\.\n$/);
    expect(existsSync(join(dest, 'metadata.jsonl'))).toBe(true);
  });

  it('gives every path from the output folder, or absolute with --absolute-paths', async () => {
    const { dir } = folderWithImages(await examplePlan(), ['succeeded']);
    const relativeRows = linesOf((await runCommand(exportCommand, { positionals: [dir], values: { status: 'succeeded' } }, ROOT)).stdout);
    const absoluteRows = linesOf((await runCommand(exportCommand, { positionals: [dir], values: { status: 'succeeded', 'absolute-paths': true } }, ROOT)).stdout);
    for (const [i, row] of relativeRows.entries()) {
      for (const column of ['video_path', 'image']) {
        const [path, absolute] = [row[column] as string, absoluteRows[i]![column] as string];
        expect(isAbsolute(path)).toBe(false);
        expect(absolute).toBe(join(dir, path));
        expect(existsSync(absolute), absolute).toBe(true);
      }
    }
  });

  it('adds fps, codec and frame count: recorded at download, or read from the clip of an older run', async () => {
    const plan = await examplePlan();
    const harness = createHarness({ ...plan, jobs: plan.jobs.slice(0, 1) });
    try {
      await harness.run({ overrides: { manifestDir: join(ROOT, 'jobs') } });
      const report = buildReport({ plan: { ...plan, jobs: plan.jobs.slice(0, 1) }, states: replay(harness.events), manifest: { path: 'm.yaml', sha256: 'm' }, toolVersion: 'test' });
      expect(report.jobs[0]!.video).toMatchObject({ fps: 5, codec: 'avc1', frames: 25 });
      expect(exportRows(report)[0]).toMatchObject({ fps: 5, codec: 'avc1', frames: 25 });
    } finally {
      harness.cleanup();
    }
    // Journals written before these were recorded have none: the export reads the clip's header.
    const { dir, report } = outputFolder(plan, ['succeeded', 'succeeded']);
    writeFileSync(join(dir, report.jobs[0]!.video!.path!), FAKE_MP4);
    const rows = linesOf((await runCommand(exportCommand, { positionals: [dir], values: { status: 'succeeded' } }, ROOT)).stdout);
    expect(rows.map(({ fps, codec, frames }) => ({ fps, codec, frames }))).toEqual([
      { fps: 5, codec: 'avc1', frames: 25 },
      { fps: null, codec: null, frames: null }, // not an MP4 (the test's stand-in bytes)
    ]);
  });

  it('explains bad options and missing runs', async () => {
    const { dir } = outputFolder(await examplePlan(), []);
    expect((await runCommand(exportCommand, { positionals: [dir], values: { format: 'xml' } }, ROOT)).stderr).toBe('error: Expected `--format` to be one of jsonl, csv, hf, webdataset, got `xml`.\n');
    expect((await runCommand(exportCommand, { positionals: [dir], values: { status: 'done' } }, ROOT)).stderr).toMatch(/^error: Expected `--status` to be one or more of succeeded, invalid_output, .* got `done`\.\n$/);
    const none = await runCommand(exportCommand, { positionals: ['jobs/example.yaml'], values: { output: tempTree() } }, ROOT);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/^error: No run of jobs\/example\.yaml found in .*: it has no state\.jsonl\. Run the manifest first/);
    const empty = await runCommand(exportCommand, { positionals: [tempTree()] }, ROOT);
    expect(empty.stderr).toMatch(/is not the output folder of a run: it has neither report\.json nor state\.jsonl\. Give a manifest/);
  });
});
