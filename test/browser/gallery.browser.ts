// The gallery in a real browser: an emulator run of the example manifest, its gallery opened from
// file:// in headless Chromium, every video loaded by the page's own lazy loading (scrolled into
// view, nothing forced), no failed resource, and a screenshot kept at output/gallery-screenshot.png.
// Then curation: filters, search, sort, a table's extra column, and ratings saved as ratings.json.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rateCommand } from '../../src/cli/commands/rate.js';
import { reportCommand } from '../../src/cli/commands/report.js';
import { writeGallery } from '../../src/report/gallery.js';
import { parseRatings } from '../../src/report/ratings.js';
import { planIn, runCommand } from '../helpers/manifest.js';
import { type Outcome, reportFor, writeRun } from '../helpers/reports.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SCREENSHOT = join(ROOT, 'output', 'gallery-screenshot.png');
const run = promisify(execFile);

/** `klingrun <args>` as a user runs it, without any key from the caller's environment. */
function klingrun(args: readonly string[]) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(COMETAPI_|KLINGRUN_)/.test(name)));
  return run(process.execPath, [join(ROOT, 'bin/klingrun.js'), ...args], { cwd: ROOT, env });
}

/** Headless Chromium with its profile (and so its localStorage) in `temp`. */
function launch(temp: string): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`No browser at ${CHROMIUM}: install Debian's package (apt-get install -y chromium) or set CHROMIUM_PATH.`);
  return puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', `--user-data-dir=${join(temp, 'profile')}`],
  });
}

describe('gallery.html in Chromium', () => {
  let temp: string;
  let browser: Browser;

  beforeAll(async () => {
    temp = mkdtempSync(join(tmpdir(), 'klingrun-browser-'));
    await klingrun(['run', 'jobs/example.yaml', '--emulator', '--yes', '--output', join(temp, 'out')]);
    await klingrun(['report', join(temp, 'out'), '--html']);
    browser = await launch(temp);
  });

  afterAll(async () => {
    await browser?.close();
    if (temp) rmSync(temp, { recursive: true, force: true });
  });

  it('loads every video as it scrolls into view, with no failed resource, and looks right', async () => {
    const page = await browser.newPage();
    // Short enough that the second row starts below the viewport and the loading margin.
    await page.setViewport({ width: 1400, height: 500 });
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(`page error: ${String(error)}`));
    page.on('console', (message) => message.type() === 'error' && problems.push(`console: ${message.text()}`));
    page.on('requestfailed', (request) => problems.push(`failed: ${request.url()} ${request.failure()?.errorText ?? ''}`));
    const gallery = join(temp, 'out', 'gallery.html');
    expect(readFileSync(gallery, 'utf8')).not.toContain('emulator-key'); // the emulator run's API key
    await page.goto(pathToFileURL(gallery).href, { waitUntil: 'load' });

    const videos = await page.$$('video');
    expect(videos).toHaveLength(8);
    expect(await page.$$eval('video', (all) => all.map((v) => [v.getAttribute('preload'), v.muted, v.loop]))).toEqual(Array(8).fill(['none', true, true]));
    await new Promise((resolve) => setTimeout(resolve, 500));
    const before = await page.$$eval('video', (all) => all.map((v) => v.readyState));
    expect(before.slice(4)).toEqual([0, 0, 0, 0]); // lazy: the row out of view has loaded nothing
    for (const [i, video] of videos.entries()) {
      await video.scrollIntoView();
      await page.waitForFunction((v: { readyState: number }) => v.readyState >= 2, { timeout: 15_000 }, video).catch(() => {
        throw new Error(`video ${i} did not load: ${problems.join('; ')}`);
      });
    }
    expect(await page.$$eval('video', (all) => all.map((v) => v.readyState >= 2 && v.videoWidth > 0))).toEqual(Array(8).fill(true));
    expect(await page.$$eval('img', (all) => all.map((img) => img.complete && img.naturalWidth > 0))).toEqual([true, true]);
    expect(problems).toEqual([]);

    await page.setViewport({ width: 1400, height: 900 });
    // Page code as strings: this project compiles without the DOM's types.
    await page.evaluate('window.scrollTo(0, 0)');
    await page.waitForFunction('[...document.querySelectorAll("video")].every((v) => v.currentTime > 1)', { timeout: 15_000 });
    mkdirSync(join(ROOT, 'output'), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(existsSync(SCREENSHOT)).toBe(true);
  });
});

// Page code runs as strings: this project compiles without the DOM's types.
/** The job ids of the clips the page shows, in the order it shows them. */
const shownIds = (page: Page): Promise<string[]> =>
  page.evaluate(`[...document.querySelectorAll('.clip')].filter((c) => c.offsetParent !== null).sort((a, b) => a.getBoundingClientRect().top - b.getBoundingClientRect().top || a.getBoundingClientRect().left - b.getBoundingClientRect().left).map((c) => c.dataset.id)`) as Promise<string[]>;

describe('curating in the gallery, in Chromium', () => {
  let temp: string;
  let browser: Browser;
  let out: string;
  let jobs: { id: string; status: string; latency: number | null }[];
  const downloads = () => join(temp, 'downloads');

  beforeAll(async () => {
    temp = mkdtempSync(join(tmpdir(), 'klingrun-browser-curation-'));
    // Two table rows with a `category` column × two models; job i takes i+1 s, job 1 fails.
    const { dir, plan } = await planIn('version: 1\nname: curation\ndefaults: { mode: std }\nmatrix: { model_name: [kling-v2-6, kling-v2-5-turbo] }\njobs:\n  - from: clips.csv\n', {
      'clips.csv': 'image,prompt,category\na.png,a red fox runs through snow,animals\nb.png,city lights at night,places\n',
      'a.png': readFileSync(join(ROOT, 'jobs/images/harbor.png')),
      'b.png': readFileSync(join(ROOT, 'jobs/images/meadow.jpg')),
    });
    out = join(dir, 'out');
    writeRun(out, plan, ['succeeded', 'failed', 'succeeded', 'succeeded']);
    const report = await runCommand(reportCommand, { positionals: ['m.yaml'], values: { output: 'out', html: true } }, dir);
    expect(report.stderr).toBe('');
    jobs = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')).jobs.map((j: { id: string; status: string; latency_s: number | null }) => ({ id: j.id, status: j.status, latency: j.latency_s }));
    browser = await launch(temp);
    mkdirSync(downloads());
    const cdp = await browser.target().createCDPSession();
    await cdp.send('Browser.setDownloadBehavior', { behavior: 'allow', downloadPath: downloads() });
  });

  afterAll(async () => {
    await browser?.close();
    if (temp) rmSync(temp, { recursive: true, force: true });
  });

  it('filters by status and variant, searches prompts, sorts, shows extra columns, and keeps ratings across a reload and in the saved file', async () => {
    const page = await browser.newPage();
    await page.setViewport({ width: 1400, height: 1000 });
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(`page error: ${String(error)}`));
    await page.goto(pathToFileURL(join(out, 'gallery.html')).href, { waitUntil: 'load' });
    const all = jobs.map((j) => j.id);
    const [fox1, failed, city1, city2] = all as [string, string, string, string];
    // The grid: rows are images, columns models; reading order is row by row.
    expect(await shownIds(page)).toEqual(all);
    expect(await page.$eval('#shown', (el) => el.textContent)).toBe('Showing 4 of 4 clips');
    // The CSV's extra column labels its row.
    expect(await page.$$eval('tbody th.source', (rows) => rows.map((r) => (r as unknown as { innerText: string }).innerText.split('\n').filter((line) => line.startsWith('category'))))).toEqual([['category animals'], ['category places']]);

    await page.select('#f-status', 'failed');
    expect(await shownIds(page)).toEqual([failed]);
    await page.select('#f-status', '');
    await page.select('#f-variant', '1');
    expect(await shownIds(page)).toEqual([failed, city2]);
    expect(await page.$$eval('.grid thead th', (ths) => ths.map((th) => (th as unknown as { hidden: boolean }).hidden))).toEqual([false, true, false]);
    await page.select('#f-variant', '');
    await page.type('#f-search', 'FOX snow');
    await page.waitForFunction(`document.getElementById('shown').textContent === 'Showing 2 of 4 clips'`);
    expect(await shownIds(page)).toEqual([fox1, failed]);
    await page.$eval('#f-search', (el) => ((el as unknown as { value: string }).value = ''));
    await page.type('#f-search', ' ');
    await page.waitForFunction(`document.getElementById('shown').textContent === 'Showing 4 of 4 clips'`);

    // Sorted, the clips leave the grid for a list, each captioned with its row and column.
    await page.select('#f-sort', 'latency');
    const byLatency = [...jobs].sort((a, b) => (b.latency ?? -1) - (a.latency ?? -1)).map((j) => j.id);
    expect(await shownIds(page)).toEqual(byLatency);
    expect(await page.$eval(`.clip[data-id="${city2}"] .ctx`, (el) => (el as unknown as { innerText: string }).innerText)).toMatch(/^b\.png\nmodel_name kling-v2-5-turbo\ncity lights at night\ncategory places$/);
    await page.select('#f-sort', 'status');
    expect((await shownIds(page)).at(-1)).toBe(failed);
    await page.select('#f-sort', '');
    expect(await shownIds(page)).toEqual(all);

    // Keep by its button; reject by the key r on the clip last clicked (its video).
    await page.click(`.clip[data-id="${fox1}"] button[data-rating="keep"]`);
    await page.click(`.clip[data-id="${city1}"] video`);
    await page.keyboard.press('r');
    const pressed = () => page.$$eval('.clip', (clips) => clips.map((c) => [...c.querySelectorAll('[aria-pressed="true"]')].map((b) => b.textContent).join()));
    expect(await pressed()).toEqual(['Keep', '', 'Reject', '']);
    await page.select('#f-sort', 'rating');
    expect(await shownIds(page)).toEqual([fox1, failed, city2, city1]);
    await page.select('#f-sort', '');
    await page.select('#f-rating', 'unrated');
    expect(await shownIds(page)).toEqual([failed, city2]);
    await page.select('#f-rating', '');

    await page.click('#save');
    const saved = join(downloads(), 'ratings.json');
    // The download lands in its folder shortly after the click: look every 50 ms, for up to 5 s.
    for (let i = 0; i < 100 && !existsSync(saved); i++) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(readdirSync(downloads())).toEqual(['ratings.json']);
    expect(parseRatings(readFileSync(saved, 'utf8'), saved)).toEqual(new Map([[fox1, 'keep'], [city1, 'reject']]));

    // The page keeps its ratings (localStorage) across a reload, and says they are not in the folder yet.
    await page.reload({ waitUntil: 'load' });
    expect(await pressed()).toEqual(['Keep', '', 'Reject', '']);
    expect(await page.$eval('#unsaved', (el) => el.textContent)).toBe("2 change(s) not in the folder's ratings.json yet");

    // Imported into the folder, the regenerated page starts from the file, with nothing unsaved.
    const imported = await runCommand(rateCommand, { positionals: [out], values: { import: saved } }, temp);
    expect(imported.code, imported.stderr).toBe(0);
    await page.reload({ waitUntil: 'load' });
    expect(await pressed()).toEqual(['Keep', '', 'Reject', '']);
    expect(await page.$eval('#unsaved', (el) => el.textContent)).toBe('');
    expect(await page.$eval('#rated', (el) => el.textContent)).toBe('1 kept, 1 rejected');
    expect(problems).toEqual([]);
  });
});

/** Waits for the file a click on "Save ratings" downloads: it lands shortly after, so look every 50 ms, for up to 5 s. */
async function downloaded(file: string): Promise<void> {
  for (let i = 0; i < 100 && !existsSync(file); i++) await new Promise((resolve) => setTimeout(resolve, 50));
}

describe('the gallery of 20,000 clips, in Chromium', () => {
  const CLIPS = 20_000;
  let temp: string;
  let browser: Browser;
  let out: string;
  let ids: string[];

  beforeAll(async () => {
    temp = mkdtempSync(join(tmpdir(), 'klingrun-browser-big-'));
    // 10,000 table rows × two models; the last row alone says "zebra". A few clips succeeded, the
    // last one too; the one before it failed; the rest are pending.
    const csv = ['image,prompt', ...Array.from({ length: CLIPS / 2 }, (_, i) => `a.png,clip number ${i} ${i === CLIPS / 2 - 1 ? 'zebra' : 'walks'}`)].join('\n');
    const { dir, plan } = await planIn('version: 1\nname: big\ndefaults: { mode: std }\nmatrix: { model_name: [kling-v2-6, kling-v2-5-turbo] }\njobs:\n  - from: clips.csv\n', {
      'clips.csv': csv,
      'a.png': readFileSync(join(ROOT, 'jobs/images/harbor.png')),
    });
    const outcomes: Outcome[] = plan.jobs.map((_, i) => (i < 10 || i === CLIPS - 1 ? 'succeeded' : i === CLIPS - 2 ? 'failed' : 'pending'));
    out = join(dir, 'out');
    writeRun(out, plan, outcomes);
    writeGallery(out, reportFor(plan, outcomes, '../m.yaml'));
    ids = plan.jobs.map((job) => job.id);
    browser = await launch(temp);
    mkdirSync(join(temp, 'downloads'));
    const cdp = await browser.target().createCDPSession();
    await cdp.send('Browser.setDownloadBehavior', { behavior: 'allow', downloadPath: join(temp, 'downloads') });
  });

  afterAll(async () => {
    await browser?.close();
    if (temp) rmSync(temp, { recursive: true, force: true });
  });

  it('paints its first clips at once, reaches the last clip by scrolling and by search, filters and rates it, with a bounded DOM', async () => {
    const page = await browser.newPage();
    await page.setViewport({ width: 1400, height: 900 });
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(`page error: ${String(error)}`));
    await page.goto(pathToFileURL(join(out, 'gallery.html')).href, { waitUntil: 'load' });
    await page.waitForFunction(`performance.getEntriesByName('klingrun-all-clips').length > 0`, { timeout: 60_000 });
    const firstClips = (await page.evaluate(`performance.getEntriesByName('klingrun-first-clips')[0].startTime`)) as number;
    console.log(`20,000 clips: first clips painted at ${Math.round(firstClips)} ms`);
    expect(firstClips).toBeGreaterThan(0);
    const shown = () => page.$eval('#shown', (el) => el.textContent);
    // The cards in the DOM, in reading order (the script places them; the DOM order is not theirs).
    const cards = () => shownIds(page);
    expect(await shown()).toBe(`Showing ${CLIPS} of ${CLIPS} clips`);
    expect((await cards()).slice(0, 3)).toEqual(ids.slice(0, 3));
    expect((await cards()).length).toBeLessThan(60);

    const last = ids.at(-1) as string;
    await page.evaluate('window.scrollTo(0, document.body.scrollHeight)');
    await page.waitForSelector(`.clip[data-id="${last}"]`, { timeout: 5_000 });
    expect((await cards()).length).toBeLessThan(60);
    await page.evaluate('window.scrollTo(0, 0)');

    await page.type('#f-search', 'zebra');
    await page.waitForFunction(`document.getElementById('shown').textContent === 'Showing 2 of ${CLIPS} clips'`);
    expect(await cards()).toEqual(ids.slice(-2));
    await page.click(`.clip[data-id="${last}"] button[data-rating="keep"]`);
    await page.$eval('#f-search', (el) => ((el as unknown as { value: string }).value = ''));
    await page.type('#f-search', ' ');
    await page.waitForFunction(`document.getElementById('shown').textContent === 'Showing ${CLIPS} of ${CLIPS} clips'`);
    await page.select('#f-rating', 'keep');
    expect(await cards()).toEqual([last]);
    await page.select('#f-rating', '');
    await page.select('#f-status', 'failed');
    expect(await cards()).toEqual([ids.at(-2)]);
    await page.select('#f-status', '');
    await page.select('#f-sort', 'rating');
    expect((await cards())[0]).toBe(last);

    await page.click('#save');
    const saved = join(temp, 'downloads', 'ratings.json');
    await downloaded(saved);
    expect(parseRatings(readFileSync(saved, 'utf8'), saved)).toEqual(new Map([[last, 'keep']]));
    const heap = (await page.metrics()).JSHeapUsedSize ?? 0;
    console.log(`20,000 clips: JS heap ${Math.round(heap / 1e6)} MB after scrolling, searching and rating`);
    expect(problems).toEqual([]);
  });
});
