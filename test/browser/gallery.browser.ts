// The gallery in a real browser: an emulator run of the example manifest, its gallery opened from
// file:// in headless Chromium, every video loaded by the page's own lazy loading (scrolled into
// view, nothing forced), no failed resource, and a screenshot kept at output/gallery-screenshot.png.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import puppeteer, { type Browser } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SCREENSHOT = join(ROOT, 'output', 'gallery-screenshot.png');
const run = promisify(execFile);

/** `klingrun <args>` as a user runs it, without any key from the caller's environment. */
function klingrun(args: readonly string[]) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(COMETAPI_|KLINGRUN_)/.test(name)));
  return run(process.execPath, [join(ROOT, 'bin/klingrun.js'), ...args], { cwd: ROOT, env });
}

describe('gallery.html in Chromium', () => {
  let temp: string;
  let browser: Browser;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`No browser at ${CHROMIUM}: install Debian's package (apt-get install -y chromium) or set CHROMIUM_PATH.`);
    temp = mkdtempSync(join(tmpdir(), 'klingrun-browser-'));
    await klingrun(['run', 'jobs/example.yaml', '--emulator', '--yes', '--output', join(temp, 'out')]);
    await klingrun(['report', join(temp, 'out'), '--html']);
    browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', `--user-data-dir=${join(temp, 'profile')}`],
    });
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
