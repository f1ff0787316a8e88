// Files with one entry per job (report.json, the plan) are written a few hundred jobs at a time,
// byte for byte what JSON.stringify(value, null, 2) would give: at 100,000 jobs the whole text
// would be one string of 80 to 150 MB.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { jsonFileChunks } from '../src/json-chunks.js';
import { reportJsonChunks, writeReportJson } from '../src/report/stream.js';
import { renderGallery } from '../src/report/gallery.js';
import { buildGrid } from '../src/report/gallery-grid.js';
import { tempTree } from './helpers/manifest.js';
import { buildReport, streamReport } from '../src/report/build.js';
import { replay } from '../src/runner/job-state.js';
import { examplePlan, journalFor, reportFor } from './helpers/reports.js';
import { makePlan } from './helpers/runner-harness.js';

const count = (text: string, pattern: RegExp) => text.match(pattern)?.length ?? 0;

describe('report.json', () => {
  it('is written in pieces, none of them the whole report, adding up to JSON.stringify(report, null, 2)', () => {
    const outcomes = (['succeeded', 'failed', 'in_flight', 'pending'] as const).flatMap((outcome) => Array<typeof outcome>(175).fill(outcome));
    const report = reportFor(makePlan(700), outcomes, '../m.yaml');
    const whole = `${JSON.stringify(report, null, 2)}\n`;
    const pieces = [...reportJsonChunks(report)];
    expect(pieces.join('')).toBe(whole);
    expect(Math.max(...pieces.map((piece) => piece.length))).toBeLessThan(whole.length / 2);
    const dir = tempTree();
    expect(writeReportJson(dir, report)).toBe(join(dir, 'report.json'));
    expect(readFileSync(join(dir, 'report.json'), 'utf8')).toBe(whole);
  });
});

describe('a streamed report', () => {
  it('writes the same report.json and gallery as the whole report, making its jobs afresh on each read', () => {
    const plan = makePlan(700);
    const outcomes = (['succeeded', 'failed', 'in_flight', 'pending', 'timed_out'] as const).flatMap((outcome) => Array<typeof outcome>(140).fill(outcome));
    const input = { plan, states: replay(journalFor(plan, outcomes)), manifest: { path: '../m.yaml', sha256: 'abc' }, toolVersion: '9.9.9', startedAt: 1, finishedAt: 2 };
    const whole = buildReport(input);
    const streamed = streamReport(input);
    expect(streamed.summary.totals).toEqual(whole.totals);
    expect(streamed.summary.by_variant).toEqual(whole.by_variant);
    const [first] = streamed.jobs();
    const [again] = streamed.jobs();
    expect(again).toEqual(first);
    expect(again).not.toBe(first);
    const dir = tempTree();
    writeReportJson(dir, streamed);
    expect(readFileSync(join(dir, 'report.json'), 'utf8')).toBe(`${JSON.stringify(whole, null, 2)}\n`);
    for (const cap of [undefined, 3]) expect(renderGallery(streamed, cap)).toBe(renderGallery(whole, cap));
  });
});

describe('jsonFileChunks', () => {
  it('gives JSON.stringify(value, null, 2) for any object: key order, undefined and empty members, text with line breaks', () => {
    const item = (i: number) => ({ i, text: `line ${i}\nnext "q" \u2028 é`, nested: { list: [i, null, { deep: [] }], empty: {} }, gone: undefined });
    const values = [
      { z: 1, jobs: [], a: 'x' },
      { jobs: Array.from({ length: 600 }, (_, i) => item(i)), after: [1, 2], gone: undefined, before: { x: 'y\nz' } },
      { first: 1, jobs: [item(0)] },
      { jobs: 'not an array' },
      { other: [1] },
    ];
    for (const value of values) expect([...jsonFileChunks(value, 'jobs')].join('')).toBe(`${JSON.stringify(value, null, 2)}\n`);
  });

  it('takes the array as a generator of its items, read once', () => {
    const items = Array.from({ length: 600 }, (_, i) => ({ i, text: `item ${i}\nnext` }));
    for (const list of [items, [], items.slice(0, 1)]) {
      const generated = function* () {
        yield* list;
      };
      const text = [...jsonFileChunks({ a: 1, jobs: generated(), z: [2] }, 'jobs')].join('');
      expect(text).toBe(`${JSON.stringify({ a: 1, jobs: list, z: [2] }, null, 2)}\n`);
    }
  });
});

describe('gallery.html', () => {
  it('shows at most a page of clips in whole rows, says what it left out, and still counts every job', async () => {
    const report = reportFor(await examplePlan(), ['succeeded', 'failed', 'in_flight', 'timed_out', 'succeeded']);
    const full = renderGallery(report);
    expect(count(full, /<th class="source" scope="row">/g)).toBe(2);
    expect(full).not.toContain('Showing the first');
    const capped = renderGallery(report, 1);
    expect(count(capped, /<th class="source" scope="row">/g)).toBe(1);
    expect(capped).toContain('Showing the first 1 of 2 rows (4 of 8 clips)');
    expect(capped).toContain('<li><b>8</b>jobs</li>');
  });

  it('of a wide batch, keeps whole rows up to the clip cap, not every clip of every row', () => {
    // 100 images × 10 prompts swept by the matrix, in plan order (each image with all its prompts): 100 rows of 10.
    const plan = makePlan(1_000);
    const wide = {
      ...plan,
      jobs: plan.jobs.map((job, i) => ({ ...job, variant: { prompt: `p${i % 10}` }, request: { ...job.request, prompt: `p${i % 10}`, image: { kind: 'url' as const, url: `https://img.test/${Math.floor(i / 10)}.png` } } })),
    };
    const report = reportFor(wide, Array<'succeeded'>(1_000).fill('succeeded'), '../m.yaml');
    const grid = buildGrid(report.jobs, 25);
    const shown = grid.rows.reduce((sum, row) => sum + [...row.cells.values()].reduce((n, jobs) => n + jobs.length, 0), 0);
    expect(grid.columns).toHaveLength(10);
    expect([grid.rows.length, shown, grid.rowCount, grid.clipCount]).toEqual([3, 30, 100, 1_000]);
    expect(grid.columns.reduce((sum, column) => sum + column.stats.jobs, 0)).toBe(1_000);
  });
});
