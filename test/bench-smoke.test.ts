// Each benchmark case, run tiny and fast, produces its numbers. No timing is asserted: the real
// measurements are `npm run bench`, on a quiet machine, at full size.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeMatrixManifest, writeTableManifest } from '../bench/fixtures.js';
import type { BenchResult } from '../bench/index.js';
import { measureCli } from '../bench/plan.js';
import { measurePollCost } from '../bench/poll-cost.js';
import { measureRateLimit } from '../bench/rate-limit.js';
import { measureReplay, measureScaleRun, prepareReplay, prepareStatus, scaleRunSetup } from '../bench/scale.js';
import { measureShards } from '../bench/shards.js';
import { measureLimitBelow, measureStorm } from '../bench/storm.js';
import { measureThroughput } from '../bench/throughput.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'klingrun-bench-smoke-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** The figures of a process the case measured: positive, finite. */
function expectProcess(result: BenchResult): void {
  for (const value of [result.process?.ms, result.process?.cpuMs, result.process?.rssMb]) expect(value).toBeGreaterThan(0);
}

function expectNumbers(result: BenchResult, names: number): void {
  expect(result.detail.length).toBeGreaterThan(0);
  expect(result.metrics).toHaveLength(names);
  for (const metric of result.metrics) expect(Number.isFinite(metric.value), `${metric.name} = ${metric.value}`).toBe(true);
}

describe('bench cases, tiny', () => {
  it('throughput: makespan / bound and 429s', async () => {
    expectNumbers(await measureThroughput({ tasks: 6, concurrency: 3, scale: 0.005, queueS: 1, processingS: 4, pollS: 0.5 }, dir), 2);
  });

  it('rate limit: 1302s and the peak window', async () => {
    expectNumbers(await measureRateLimit({ tasks: 4, rpm: 30, concurrency: 4, scale: 0.005, pollS: 5 }, dir), 2);
  });

  it('1303 storm: recovery time and the dip', async () => {
    expectNumbers(await measureStorm({ tasks: 20, concurrency: 4, scale: 0.005, pollS: 2, stormAtS: 150, burst: 2 }, dir), 2);
  });

  it('account limit below the concurrency: makespan and 1303s per task', async () => {
    expectNumbers(await measureLimitBelow({ tasks: 8, concurrency: 4, accountLimit: 2, scale: 0.005, pollS: 1 }, dir), 2);
  });

  it('two shards on one account: makespan both ways, and nothing paid twice', async () => {
    const result = await measureShards({ tasks: 8, account: 4, scale: 0.005, pollS: 1 }, dir);
    expectNumbers(result, 3);
    expect(result.metrics[2]).toMatchObject({ name: 'jobs paid twice', value: 0 });
    expect(result.detail).toMatch(/L\/2 each: .*8 created, 0 paid twice; .*L each: .*8 created, 0 paid twice/);
  });

  it('polling cost, fixed and adaptive', async () => {
    expectNumbers(await measurePollCost({ tasks: 6, concurrency: 3, scale: 0.005, pollS: 5 }, dir), 2);
  });

  it('journal replay', async () => {
    const result = await measureReplay(prepareReplay(dir, 50));
    expectNumbers(result, 1);
    expect(result.detail).toContain('301 lines');
    expectProcess(result);
  });

  it('a whole run against the in-memory provider, with its memory, report.json and gallery', async () => {
    const result = await measureScaleRun({ ...scaleRunSetup(300), concurrency: 20 }, dir);
    expectNumbers(result, 1);
    expect(existsSync(join(dir, 'report.json')) && existsSync(join(dir, 'gallery.html'))).toBe(true);
  });

  it('the CLI as a whole process: plan --json, a table plan, status of a finished run', async () => {
    const plan = measureCli({ dir, args: ['plan', writeMatrixManifest(dir, 100), '--json'], jobs: 100 });
    const table = measureCli({ dir, args: ['plan', writeTableManifest(dir, 30)], jobs: 30 });
    const status = measureCli(await prepareStatus(mkdtempSync(join(dir, 'status-')), 100));
    for (const result of [plan, table, status]) expectProcess(result);
  });
});
