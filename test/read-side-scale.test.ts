// The read side of a large batch (status, report, export of an output folder) reads report.json a
// job at a time and writes rows as it goes: at 100,000 jobs the file is ~150 MB, ~700 MB parsed
// whole, and the rows' text as large again.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { exportCommand } from '../src/cli/commands/export.js';
import type { CliIO } from '../src/cli/io.js';
import { asStream, buildReport, repriced, wholeReport } from '../src/report/build.js';
import { exportRows, formatRows } from '../src/report/export.js';
import { loadOutput } from '../src/report/load-output.js';
import { streamReportFile } from '../src/report/read-stream.js';
import type { Report } from '../src/report/schema.js';
import { writeReportJson } from '../src/report/stream.js';
import { tempTree } from './helpers/manifest.js';
import { ROOT, examplePlan, reportFor, writeRun } from './helpers/reports.js';
import { replay } from '../src/runner/job-state.js';
import { shardJobs } from '../src/runner/select.js';
import { makePlan } from './helpers/runner-harness.js';

const OUTCOMES = (['succeeded', 'failed', 'in_flight', 'pending'] as const).flatMap((outcome) => Array<typeof outcome>(150).fill(outcome));

/** A folder holding only report.json, as klingrun writes it, for a manifest that is gone: it is used as written. */
function reportFolder(report: Report = reportFor(makePlan(600), OUTCOMES, '../gone.yaml')): { dir: string; report: Report } {
  const dir = tempTree();
  writeReportJson(dir, report);
  return { dir, report };
}

/** The length of the longest text JSON.parse is given while `body` runs. */
async function longestParse(body: () => Promise<unknown>): Promise<number> {
  const parse = JSON.parse;
  let longest = 0;
  const spy = vi.spyOn(JSON, 'parse').mockImplementation((text: string, reviver?: Parameters<typeof JSON.parse>[1]) => {
    longest = Math.max(longest, text.length);
    return parse(text, reviver);
  });
  try {
    await body();
  } finally {
    spy.mockRestore();
  }
  return longest;
}

afterEach(() => vi.restoreAllMocks());

describe('report.json read back', () => {
  it('is read a job at a time, never parsed whole, and gives the report as written', async () => {
    const { dir, report } = reportFolder();
    const file = join(dir, 'report.json');
    const size = JSON.stringify(report, null, 2).length;
    let loaded: Awaited<ReturnType<typeof loadOutput>> | undefined;
    const longest = await longestParse(async () => {
      loaded = await loadOutput(dir, { cwd: dir });
      expect(loaded.stream.summary.totals).toEqual(report.totals);
      for (const _job of loaded.stream.jobs()) {
        // read every job, as export does
      }
    });
    expect(longest).toBeLessThan(size / 20);
    expect(wholeReport(loaded!.stream)).toEqual(report);
    expect(streamReportFile(file, 'fix').plannedIds()).toEqual(new Set(report.jobs.map((job) => job.id)));
  });

  it('reads a report.json laid out otherwise (one line, by hand) whole, to the same report', () => {
    const report = reportFor(makePlan(20), OUTCOMES.slice(0, 20), '../gone.yaml');
    const dir = tempTree();
    const file = join(dir, 'report.json');
    writeFileSync(file, JSON.stringify(report));
    const { stream, plannedIds } = streamReportFile(file, 'fix');
    expect(wholeReport(stream)).toEqual(report);
    expect(plannedIds().size).toBe(20);
  });

  it('names the damaged job of a report.json used as written before anything is printed', async () => {
    const { dir } = reportFolder();
    const file = join(dir, 'report.json');
    writeFileSync(file, readFileSync(file, 'utf8').replace('"status": "failed"', '"status": "exploded"'));
    await expect(loadOutput(dir, { cwd: dir })).rejects.toThrow(/is not a klingrun report \(at `jobs\.150\.status`/);
  });

  it('prices a report used as written again at --unit-price, a job at a time, as before', async () => {
    const { dir, report } = reportFolder();
    const loaded = await loadOutput(dir, { cwd: dir, unitPrice: 0.2 });
    const again = repriced(asStream(report), { usd_per_unit: 0.2, from: 'option' });
    expect(loaded.stream.summary.cost).toEqual(again.summary.cost);
    expect(loaded.stream.summary.cost.unit_price).toEqual({ usd_per_unit: 0.2, from: 'option' });
    expect(wholeReport(loaded.stream)).toEqual(wholeReport(again));
  });
});

describe('a `run --shard` folder, its manifest at hand', () => {
  it('is rebuilt from its journal as the report of its slice, its report.json read a job at a time', async () => {
    const manifest = join(ROOT, 'jobs/example.yaml');
    const plan = await examplePlan();
    const slice = { ...plan, jobs: shardJobs(plan.jobs, { index: 1, count: 2 }) };
    const dir = tempTree();
    const events = writeRun(dir, slice, slice.jobs.map(() => 'succeeded'));
    const sha256 = createHash('sha256').update(readFileSync(manifest)).digest('hex');
    writeReportJson(dir, buildReport({ plan: slice, states: replay(events), manifest: { path: relative(dir, manifest), sha256 }, toolVersion: 'test' }));
    const size = readFileSync(join(dir, 'report.json'), 'utf8').length;
    let loaded: Awaited<ReturnType<typeof loadOutput>> | undefined;
    const longest = await longestParse(async () => {
      loaded = await loadOutput(dir, { cwd: ROOT });
    });
    expect(loaded).toMatchObject({ rebuilt: true, stream: { summary: { totals: { jobs: slice.jobs.length, succeeded: slice.jobs.length, not_in_manifest: 0 } } } });
    expect([...loaded!.stream.jobs()].map((job) => job.id)).toEqual(slice.jobs.map((job) => job.id));
    expect(slice.jobs.length).toBeLessThan(plan.jobs.length);
    expect(longest).toBeLessThan(size / 2);
  });
});

describe('klingrun export of an output folder', () => {
  it('writes its rows in pieces, none of them the whole text, adding up to the rows of the whole report', async () => {
    const { dir, report } = reportFolder();
    for (const format of ['jsonl', 'csv'] as const) {
      const pieces: string[] = [];
      const io = { stdout: (text: string) => void pieces.push(text), stderr: () => {}, env: {}, cwd: dir, isTTY: false, confirm: async () => false, signal: new AbortController().signal } satisfies CliIO;
      expect(await exportCommand.run({ values: { format, where: ['status!=pending'] }, positionals: [dir] }, io)).toBe(0);
      const whole = formatRows(exportRows(report, { where: [{ column: 'status', negate: true, value: 'pending', text: 'status!=pending' }] }), format);
      expect(pieces.join('')).toBe(whole);
      expect(Math.max(...pieces.map((piece) => piece.length))).toBeLessThan(whole.length / 2);
    }
  });
});
