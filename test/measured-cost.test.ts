// What a task cost, read where the service puts it (beside task_status), priced at the account's
// unit price (a resource pack's: $0.14, $0.098 for a trial pack, $0.126 for a larger one), and
// shown in report.json, `status` and the gallery, saying which unit price was used.
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { formatCost } from '../src/cli/report-summary.js';
import { loadPriceFile, loadPriceTable, unitPriceOf } from '../src/data/tables.js';
import { startEmulator } from '../src/emulator/index.js';
import { buildReport } from '../src/report/build.js';
import { reportSchema, type Report } from '../src/report/schema.js';
import { replay } from '../src/runner/job-state.js';
import { journalEventSchema, type JournalEvent } from '../src/state/events.js';
import { compileFastCheck } from '../src/state/fast-check.js';
import { runInProcess } from './helpers/bad-input.js';
import { tempTree } from './helpers/manifest.js';
import { ROOT } from './helpers/reports.js';
import { type Harness, createHarness, makePlan } from './helpers/runner-harness.js';

const readJson = (file: string): unknown => JSON.parse(readFileSync(file, 'utf8'));
const lines = (file: string): JournalEvent[] => readFileSync(file, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as JournalEvent);

describe('a run against the live profile (the cost beside task_status)', () => {
  let dir: string;
  let run: Awaited<ReturnType<typeof runInProcess>>;
  beforeAll(async () => {
    // Not tempTree(): that is removed after each test, and the three tests read one run.
    dir = mkdtempSync(join(tmpdir(), 'klingrun-measured-'));
    cpSync(join(ROOT, 'jobs'), join(dir, 'jobs'), { recursive: true });
    mkdirSync(join(dir, 'output'));
    const emu = await startEmulator({ timeScale: 0.002, profile: 'live' });
    try {
      run = await runInProcess(['run', 'jobs/example.yaml', '--base-url', emu.url, '--yes', '--output', 'out', '--poll-interval', '0.05', '--rpm', '6000'], dir, { COMETAPI_KEY: 'emulator-key' });
    } finally {
      await emu.close();
    }
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("journals each task's units and list price, and report.json prices the units at the table's unit price and says so", () => {
    expect(run.code, run.stderr).toBe(0);
    const succeeded = lines(join(dir, 'out', 'state.jsonl')).filter((event) => event.ev === 'succeeded');
    expect(succeeded).toHaveLength(8);
    for (const event of succeeded) expect(event).toMatchObject({ units: expect.any(Number), list_price: expect.any(Number) });
    const report = reportSchema.parse(readJson(join(dir, 'out', 'report.json')));
    for (const job of report.jobs) {
      // The emulator bills the price table's price: Kling's list, at $0.14 a unit.
      expect(job.list_price).toBe(job.cost_usd);
      expect(job.measured_usd).toBe(job.cost_usd);
      expect(job.units).toBe(Math.round(((job.cost_usd ?? 0) / 0.14) * 100) / 100);
    }
    expect(report.cost).toMatchObject({ measured_usd: report.cost.certain_usd, measured_jobs: 8, unit_price: { usd_per_unit: 0.14, from: 'table', file: 'src/data/prices.yaml' } });
    expect(report.cost.certain_usd).toBeGreaterThan(0);
  });

  it("status and report take --unit-price: the same units at a trial pack's $0.098 a unit", async () => {
    const at014 = reportSchema.parse(readJson(join(dir, 'out', 'report.json')));
    const units = at014.jobs.reduce((sum, job) => sum + (job.units ?? 0), 0);
    const usd = (n: number) => `$${n.toFixed(2)}`;
    const status = await runInProcess(['status', 'out', '--unit-price', '0.098'], dir);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toContain(`Cost: ${usd(at014.cost.certain_usd)} certain (succeeded). The provider reports ${usd(units * 0.098)} actually charged for 8 job(s), at $0.098 a unit (--unit-price).`);
    const report = await runInProcess(['report', 'out', '--unit-price', '0.098', '--html'], dir);
    expect(report.code, report.stderr).toBe(0);
    const written = reportSchema.parse(readJson(join(dir, 'out', 'report.json')));
    expect(written.cost).toMatchObject({ measured_usd: Math.round(units * 0.098 * 10_000) / 10_000, unit_price: { usd_per_unit: 0.098, from: 'option' } });
    expect(written.jobs.map((job) => job.measured_usd)).toEqual(written.jobs.map((job) => Math.round((job.units ?? 0) * 0.098 * 10_000) / 10_000));
    const gallery = readFileSync(join(dir, 'out', 'gallery.html'), 'utf8');
    expect(gallery).toContain(`title="at $0.098 a unit (--unit-price)"><b>${usd(units * 0.098)}</b>charged (8 job(s))`);
    // kling-v2-6 std, 5 s: $0.21 on Kling's list, 1.5 units, $0.147 at $0.098 a unit.
    expect(gallery).toContain('<span class="charged" title="what the provider says it charged: 1.5 unit(s); list price $0.21">$0.15 charged</span>');
  });

  it('prices again a report.json that cannot be rebuilt (its manifest changed), where --unit-price is given', async () => {
    const written = reportSchema.parse(readJson(join(dir, 'out', 'report.json')));
    const units = written.jobs.reduce((sum, job) => sum + (job.units ?? 0), 0);
    writeFileSync(join(dir, 'jobs', 'example.yaml'), `${readFileSync(join(dir, 'jobs', 'example.yaml'), 'utf8')}# edited\n`);
    // As the test before wrote it.
    expect((await runInProcess(['status', 'out'], dir)).stdout).toContain('a unit (--unit-price).');
    expect(written.cost.unit_price).toEqual({ usd_per_unit: 0.098, from: 'option' });
    const larger = await runInProcess(['status', 'out', '--unit-price', '0.126'], dir);
    expect(larger.code, larger.stderr).toBe(0);
    expect(larger.stdout).toContain(`The provider reports $${(units * 0.126).toFixed(2)} actually charged for 8 job(s), at $0.126 a unit (--unit-price).`);
  });

  it('refuses a --unit-price that is no price, naming the option', async () => {
    const bad = await runInProcess(['status', 'out', '--unit-price', '0'], dir);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('Expected `--unit-price` to be a number >= 0.001, got `0`.');
  });
});

describe('the unit price: an option, the price file, or $0.14', () => {
  const rows = '  - { model_name: kling-v2-6, mode: std, usd_per_second: 0.042 }\n';

  it('comes from the price file\'s usd_per_unit; a bare list of rows, as older versions wrote it, loads and is priced at $0.14', () => {
    const dir = tempTree({ 'pack.yaml': `usd_per_unit: 0.126\nrows:\n${rows}`, 'old.yaml': rows.trimStart() });
    expect(loadPriceFile(join(dir, 'pack.yaml'))).toEqual({ usd_per_unit: 0.126, rows: [{ model_name: 'kling-v2-6', mode: 'std', usd_per_second: 0.042 }] });
    expect(loadPriceTable(join(dir, 'old.yaml'))).toEqual([{ model_name: 'kling-v2-6', mode: 'std', usd_per_second: 0.042 }]);
    expect(unitPriceOf(undefined, { path: 'pack.yaml', cwd: dir })).toEqual({ usd_per_unit: 0.126, from: 'table', file: 'pack.yaml' });
    expect(unitPriceOf(undefined, { path: 'old.yaml', cwd: dir })).toEqual({ usd_per_unit: 0.14, from: 'default' });
    expect(unitPriceOf(0.098, { path: 'pack.yaml', cwd: dir })).toEqual({ usd_per_unit: 0.098, from: 'option' });
    expect(unitPriceOf(undefined)).toEqual({ usd_per_unit: 0.14, from: 'table', file: 'src/data/prices.yaml' });
  });

  it('a bad usd_per_unit or row in the mapping form is located like any table error', () => {
    const dir = tempTree({ 'bad.yaml': `usd_per_unit: -1\nrows:\n  - { model_name: kling-v2-6, duration: 5, usd: 0.21 }\n` });
    let message = '';
    try {
      loadPriceFile(join(dir, 'bad.yaml'));
    } catch (error) {
      message = String((error as { issues?: unknown }).issues ? JSON.stringify((error as { issues: unknown }).issues) : error);
    }
    expect(message).toContain('usd_per_unit');
    // A row in the per-video format of older versions gets its hint in the mapping form too.
    expect(message).toContain('Prices are now USD per second of video');
  });
});

describe('what an ended task says it cost, folded into the report', () => {
  let harness: Harness;
  afterEach(() => harness?.cleanup());

  it("keeps a failed task's stated cost (0 units here) as measured, and still counts the task as possibly billed", async () => {
    const plan = makePlan(2, 0.35);
    harness = createHarness(plan);
    harness.provider.units = 0;
    harness.provider.failPrompts.add('prompt 0');
    await harness.run();
    const failed = harness.events.find((event) => event.ev === 'failed');
    expect(failed).toMatchObject({ units: 0 });
    const report = buildReport({ plan, states: replay(harness.events), manifest: { path: 'm.yaml', sha256: 'm' }, toolVersion: 'test' });
    expect(report.jobs.map((job) => [job.status, job.units, job.measured_usd, job.tasks])).toEqual([
      ['failed', 0, 0, { certain: 0, possible: 1, adopted: 0 }],
      ['succeeded', 0, 0, { certain: 1, possible: 0, adopted: 0 }],
    ]);
    expect(report.cost).toMatchObject({ possible_usd: 0.35, measured_usd: 0, measured_jobs: 2 });
  });

  it('journals units and a list price on succeeded and failed events, which the compiled check and zod both accept', () => {
    const isEvent = compileFastCheck(journalEventSchema);
    const job = 'a'.repeat(64);
    const events = [
      { t: 1, ev: 'succeeded', job, task_id: '7', videos: [{ url: 'https://cdn.test/7.mp4' }], units: 2.5, list_price: 0.35 },
      { t: 1, ev: 'failed', job, attempt: 1, code: 'task_failed', message: 'failed', retriable: true, units: 0, list_price: 0 },
    ];
    for (const event of events) expect([isEvent?.(event), journalEventSchema.safeParse(event).success]).toEqual([true, true]);
    const negative = { ...events[1], units: -1 };
    expect([isEvent?.(negative), journalEventSchema.safeParse(negative).success]).toEqual([false, false]);
  });

  it('measures a task that states only its list price at that price', () => {
    const plan = makePlan(1, 0.35);
    const job = plan.jobs[0] as (typeof plan.jobs)[number];
    const events: JournalEvent[] = [
      { ev: 'submitting', t: 1, job: job.id, attempt: 1, external_task_id: job.external_task_id, request: job.request },
      { ev: 'submitted', t: 2, job: job.id, attempt: 1, task_id: '7' },
      { ev: 'succeeded', t: 3, job: job.id, task_id: '7', videos: [{ url: 'https://cdn.test/7.mp4' }], list_price: 0.35 },
    ];
    const report = buildReport({ plan, states: replay(events), manifest: { path: 'm.yaml', sha256: 'm' }, toolVersion: 'test', unitPrice: { usd_per_unit: 0.098, from: 'option' } });
    expect(report.jobs[0]).toMatchObject({ units: null, list_price: 0.35, measured_usd: 0.35 });
  });

  it('reads a report.json of an older version (no unit price, no list price) and names the $0.14 it used', () => {
    const dir = tempTree();
    const plan = makePlan(1, 0.35);
    const current = buildReport({ plan, states: new Map(), manifest: { path: 'm.yaml', sha256: 'm' }, toolVersion: 'test' });
    const { unit_price: _new, ...oldCost } = current.cost;
    const old = { ...current, cost: { ...oldCost, measured_usd: 0.35, measured_jobs: 1 }, jobs: current.jobs.map(({ list_price: _added, ...job }) => job) };
    writeFileSync(join(dir, 'report.json'), JSON.stringify(old));
    const read: Report = reportSchema.parse(readJson(join(dir, 'report.json')));
    expect(formatCost(read.cost)).toBe('Cost: $0.00 certain (succeeded). The provider reports $0.35 actually charged for 1 job(s), at $0.14 a unit.');
  });
});
