// The repository speaks for itself: the README, docs/ and the sources point only at files a clone
// or the package has, and what the README shows (the command-line reference, a help screen, the
// library example) is what the code does.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BEGIN, END, cliReference } from '../scripts/readme.js';
import * as library from '../src/index.js';
import { REPORT_STATUSES } from '../src/report/schema.js';
import { runInProcess } from './helpers/bad-input.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8');
const README = read('README.md');

function filesUnder(dir: string): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((name) => {
    const path = join(dir, name);
    return statSync(join(ROOT, path)).isDirectory() ? filesUnder(path) : [path];
  });
}

/** A path into the folder of notes the project was built from, which users do not have. */
const OUTSIDE = /(^|[^\w-])(\.\.\/)?shared\/|kling-api\.md|seeds\/000_/;

describe('no reference outside the repository', () => {
  const texts = ['README.md', 'CHANGELOG.md', 'package.json', 'output/README.md', ...filesUnder('docs'), ...filesUnder('src'), ...filesUnder('examples'), ...filesUnder('jobs')].filter((path) => !/\.(png|jpe?g|mp4)$/.test(path));

  it.each(texts)('%s', (path) => {
    const hits = read(path)
      .split('\n')
      .map((line, i) => `${i + 1}: ${line}`)
      .filter((line) => OUTSIDE.test(line));
    expect(hits).toEqual([]);
  });

  it('links from the README and docs/ resolve to files of the repository', () => {
    for (const path of ['README.md', ...filesUnder('docs').filter((p) => p.endsWith('.md'))]) {
      for (const [, target] of read(path).matchAll(/\]\(([^)#\s]+)(#[^)]*)?\)/g)) {
        if (!target || /^[a-z]+:/.test(target)) continue;
        const file = relative(ROOT, join(ROOT, path, '..', target));
        expect(() => statSync(join(ROOT, file)), `${path} → ${target}`).not.toThrow();
      }
    }
  });
});

describe('what the README shows is what the code does', () => {
  it('the price table names its source and the date its rows were copied, at its top', () => {
    const head = read('src/data/prices.yaml').split('\n').slice(0, 5).join('\n');
    expect(head).toMatch(/^# Source: Kling.s price list, kling\.ai\/document-api\/pricing/m);
    expect(head).toMatch(/Rows copied \d{4}-\d{2}\./);
  });

  it("docs/export-columns.md lists exactly the report's statuses for --status", () => {
    const listed = /`--status` keeps only jobs in the given states \(comma-separated\): ([^.]+)\./.exec(read('docs/export-columns.md').replace(/\n\s*/g, ' '))?.[1];
    expect([...(listed ?? '').matchAll(/`(\w+)`/g)].map(([, status]) => status).sort()).toEqual([...REPORT_STATUSES].sort());
  });

  it('the command-line reference is generated from the option tables (`npm run readme`)', async () => {
    const block = README.slice(README.indexOf(BEGIN) + BEGIN.length + 1, README.indexOf(END) - 1);
    expect(block).toBe(await cliReference());
  });

  it('the help screen it quotes is the real one', async () => {
    const quoted = /```\n\$ klingrun help status\n([\s\S]*?)```/.exec(README)?.[1];
    expect(quoted).toBe((await runInProcess(['help', 'status'], ROOT)).stdout);
  });

  it('the library example is examples/library.mjs, the file the package test runs', () => {
    const shown = /## Using klingrun from code[\s\S]*?```js\n([\s\S]*?)```/.exec(README)?.[1];
    expect(shown).toBe(read('examples/library.mjs'));
  });

  it('docs/library.md describes every export of the library', () => {
    const reference = read('docs/library.md');
    const missing = Object.keys(library).filter((name) => !reference.includes(`\`${name}`));
    expect(missing).toEqual([]);
  });
});
