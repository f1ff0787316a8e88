// An end-frame-only job (issue 19 point 4): `image_tail` without `image`, which Kling takes on
// kling-v1-5 and kling-v1-6 in pro mode. An entry names its end frames (a glob, a list) instead of
// `image`; the job's identity is its canonical request without `image`; the model table decides
// where it is allowed; the runner sends `image_tail` alone; the gallery and the export show it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { canonicalJson, identityOf, jobId } from '../src/plan/ids.js';
import { jobRequestSchema, type JobRequest } from '../src/plan/schema.js';
import { exportRows } from '../src/report/export.js';
import { END_FRAME_LABEL, buildGrid, type GridJob } from '../src/report/gallery-grid.js';
import { reportSchema } from '../src/report/schema.js';
import { BodyBuilder } from '../src/runner/request-body.js';
import { videoPath } from '../src/runner/paths.js';
import { runInProcess } from './helpers/bad-input.js';
import { parseErrors, planErrorsIn, planIn, png, tempTree } from './helpers/manifest.js';

const MANIFEST = `version: 1
name: tails
jobs:
  - image_tail: ends/*.png
    model_name: kling-v1-6
    mode: pro
    prompt: the door closes
`;
const ENDS = { 'ends/a.png': png(1), 'ends/b.png': png(2) };

describe('an end-frame-only entry', () => {
  it('plans one job per end frame on kling-v1-6 pro, with no image and stable ids', async () => {
    const first = await planIn(MANIFEST, ENDS);
    expect(first.plan.jobs.map((job) => job.request)).toEqual([
      { model_name: 'kling-v1-6', mode: 'pro', duration: '5', prompt: 'the door closes', image_tail: expect.objectContaining({ kind: 'file', path: 'ends/a.png' }) },
      { model_name: 'kling-v1-6', mode: 'pro', duration: '5', prompt: 'the door closes', image_tail: expect.objectContaining({ kind: 'file', path: 'ends/b.png' }) },
    ]);
    // Key order is the registry's: image_tail where it always sits, no image key at all.
    expect(Object.keys(first.plan.jobs[0]?.request ?? {})).toEqual(['model_name', 'mode', 'duration', 'prompt', 'image_tail']);
    const again = await planIn(MANIFEST, ENDS);
    expect(again.plan.jobs.map((job) => job.id)).toEqual(first.plan.jobs.map((job) => job.id));
    // The id is the canonical request without `image`, as for every job.
    const job = first.plan.jobs[0];
    if (!job) throw new Error('no job');
    expect(canonicalJson(identityOf(job.request))).not.toContain('"image"');
    expect(job.id).toBe(jobId(job.request, 1, ''));
    expect(videoPath(job)).toMatch(/^videos\/[^/]+\/a__[0-9a-f]{12}\.mp4$/);
  });

  it('is refused on kling-v2-5-turbo at the entry, naming the models that take it', async () => {
    const errors = await planErrorsIn(MANIFEST.replace('kling-v1-6', 'kling-v2-5-turbo'), ENDS);
    expect(errors).toContain('m.yaml:4');
    expect(errors).toContain('`image_tail` without `image` (an end-frame-only job), which kling-v2-5-turbo in pro mode');
    expect(errors).toContain('does not take; kling-v1-5 (pro) and kling-v1-6 (pro) do (in jobs[0]). Use one of those models and modes, or give the entry an `image` as its first frame.');
  });

  it('is refused on kling-v1-6 in std mode (where it takes no image_tail at all)', async () => {
    expect(await planErrorsIn(MANIFEST.replace('mode: pro', 'mode: std'), ENDS)).toContain('m.yaml:4:17 at `jobs[0].image_tail`: `image_tail` needs mode pro on kling-v1-6');
  });

  it('takes a list of end frames only without `image`', () => {
    const text = `version: 1\nname: t\njobs:\n  - image: a.png\n    image_tail: [b.png, c.png]\n`;
    expect(parseErrors(text)).toContain('a list of `image_tail` images is only for an end-frame-only entry');
    expect(parseErrors(`version: 1\nname: t\njobs:\n  - prompt: x\n`)).toContain('`image_tail` alone');
  });

  it('keeps a request without image only together with image_tail in the plan schema', () => {
    expect(jobRequestSchema.safeParse({ model_name: 'kling-v1-6' }).success).toBe(false);
    expect(jobRequestSchema.safeParse({ image_tail: { kind: 'url', url: 'https://example.com/end.png' } }).success).toBe(true);
  });

  it('sends image_tail alone', async () => {
    const request: JobRequest = { model_name: 'kling-v1-6', mode: 'pro', image_tail: { kind: 'url', url: 'https://example.com/end.png' } };
    const body = await new BodyBuilder('/nowhere').build(request, 'kr-x');
    expect(body).toEqual({ model_name: 'kling-v1-6', mode: 'pro', image_tail: 'https://example.com/end.png', external_task_id: 'kr-x' });
    expect('image' in body).toBe(false);
  });
});

describe('an end-frame-only manifest end to end', () => {
  it('validates, runs against the emulator, and shows its end frames in the gallery and the export', async () => {
    const dir = tempTree({ 'tails.yaml': MANIFEST, ...ENDS, 'start.png': png(3) });
    const valid = await runInProcess(['validate', 'tails.yaml'], dir);
    expect(valid.stdout).toBe('tails.yaml: valid, 2 jobs from 1 entry (2 images, 1 variant)\n');

    const run = await runInProcess(['run', 'tails.yaml', '--emulator', '--yes'], dir);
    expect(run.code, run.stderr).toBe(0);
    const report = reportSchema.parse(JSON.parse(readFileSync(join(dir, 'output/tails/report.json'), 'utf8')));
    expect(report.jobs.map((job) => job.status)).toEqual(['succeeded', 'succeeded']);
    expect(report.jobs.map((job) => job.params?.image)).toEqual([undefined, undefined]);

    const grid = buildGrid(report.jobs as GridJob[]);
    expect(grid.rows.map((row) => [row.image.kind === 'file' && row.image.path, row.details[0]])).toEqual([
      ['ends/a.png', END_FRAME_LABEL],
      ['ends/b.png', END_FRAME_LABEL],
    ]);
    expect(readFileSync(join(dir, 'output/tails/gallery.html'), 'utf8')).toContain('end frame only');

    const [row] = exportRows(report);
    expect(row).toMatchObject({ status: 'succeeded', image: null, image_sha256: null, image_width: null, image_height: null, image_tail: '../../ends/a.png', model_name: 'kling-v1-6', mode: 'pro' });
    expect(row?.image_tail_sha256).toMatch(/^[0-9a-f]{64}$/);
  });

});
