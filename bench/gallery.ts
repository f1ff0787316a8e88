// Bench: the gallery of a big batch. `klingrun report --html` on a finished run writes gallery.html
// and its data files (whole process: time and peak RSS); then headless Chromium opens the page from
// file://, as a user does, and we take the time its first clips painted, scroll through every
// clip, and read the JS heap, Chromium's resident memory and the number of cards in the DOM at the end.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import puppeteer from 'puppeteer-core';
import { runCli } from './cli.js';
import { fmt } from './emulated.js';
import type { BenchCase, BenchResult } from './index.js';
import type { CliInput } from './plan.js';
import { SCALE_SIZES, prepareStatus } from './scale.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const MB = 1024 * 1024;

/**
 * The resident memory of a process and all its descendants (Chromium's renderer, GPU and utility
 * processes), from /proc: their VmRSS summed, so pages they share are counted in each (an upper bound).
 */
function treeRssMb(root: number): number {
  const parents = new Map<number, number>();
  for (const name of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      // `pid (comm) state ppid …`: the command may hold spaces, so read after its closing parenthesis.
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      parents.set(Number(name), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // The process ended while we looked.
    }
  }
  const tree = new Set([root]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [pid, ppid] of parents) {
      if (!tree.has(ppid) || tree.has(pid)) continue;
      tree.add(pid);
      grew = true;
    }
  }
  let kb = 0;
  for (const pid of tree) {
    try {
      kb += Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
    } catch {
      // Ended meanwhile.
    }
  }
  return kb / 1024;
}

interface PageFigures {
  /** When the first clips were painted, and every data file read, in ms from navigation start. */
  readonly firstClips: number;
  readonly allClips: number;
  readonly heapMb: number;
  /** Chromium's processes together, after loading and after scrolling through. */
  readonly loadedRssMb: number;
  readonly browserRssMb: number;
  readonly cards: number;
  readonly steps: number;
}

/** Opens the page, waits for its clips, scrolls from top to bottom a viewport at a time. */
async function browse(file: string): Promise<PageFigures> {
  if (!existsSync(CHROMIUM)) throw new Error(`No browser at ${CHROMIUM}: install Debian's package (apt-get install -y chromium) or set CHROMIUM_PATH.`);
  const browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
  try {
    const page = await browser.newPage();
    await page.setViewport({ width: 1400, height: 900 });
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
    await page.waitForFunction(`performance.getEntriesByName('klingrun-all-clips').length > 0`, { timeout: 120_000, polling: 100 });
    // Page code as strings: this project compiles without the DOM's types.
    const mark = (name: string) => page.evaluate(`performance.getEntriesByName('${name}')[0].startTime`) as Promise<number>;
    const pid = browser.process()?.pid ?? 0;
    const loadedRssMb = treeRssMb(pid);
    const height = (await page.evaluate('document.body.scrollHeight')) as number;
    let steps = 0;
    for (let y = 0; y < height; y += 900 * 8, steps++) {
      await page.evaluate(`window.scrollTo(0, ${y})`);
      await page.evaluate('new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)))');
    }
    const cards = (await page.evaluate(`document.querySelectorAll('.clip').length`)) as number;
    const { JSHeapUsedSize = 0 } = await page.metrics();
    return { firstClips: await mark('klingrun-first-clips'), allClips: await mark('klingrun-all-clips'), heapMb: JSHeapUsedSize / MB, loadedRssMb, browserRssMb: treeRssMb(pid), cards, steps };
  } finally {
    await browser.close();
  }
}

export const galleryCase: BenchCase = {
  name: 'gallery',
  description: 'klingrun report --html on a finished run (whole process), then the page in headless Chromium: first clips painted, every clip scrolled through',
  targets: { ms: 5_000, rssMb: 300 },
  sizes: SCALE_SIZES,
  prepare: async (dir, jobs) => {
    const { args, ...input } = await prepareStatus(dir, jobs);
    return { ...input, args: ['report', ...args.slice(1), '--html'] } satisfies CliInput;
  },
  run: async (input): Promise<BenchResult> => {
    const { dir, args, jobs } = input as CliInput;
    const writer = runCli(args, dir);
    const page = await browse(join(dir, 'out', 'gallery.html'));
    return {
      detail:
        `klingrun ${args.join(' ')}: ${jobs} jobs written in ${fmt(writer.ms / 1000, 1)} s, peak RSS ${fmt(writer.rssMb, 0)} MB; ` +
        `Chromium: first clips painted at ${fmt(page.firstClips, 0)} ms, all ${jobs} loaded at ${fmt(page.allClips, 0)} ms; ` +
        `after scrolling to the end (${page.steps} steps) ${page.cards} cards in the DOM, JS heap ${fmt(page.heapMb, 0)} MB, ` +
        `Chromium's processes ${fmt(page.loadedRssMb, 0)} MB RSS (summed) once loaded, ${fmt(page.browserRssMb, 0)} MB after scrolling`,
      metrics: [
        { name: 'first clips painted (ms)', value: page.firstClips, target: 2_000 },
        { name: 'JS heap after scrolling through (MB)', value: page.heapMb },
        { name: "Chromium's RSS after scrolling through (MB)", value: page.browserRssMb },
        { name: 'cards in the DOM', value: page.cards },
      ],
      process: writer,
    };
  },
};
