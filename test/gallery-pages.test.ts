// The gallery of a big batch: past its cap, the page holds its tools and the clips go to data
// files beside it (gallery/rows-0000.js, …), written as the report's jobs stream in. The page's
// behaviour in a real browser is test/browser/gallery.browser.ts.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { asStream } from '../src/report/build.js';
import { writeGallery } from '../src/report/gallery.js';
import { type ClipRecord, ROWS_DIR } from '../src/report/gallery-rows.js';
import type { ReportJob } from '../src/report/schema.js';
import { tempTree } from './helpers/manifest.js';
import { examplePlan, reportFor } from './helpers/reports.js';

/** The records of a folder's data files, file by file, as the page's callback receives them. */
function dataFiles(dir: string): ClipRecord[][] {
  const files = readdirSync(join(dir, ROWS_DIR)).sort();
  return files.map((name, n) => {
    const calls: [number, ClipRecord[]][] = [];
    runInNewContext(readFileSync(join(dir, ROWS_DIR, name), 'utf8'), { klingrunRows: (i: number, rows: ClipRecord[]) => calls.push([i, rows]) });
    expect(calls.map(([i]) => i)).toEqual([n]);
    return calls[0]?.[1] ?? [];
  });
}

const pageData = (dir: string) => JSON.parse(readFileSync(join(dir, 'gallery.html'), 'utf8').match(/<script type="application\/json" id="klingrun-data">(.*?)<\/script>/)?.[1] ?? 'null');

describe('the gallery of a batch past its cap', () => {
  it('writes every clip once, in order, a few per data file, and the page loads those files instead of a grid', async () => {
    const report = reportFor(await examplePlan(), ['succeeded', 'failed', 'succeeded']);
    const dir = tempTree();
    writeGallery(dir, report, { maxClips: 4, rowsPerFile: 3 });
    const files = dataFiles(dir);
    expect(files.map((f) => f.length)).toEqual([3, 3, 2]);
    const records = files.flat();
    expect(records.map(([id]) => id)).toEqual(report.jobs.map((j) => j.id));
    // A record: status, the variant's column (as the Variant filter numbers them), the clip's video, the failure.
    expect(records.map(([, status, column]) => [status, column])).toEqual([['succeeded', 0], ['failed', 1], ['succeeded', 2], ['pending', 3], ['pending', 0], ['pending', 1], ['pending', 2], ['pending', 3]]);
    expect(records[0]?.[5]).toBe(report.jobs[0]?.video?.path);
    expect(records[0]?.slice(7, 9)).toEqual(['images/harbor.png', report.jobs[0]?.params?.prompt]);
    expect(records[1]?.[10]).toBe('1301: Failure to pass the risk control system');

    const page = readFileSync(join(dir, 'gallery.html'), 'utf8');
    expect(page).not.toContain('<table class="grid">');
    expect(page).toContain('<div class="vlist" id="vlist"></div>');
    // The status filter counts every clip, not those of a first page.
    expect(page).toContain('<option value="succeeded">succeeded (2)</option><option value="failed">failed (1)</option><option value="pending">pending (5)</option>');
    const data = pageData(dir);
    expect(data.rows).toEqual({ files: ['gallery/rows-0000.js', 'gallery/rows-0001.js', 'gallery/rows-0002.js'], clips: 8, callback: 'klingrunRows' });
    expect(data.columns).toEqual(['model_name kling-v2-6 · mode std', 'model_name kling-v2-6 · mode pro', 'model_name kling-v2-5-turbo · mode std', 'model_name kling-v2-5-turbo · mode pro']);
  });

  it('writes the data files as the jobs stream in: a file is on disk before the last job is read', async () => {
    const { summary, jobs } = asStream(reportFor(await examplePlan(), []));
    const dir = tempTree();
    const seen: number[] = [];
    const staged = () => readdirSync(dir).filter((name) => name.startsWith(`${ROWS_DIR}.`)).flatMap((name) => readdirSync(join(dir, name))).length;
    writeGallery(dir, {
      summary,
      *jobs(): Generator<ReportJob> {
        for (const job of jobs()) {
          seen.push(staged());
          yield job;
        }
      },
    }, { maxClips: 2, rowsPerFile: 3 });
    // Before jobs 1-3 none is written; before 4-6, one; before 7-8, two.
    expect(seen).toEqual([0, 0, 0, 1, 1, 1, 2, 2]);
    expect(dataFiles(dir).flat()).toHaveLength(8);
    expect(readdirSync(dir).sort()).toEqual([ROWS_DIR, 'gallery.html']); // no staging folder left
  });

  it("a batch within the cap keeps its grid page and no data files, removing those of the folder's earlier, bigger page", async () => {
    const report = reportFor(await examplePlan(), ['succeeded']);
    const dir = tempTree();
    writeGallery(dir, report, { maxClips: 4, rowsPerFile: 3 });
    expect(existsSync(join(dir, ROWS_DIR, 'rows-0000.js'))).toBe(true);
    writeGallery(dir, report);
    expect(existsSync(join(dir, ROWS_DIR))).toBe(false);
    expect(readFileSync(join(dir, 'gallery.html'), 'utf8')).toContain('<table class="grid">');
    expect(pageData(dir).rows).toBeUndefined();
  });
});
