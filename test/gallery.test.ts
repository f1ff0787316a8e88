// The comparison gallery: the grid it lays out (rows = source images, columns = variants), what each
// cell shows for every state of a partial run, per-variant statistics, and HTML that report text
// can never break out of. The real-browser check is test/browser/gallery.browser.ts.
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { reportCommand } from '../src/cli/commands/report.js';
import { frameOf, type Plan } from '../src/plan/schema.js';
import { renderGallery, writeGallery } from '../src/report/gallery.js';
import { buildGrid, columnStats, type GridJob } from '../src/report/gallery-grid.js';
import { escapeHtml, hrefOf, html } from '../src/report/html.js';
import { type Report, reportSchema } from '../src/report/schema.js';
import { runInProcess } from './helpers/bad-input.js';
import { planIn, runCommand, tempTree, writeTree } from './helpers/manifest.js';
import { ROOT, examplePlan, outputFolder, reportFor, writeRun } from './helpers/reports.js';

const count = (text: string, pattern: RegExp) => text.match(pattern)?.length ?? 0;

/** The plan with each job changed by `edit`. */
const mapJobs = (plan: Plan, edit: (job: Plan['jobs'][number], i: number) => Plan['jobs'][number]): Plan => ({ ...plan, jobs: plan.jobs.map(edit) });

describe('the grid', () => {
  it('has one row per source image and one column per matrix variant, with the constant fields set apart', async () => {
    const grid = buildGrid(reportFor(await examplePlan(), []).jobs);
    expect(grid.rows.map((r) => [r.image.kind === 'file' && r.image.path, r.prompt?.slice(0, 15), r.cells.size])).toEqual([
      ['images/harbor.png', 'slow push-in on', 4],
      ['images/meadow.jpg', 'wind moves thro', 4],
    ]);
    expect(grid.columns.map((c) => c.label.map(([field, value]) => `${field}=${value}`).join(' '))).toEqual([
      'model_name=kling-v2-6 mode=std',
      'model_name=kling-v2-6 mode=pro',
      'model_name=kling-v2-5-turbo mode=std',
      'model_name=kling-v2-5-turbo mode=pro',
    ]);
    expect(grid.constants).toEqual([
      ['duration', '5 s'],
      ['negative_prompt', 'blurry, low quality, distorted'],
    ]);
  });

  it('makes columns of any field that differs within a row, and labels rows with fields that differ only between rows', async () => {
    const plan = mapJobs(await examplePlan(), (job, i) => ({
      ...job,
      request: { ...job.request, duration: i % 2 ? '10' : '5', negative_prompt: job.request.image?.kind === 'file' ? `not ${job.request.image.path}` : '' },
    }));
    const grid = buildGrid(reportFor(plan, []).jobs);
    expect(grid.columns).toHaveLength(4); // duration follows mode here, so it adds a label, not columns
    expect(grid.columns[0]?.label.map(([field]) => field)).toEqual(['model_name', 'mode', 'duration']);
    expect(grid.rows.map((r) => r.details)).toEqual([[['negative_prompt', 'not images/harbor.png']], [['negative_prompt', 'not images/meadow.jpg']]]);
  });

  it('gives each repeat its own row, and stacks jobs that differ only outside the request in one cell', async () => {
    const base = await examplePlan();
    const repeated = mapJobs(base, (job, i) => ({ ...job, repeat: i < 4 ? 1 : 2, request: { ...job.request, image: frameOf(base.jobs[i % 4]!.request), prompt: 'same' } }));
    expect(buildGrid(reportFor(repeated, []).jobs).rows.map((r) => r.repeat)).toEqual([1, 2]);
    const named = mapJobs(base, (job, i) => ({ ...job, request: base.jobs[i % 4]!.request, name: `clip-${i}` }));
    const grid = buildGrid(reportFor(named, []).jobs);
    expect(grid.rows).toHaveLength(1);
    expect([...grid.rows[0]!.cells.values()].map((jobs) => jobs.map((j) => j.name))).toEqual([
      ['clip-0', 'clip-4'],
      ['clip-1', 'clip-5'],
      ['clip-2', 'clip-6'],
      ['clip-3', 'clip-7'],
    ]);
  });

  it('has one column per variant of any matrix field, a swept prompt included, the same variants as by_variant', async () => {
    const { plan } = await planIn('version: 1\nname: g\ndefaults: { model_name: kling-v2-6, mode: pro }\nmatrix: { sound: ["on", "off"], prompt: [a slow push-in, a fast pan] }\njobs:\n  - image: "*.png"\n');
    const report = reportFor(plan, []);
    const grid = buildGrid(report.jobs);
    // A swept prompt makes columns, not rows: one row per image.
    expect(grid.rows.map((r) => [r.image.kind === 'file' && r.image.path, r.prompt, r.promptVaries, r.cells.size])).toEqual([
      ['a.png', null, true, 4],
      ['b.png', null, true, 4],
    ]);
    expect(grid.columns.map((c) => c.label.map(([field, value]) => `${field}=${value}`).join(' '))).toEqual([
      'prompt=a slow push-in sound=on',
      'prompt=a fast pan sound=on',
      'prompt=a slow push-in sound=off',
      'prompt=a fast pan sound=off',
    ]);
    expect(grid.columns.map((c) => c.stats.jobs)).toEqual(report.by_variant.map((v) => v.jobs));
    expect(grid.constants.map(([field]) => field)).toEqual(['model_name', 'mode', 'duration']);
    expect(renderGallery(report)).toContain('prompt: see each column');
  });

  it('stacks jobs of one variant that differ outside the matrix (hand-written entries) in one cell, each clip naming its value', async () => {
    const { plan } = await planIn('version: 1\nname: g\ndefaults: { model_name: kling-v1-6, mode: std, prompt: p }\njobs:\n  - { image: a.png, cfg_scale: 0.3 }\n  - { image: a.png, cfg_scale: 0.7 }\n');
    const report = reportFor(plan, ['succeeded', 'succeeded']);
    const grid = buildGrid(report.jobs);
    expect(grid.columns).toHaveLength(1);
    expect(grid.rows.map((r) => [r.prompt, r.clipFields, [...r.cells.values()].map((jobs) => jobs.length)])).toEqual([['p', ['cfg_scale'], [2]]]);
    expect(grid.constants.map(([field]) => field)).toEqual(['model_name', 'mode', 'duration']); // the prompt is shown with its row
    const page = renderGallery(report);
    expect(page).toContain('<div class="details"><span class="label"><span>cfg_scale</span> 0.3</span></div>');
    expect(page).toContain('<div class="details"><span class="label"><span>cfg_scale</span> 0.7</span></div>');
  });

  it('computes success rate, latency percentiles and cost per successful second of video per variant', async () => {
    const plan = mapJobs(await examplePlan(), (job) => ({ ...job, cost_usd: 0.5 }));
    const jobs = reportFor(plan, ['succeeded', 'succeeded', 'failed', 'timed_out', 'succeeded', 'in_flight', 'pending', 'succeeded']).jobs as GridJob[];
    // One column's jobs: 2 succeeded (1 s and 5 s), 1 failed (not charged), 1 timed out (charged).
    const stats = columnStats([jobs[0]!, jobs[4]!, jobs[2]!, jobs[3]!]);
    expect(stats).toEqual({ jobs: 4, succeeded: 2, failed: 2, success_rate: 0.5, latency_p50: 1, latency_p95: 5, usd_per_second: (3 * 0.5) / 10 });
    expect(columnStats([jobs[5]!, jobs[6]!])).toMatchObject({ success_rate: null, latency_p50: null, usd_per_second: null });
    expect(columnStats([jobs[1]!, { ...jobs[7]!, cost_usd: null }]).usd_per_second).toBeNull();
  });
});

describe('the page', () => {
  it('plays each downloaded clip muted, looping and lazily from a relative path, and says what every other cell is waiting for', async () => {
    const page = renderGallery(reportFor(await examplePlan(), ['succeeded', 'failed', 'in_flight', 'timed_out', 'succeeded']));
    expect(count(page, /<video /g)).toBe(2);
    const video = page.match(/<video [^>]*>/)?.[0] ?? '';
    for (const attribute of ['muted', 'loop', 'playsinline', 'preload="none"', 'src="videos/kling-v2-6_std_5s/harbor__', 'aspect-ratio: 256 / 144']) expect(video).toContain(attribute);
    expect(page).toContain('1301: Failure to pass the risk control system');
    expect(page).toContain('generating…');
    expect(page).toContain('timed out; a rerun checks it again');
    expect(count(page, /not submitted yet/g)).toBe(3);
    expect(page).toContain('<li><b>8</b>jobs</li><li><b>2</b>succeeded</li><li><b>1</b>failed</li>');
    expect(page).toContain('src="../jobs/images/harbor.png"'); // the source image, relative to the page
  });

  it('is self-contained: inline style and script, nothing fetched from anywhere', async () => {
    const page = renderGallery(reportFor(await examplePlan(), ['succeeded']));
    expect(page).not.toMatch(/<link|<script [^>]*src=|@import|url\(|https?:\/\//);
    expect(count(page, /<script>/g)).toBe(1);
    expect(page).toContain('IntersectionObserver');
  });

  it('escapes every text from the report, so a prompt or an error cannot inject markup', async () => {
    const attack = `"><script>alert(1)</script><img src=x onerror=alert(2)>'`;
    const plan = mapJobs(await examplePlan(), (job) => ({ ...job, request: { ...job.request, prompt: attack, negative_prompt: attack }, name: attack, extra: { caption: attack } }));
    const report: Report = { ...reportFor(plan, ['succeeded', 'failed']), manifest: { path: `x/${attack}.yaml`, sha256: 'm', name: attack } };
    report.jobs[1] = { ...report.jobs[1]!, error: { code: attack, message: attack } };
    report.jobs[0] = { ...report.jobs[0]!, video: { ...report.jobs[0]!.video!, path: `javascript:alert(3)//${attack}` }, warnings: [attack] };
    const page = renderGallery(report);
    expect(count(page, /<script>/g)).toBe(1);
    expect(count(page, /<img /g)).toBe(2); // the two source thumbnails, nothing injected
    const tags = page.match(/<[a-z][^>]*>/gi) ?? [];
    expect(tags.filter((tag) => /onerror|javascript:/i.test(tag))).toEqual([]);
    expect(page).toContain(escapeHtml(attack));
    expect(count(page, /<video /g)).toBe(0); // a video path that is a URL of another scheme is not played
  });

  it('writes gallery.html into the output folder', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'klingrun-gallery-'));
    try {
      const report = reportFor(await examplePlan(), ['succeeded']);
      expect(writeGallery(dir, report)).toBe(join(dir, 'gallery.html'));
      expect(readFileSync(join(dir, 'gallery.html'), 'utf8')).toBe(renderGallery(report));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('html helpers', () => {
  it('escapes interpolations, not nested markup, and drops null, undefined and false', () => {
    const inner = html`<b>${'<i>'}</b>`;
    expect(html`<p title="${`"x"`}">${inner}${null}${undefined}${false}${[1, '&']}</p>`.text).toBe('<p title="&quot;x&quot;"><b>&lt;i&gt;</b>1&amp;</p>');
  });

  it('turns paths into URLs that keep their meaning, and refuses schemes other than http(s)', () => {
    expect(hrefOf('videos/a b/c#1?.mp4')).toBe('videos/a%20b/c%231%3F.mp4');
    expect(hrefOf('../jobs/images/x.png')).toBe('../jobs/images/x.png');
    expect(hrefOf('//evil.example/x.mp4')).toBe('/evil.example/x.mp4'); // a path, never another host
    expect(hrefOf('https://example.com/a.png')).toBe('https://example.com/a.png');
    expect(hrefOf('javascript:alert(1)')).toBeNull();
    expect(hrefOf('data:text/html,x')).toBeNull();
  });
});

describe('klingrun report', () => {
  const readReport = (dir: string) => reportSchema.parse(JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')));

  it('rebuilds report.json of a manifest\'s run from plan + journal, and writes the gallery with --html', async () => {
    // A run killed before it wrote report.json: only the journal is there.
    const dir = tempTree();
    writeRun(dir, await examplePlan(), ['succeeded', 'in_flight']);
    const result = await runCommand(reportCommand, { positionals: ['jobs/example.yaml'], values: { output: dir, html: true } }, ROOT);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toMatch(/8 job\(s\): 1 succeeded, 1 in flight, 6 pending\. .*\nWrote report\.json, gallery\.html in .*\/\n$/);
    const report = readReport(dir);
    expect(report.totals).toMatchObject({ jobs: 8, succeeded: 1, in_flight: 1, pending: 6 });
    expect(report.started_at).toBe('2023-11-14T22:13:20.000Z'); // the journal's latest run
    expect(readFileSync(join(dir, 'gallery.html'), 'utf8')).toBe(renderGallery(report));
  });

  it('rebuilds an output folder\'s report when the manifest it names is unchanged, else uses it as written', async () => {
    const root = tempTree();
    writeTree(root, { 'm/example.yaml': readFileSync(join(ROOT, 'jobs/example.yaml')) });
    for (const image of ['harbor.png', 'meadow.jpg']) writeTree(root, { [`m/images/${image}`]: readFileSync(join(ROOT, 'jobs/images', image)) });
    const out = join(root, 'out');
    writeRun(out, await examplePlan(), ['succeeded']);
    expect((await runCommand(reportCommand, { positionals: ['m/example.yaml'], values: { output: 'out' } }, root)).code).toBe(0);
    writeRun(out, await examplePlan(), ['succeeded', 'succeeded']);
    expect((await runCommand(reportCommand, { positionals: ['out'] }, root)).stdout).toMatch(/2 succeeded, 6 pending.*\nWrote report\.json in out\/\n$/);
    expect(readReport(out).manifest.path).toBe('../m/example.yaml');

    writeTree(root, { 'm/example.yaml': '# edited\n' + readFileSync(join(ROOT, 'jobs/example.yaml'), 'utf8') });
    const asWritten = await runCommand(reportCommand, { positionals: ['out'], values: { html: true } }, root);
    expect(asWritten.stderr).toBe('note: report.json is used as written: the manifest it names is gone or changed (or there is no state.jsonl), so it cannot be rebuilt.\n');
    expect(asWritten.stdout).toMatch(/\nWrote gallery\.html in out\/\n$/);
  });

  it('needs a manifest or an output folder, and --output only with a manifest', async () => {
    const { dir } = outputFolder(await examplePlan(), []);
    const both = await runCommand(reportCommand, { positionals: [dir], values: { output: dir } }, ROOT);
    expect(both).toMatchObject({ code: 2, stderr: `error: --output names the folder a manifest's run wrote, and ${dir} is already an output folder: drop --output.\n` });
    const missing = await runCommand(reportCommand, { positionals: ['nope'] }, ROOT);
    expect(missing.stderr).toBe('error: Cannot find nope: give a manifest (e.g. jobs/example.yaml) or the output folder of a run (e.g. output/example).\n');
    copyFileSync(join(ROOT, 'package.json'), join(dir, 'report.json'));
    expect((await runCommand(reportCommand, { positionals: [dir] }, ROOT)).stderr).toMatch(/report\.json is not a klingrun report \(at `tool`: .*\); it may come from another version\. Rebuild it from the manifest/);
    expect(existsSync(join(dir, 'gallery.html'))).toBe(false);
  });
});

describe('jobs/sweep-camera.yaml end to end (issue 19)', () => {
  it('validates, plans, prices and runs against the emulator; the gallery has one column per camera move and per shot count', async () => {
    const dir = tempTree();
    copyFileSync(join(ROOT, 'jobs/sweep-camera.yaml'), join(dir, 'sweep-camera.yaml'));
    writeTree(dir, { 'images/harbor.png': readFileSync(join(ROOT, 'jobs/images/harbor.png')), 'images/meadow.jpg': readFileSync(join(ROOT, 'jobs/images/meadow.jpg')) });
    const valid = await runInProcess(['validate', 'sweep-camera.yaml'], dir);
    expect(valid.stdout).toBe('sweep-camera.yaml: valid, 7 jobs from 2 entries (2 images, 7 variants)\n');
    const plan = await runInProcess(['plan', 'sweep-camera.yaml'], dir);
    expect(plan.stdout).toContain('kling-v1  std   5 s       "simple zoom 5"  -                    -           1  unknown  unknown');
    expect(plan.stdout).toContain('kling-v3  std   10 s      -                "3 shots (4+3+3 s)"  default     1     0.84  0.84');

    const run = await runInProcess(['run', 'sweep-camera.yaml', '--emulator', '--yes'], dir);
    expect(run.code, run.stderr).toBe(0);
    const report = reportSchema.parse(JSON.parse(readFileSync(join(dir, 'output/sweep-camera/report.json'), 'utf8')));
    expect(report.jobs.map((job) => job.status)).toEqual(Array(7).fill('succeeded'));
    expect(report.jobs.find((job) => job.params?.multi_prompt?.length === 2)?.params).toMatchObject({ multi_shot: true, shot_type: 'customize' });

    const grid = buildGrid(report.jobs as GridJob[]);
    const labelOf = (field: string) => grid.columns.map((c) => c.label.find(([f]) => f === field)?.[1]);
    expect(labelOf('camera_control')).toEqual(['simple zoom 5', 'simple pan -4', 'down_back', 'forward_up', '–', '–', '–']);
    expect(labelOf('multi_prompt')).toEqual(['–', '–', '–', '–', '1 shot (10 s)', '2 shots (5+5 s)', '3 shots (4+3+3 s)']);
    expect(grid.rows.map((row) => row.cells.size)).toEqual([4, 3]);
    expect(readFileSync(join(dir, 'output/sweep-camera/gallery.html'), 'utf8')).toContain('simple zoom 5');
  });
});
