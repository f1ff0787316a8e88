// The `download` bench case, run tiny: the real runner and downloader fetch videos made on the fly
// by a local host and report the process's peak RSS. No figure is asserted here: the measurement is
// `npm run bench -- download`, four 600 MB answers at once.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it, onTestFinished } from 'vitest';
import { measureDownloads } from '../bench/download.js';

it('the download bench case downloads every video and reports peak RSS against 300 MB', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'klingrun-download-bench-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  const result = await measureDownloads({ videos: 2, bytes: 3 * 1024 * 1024 }, dir);
  expect(result.detail).toMatch(/^2 × 3 MB at once, .* MB\/s$/);
  expect(result.metrics).toEqual([{ name: 'peak RSS, MB (whole process)', value: expect.any(Number), target: 300 }]);
  const clips = readdirSync(join(dir, 'videos'), { recursive: true }).filter((name) => String(name).endsWith('.mp4'));
  expect(clips).toHaveLength(2);
});
