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
import { parseRatings } from '../../src/report/ratings.js';
import { planIn, runCommand } from '../helpers/manifest.js';
import { writeRun } from '../helpers/reports.js';

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
