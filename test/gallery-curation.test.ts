// Curation in the gallery, as data: the page's model of ratings, filters and sorts (run here as the
// page runs it), the table's extra columns in the grid, and what the page is made with (each clip's
// data, the folder's ratings). The real-browser test is test/browser/gallery.browser.ts.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GALLERY_MODEL } from '../src/report/gallery-assets.js';
import { renderGallery, writeGallery } from '../src/report/gallery.js';
import { buildGrid } from '../src/report/gallery-grid.js';
import { type Rating, parseRatings, writeRatings } from '../src/report/ratings.js';
import { planIn, tempTree } from './helpers/manifest.js';
import { ROOT, examplePlan, reportFor } from './helpers/reports.js';

type Ratings = Record<string, Rating>;
type Edits = Record<string, [Rating | null, Rating | null]>;
interface Clip {
  n: number;
  id: string;
  status: string;
  variant: string;
  latency: number | null;
  cost: number | null;
  text: string;
}
interface GalleryModel {
  apply(file: Ratings, edits: Edits): { ratings: Ratings; edits: Edits };
  edit(file: Ratings, edits: Edits, id: string, rating: Rating | null): Edits;
  fileText(ratings: Ratings): string;
  shows(clip: Clip, filter: { status: string; variant: string; rating: string; words: string[] }, ratings: Ratings): boolean;
  words(query: string): string[];
  sorted(clips: readonly Clip[], by: string, ratings: Ratings, statuses: readonly string[]): Clip[];
}

/** The page's model, from the very text the page embeds (page code is a string by design). */
const model = new Function(`${GALLERY_MODEL}; return galleryModel;`)() as GalleryModel;

const id = (n: number): string => n.toString(16).padStart(64, '0');

describe("the page's ratings", () => {
  it('are the file\'s with the unsaved edits on top; an edit of a clip the file has changed since gives way', () => {
    const file: Ratings = { [id(1)]: 'keep', [id(2)]: 'reject' };
    let edits = model.edit(file, {}, id(1), 'reject');
    edits = model.edit(file, edits, id(3), 'keep');
    edits = model.edit(file, edits, id(2), null);
    expect(model.apply(file, edits).ratings).toEqual({ [id(1)]: 'reject', [id(3)]: 'keep' });
    // Set back to what the file says, an edit is no edit.
    expect(model.edit(file, edits, id(1), 'keep')).not.toHaveProperty(id(1));

    // Later, `klingrun rate` rejected clip 3 and the saved file (clip 1 rejected) was put in the folder.
    const later: Ratings = { [id(1)]: 'reject', [id(2)]: 'reject', [id(3)]: 'reject' };
    const now = model.apply(later, edits);
    expect(now.ratings).toEqual({ [id(1)]: 'reject', [id(3)]: 'reject' }); // clip 2's clearing still pending
    expect(now.edits).toEqual({ [id(2)]: [null, 'reject'] });
    // Whatever localStorage holds that is not an edit is ignored.
    expect(model.apply(file, { [id(4)]: 'keep' } as unknown as Edits).ratings).toEqual(file);
  });

  it('are saved as ratings.json exactly as klingrun writes it, which parseRatings reads back', () => {
    const ratings: Ratings = { [id(9)]: 'reject', [id(1)]: 'keep' };
    const dir = tempTree();
    writeRatings(dir, new Map(Object.entries(ratings)));
    const text = model.fileText(ratings);
    expect(text).toBe(readFileSync(join(dir, 'ratings.json'), 'utf8'));
    expect([...parseRatings(text, 'ratings.json')]).toEqual([
      [id(1), 'keep'],
      [id(9), 'reject'],
    ]);
  });
});

describe("the page's filters and sorts", () => {
  const clips: Clip[] = [
    { n: 0, id: id(0), status: 'succeeded', variant: '0', latency: 40, cost: 0.35, text: 'a.png a red fox category animals' },
    { n: 1, id: id(1), status: 'failed', variant: '1', latency: null, cost: 0.7, text: 'a.png a red fox category animals' },
    { n: 2, id: id(2), status: 'succeeded', variant: '0', latency: 90, cost: null, text: 'b.png city lights category places' },
    { n: 3, id: id(3), status: 'pending', variant: '1', latency: null, cost: 0.7, text: 'b.png city lights category places' },
  ];
  const ratings: Ratings = { [id(2)]: 'keep', [id(0)]: 'reject' };
  const shown = (filter: Partial<{ status: string; variant: string; rating: string; query: string }>) =>
    clips.filter((c) => model.shows(c, { status: '', variant: '', rating: '', ...filter, words: model.words(filter.query ?? '') }, ratings)).map((c) => c.n);

  it('filter by status, variant, rating and every word of the search, together', () => {
    expect(shown({})).toEqual([0, 1, 2, 3]);
    expect(shown({ status: 'succeeded' })).toEqual([0, 2]);
    expect(shown({ variant: '1' })).toEqual([1, 3]);
    expect(shown({ rating: 'unrated' })).toEqual([1, 3]);
    expect(shown({ rating: 'keep' })).toEqual([2]);
    expect(shown({ query: '  Red  FOX ' })).toEqual([0, 1]);
    expect(shown({ query: 'fox places' })).toEqual([]);
    expect(shown({ query: 'places', status: 'succeeded' })).toEqual([2]);
  });

  it('sort by status (report order), latency and cost (highest first, unknown last), rating (kept, unrated, rejected), ties in manifest order', () => {
    const order = (by: string) => model.sorted(clips, by, ratings, ['succeeded', 'failed', 'pending']).map((c) => c.n);
    expect(order('')).toEqual([0, 1, 2, 3]);
    expect(order('status')).toEqual([0, 2, 1, 3]);
    expect(order('latency')).toEqual([2, 0, 1, 3]);
    expect(order('cost')).toEqual([1, 3, 0, 2]);
    expect(order('rating')).toEqual([2, 1, 3, 0]);
  });
});

const CSV_MANIFEST = 'version: 1\nname: c\ndefaults: { mode: std, prompt: p }\nmatrix: { model_name: [kling-v2-6, kling-v2-5-turbo] }\njobs:\n  - from: t.csv\n';

describe("the grid's extra columns", () => {
  it("labels each row with its table row's own columns, and each clip with those that differ within its row", async () => {
    const { plan } = await planIn(CSV_MANIFEST, { 't.csv': 'image,category,split\na.png,animals,train\nb.png,places,val\n', 'a.png': readFileSync(join(ROOT, 'jobs/images/harbor.png')), 'b.png': readFileSync(join(ROOT, 'jobs/images/meadow.jpg')) });
    const grid = buildGrid(reportFor(plan, []).jobs);
    expect(grid.rows.map((r) => [r.extra, r.clipExtra])).toEqual([
      [[['category', 'animals'], ['split', 'train']], []],
      [[['category', 'places'], ['split', 'val']], []],
    ]);
    expect(renderGallery(reportFor(plan, []))).toContain('<span class="label"><span>category</span> animals</span><span class="label"><span>split</span> train</span>');

    // Jobs of one image from two table rows share a grid row: what differs is told per clip.
    const mixed = { ...plan, jobs: plan.jobs.map((job, i) => ({ ...job, extra: i === 0 ? { category: 'animals', note: 'x' } : ({ category: 'birds' } as Record<string, string>) })) };
    const row = buildGrid(reportFor(mixed, []).jobs).rows[0];
    expect([row?.extra, row?.clipExtra]).toEqual([[], ['category', 'note']]);
    expect(renderGallery(reportFor(mixed, []))).toContain('<div class="details"><span class="label"><span>category</span> animals</span><span class="label"><span>note</span> x</span></div>');
  });
});

describe('the page as made', () => {
  it('gives each clip its data for the filters, and rating buttons to clips with a video or a rating, pressed as ratings.json says', async () => {
    const report = reportFor(await examplePlan(), ['succeeded', 'failed', 'succeeded']);
    const [kept, failed, rejected, pending] = report.jobs.map((job) => job.id) as [string, string, string, string];
    const page = renderGallery(report, undefined, new Map([[kept, 'keep'], [rejected, 'reject'], [pending, 'keep']]));
    const clip = (jobId: string) => page.slice(page.indexOf(`data-id="${jobId}"`), page.indexOf('</div></div>', page.indexOf(`data-id="${jobId}"`)) + 12);
    expect(page).toContain(`<div class="clip r-keep" tabindex="-1" data-id="${kept}" data-status="succeeded" data-variant="0" data-latency="1" data-cost="0.21">`);
    expect(clip(kept)).toContain('<button type="button" data-rating="keep" aria-pressed="true">Keep</button><button type="button" data-rating="reject" aria-pressed="false">Reject</button>');
    expect(clip(rejected)).toContain('data-rating="reject" aria-pressed="true"');
    expect(clip(failed)).not.toContain('<button'); // nothing to watch, nothing to rate
    expect(clip(pending)).toContain('data-rating="keep" aria-pressed="true"'); // rated before: can be cleared
    expect(page).toContain(`<span class="jid">${kept.slice(0, 8)}</span>`);
    expect(page).toContain('<option value="succeeded">succeeded (2)</option><option value="failed">failed (1)</option><option value="pending">pending (5)</option>');
    expect(page).toContain('<option value="3">model_name kling-v2-5-turbo · mode pro</option>');
    const data = JSON.parse(page.match(/<script type="application\/json" id="klingrun-data">(.*?)<\/script>/)?.[1] ?? 'null');
    expect(data).toEqual({ batch: 'example:m', ratings: { [kept]: 'keep', [rejected]: 'reject', [pending]: 'keep' }, statuses: expect.arrayContaining(['succeeded', 'pending']) });
  });

  it("embeds the folder's ratings.json when written into the folder; one that cannot be read turns rating off and says why", async () => {
    const report = reportFor(await examplePlan(), ['succeeded']);
    const dir = tempTree();
    const first = report.jobs[0]?.id as string;
    writeRatings(dir, new Map([[first, 'keep']]));
    writeGallery(dir, report);
    expect(readFileSync(join(dir, 'gallery.html'), 'utf8')).toContain(`"ratings":{"${first}":"keep"}`);

    writeFileSync(join(dir, 'ratings.json'), '{"version": 1, "ratings": {"x": "keep"}}');
    writeGallery(dir, report);
    const page = readFileSync(join(dir, 'gallery.html'), 'utf8');
    expect(page).toMatch(/<p class="alert" role="alert">Rating is off: ratings\.json could not be read \(.*ratings\.json: `ratings\.x`: /);
    expect(page).not.toContain('<button type="button" data-rating=');
    expect(page).not.toContain('id="save"');
    expect(page).toContain('"ratings":null');
  });

  it('keeps report text from closing its data script', async () => {
    const plan = { ...(await examplePlan()), name: '</script><script>alert(1)</script>' };
    const page = renderGallery({ ...reportFor(plan, []), manifest: { path: 'm.yaml', sha256: 'm', name: plan.name } });
    expect(page.match(/<script[ >]/g)).toHaveLength(2); // the data and the page's script
    expect(page).toContain('"batch":"\\u003c/script>\\u003cscript>alert(1)\\u003c/script>:m"');
  });
});
