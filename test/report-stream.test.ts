// Files with one entry per job (report.json, the plan) are written a few hundred jobs at a time,
// byte for byte what JSON.stringify(value, null, 2) would give: at 100,000 jobs the whole text
// would be one string of 80 to 150 MB.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { jsonFileChunks } from '../src/json-chunks.js';
import { reportJsonChunks, writeReportJson } from '../src/report/stream.js';
import { renderGallery } from '../src/report/gallery.js';
import { tempTree } from './helpers/manifest.js';
import { examplePlan, reportFor } from './helpers/reports.js';
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
});

describe('gallery.html', () => {
  it('shows at most a page of rows, says what it left out, and still counts every job', async () => {
    const report = reportFor(await examplePlan(), ['succeeded', 'failed', 'in_flight', 'timed_out', 'succeeded']);
    const full = renderGallery(report);
    expect(count(full, /<th class="source" scope="row">/g)).toBe(2);
    expect(full).not.toContain('Showing the first');
    const capped = renderGallery(report, 1);
    expect(count(capped, /<th class="source" scope="row">/g)).toBe(1);
    expect(capped).toContain('Showing the first 1 of 2 rows (4 of 8 clips)');
    expect(capped).toContain('<li><b>8</b>jobs</li>');
  });
});
