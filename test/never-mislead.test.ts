// What `run`, `plan` and `status` print must be true (issue 20, "Never mislead"): the small
// sentences a new user reads before and after a run.
import { join } from 'node:path';
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planCostTable } from '../src/cli/commands/plan.js';
import type { CliIO } from '../src/cli/io.js';
import { Progress } from '../src/cli/progress.js';
import { formatTotals, formatVariantTable } from '../src/cli/report-summary.js';
import { main } from '../src/cli/run-cli.js';
import { type EmulatorHandle, startEmulator } from '../src/emulator/index.js';
import { TYPICAL_TASK_S, durationRange, formatSummary, rangeText, taskDuration } from '../src/cli/summary.js';
import { loadModelTable, loadPriceTable } from '../src/data/tables.js';
import { buildReport } from '../src/report/build.js';
import type { Reproduce } from '../src/report/schema.js';
import type { JobState } from '../src/runner/job-state.js';
import { resolveRunOptions } from '../src/runner/options.js';
import { withinBudget } from '../src/runner/spend.js';
import { runInProcess } from './helpers/bad-input.js';
import { planIn, png, tempTree } from './helpers/manifest.js';
import { examplePlan, reportFor } from './helpers/reports.js';
import { makePlan } from './helpers/runner-harness.js';

const tables = { models: loadModelTable(), prices: loadPriceTable() };

/** A terminal whose user answers `answer` to the confirmation; what it printed. */
function terminal(dir: string, answer: boolean): { io: CliIO; out: { stdout: string; stderr: string; questions: string[] } } {
  const out = { stdout: '', stderr: '', questions: [] as string[] };
  const io: CliIO = {
    stdout: (text) => void (out.stdout += text),
    stderr: (text) => void (out.stderr += text),
    env: {},
    cwd: dir,
    isTTY: true,
    columns: 200,
    confirm: async (question) => (out.questions.push(question), answer),
    signal: new AbortController().signal,
  };
  return { io, out };
}

describe('the small truths', () => {
  it('a finished run rerun has nothing to resume, and says so', () => {
    const plan = makePlan(3);
    const text = formatSummary({ plan, toSubmit: [], todo: 0, options: resolveRunOptions([]), tables });
    expect(text).toBe('test: 3 job(s) planned, nothing to run: all 3 have already finished.');
    // Resuming is said when there is something left.
    expect(formatSummary({ plan, toSubmit: plan.jobs.slice(2), todo: 1, options: resolveRunOptions([]), tables }).split('\n')[0]).toBe('test: 3 job(s) planned, 1 to run (2 already finished: resuming).');
    // `--only` leaving out unfinished jobs: they are not called finished.
    expect(formatSummary({ plan, toSubmit: [], todo: 0, finished: 1, options: resolveRunOptions([]), tables })).toBe('test: 3 job(s) planned, nothing to run (1 already finished, 2 not selected).');
  });

  it('success is the rate of the finished jobs, and says of how many while others are not finished', async () => {
    const plan = await examplePlan();
    // Job 0's variant: 2 jobs (one per image), one succeeded, one not submitted yet.
    const partial = formatVariantTable(reportFor(plan, ['succeeded']));
    expect(partial.split('\n')[1]).toMatch(/ 2 +1 +0 +100% of 1 /);
    const whole = formatVariantTable(reportFor(plan, Array(8).fill('succeeded')));
    expect(whole.split('\n')[1]).toMatch(/ 2 +2 +0 +100% /);
    expect(whole).not.toContain(' of ');
  });

  it('answering no at the confirmation is no error: one plain line, exit 0, nothing submitted', async () => {
    const dir = tempTree({
      'batch.yaml': 'version: 1\nname: batch\ndefaults: { model_name: kling-v2-6, mode: std, duration: 5 }\njobs:\n  - image: a.png\n    prompt: a slow push-in\n    repeat: 2\n',
      'a.png': png(1),
    });
    const { io, out } = terminal(dir, false);
    expect(await main(['run', 'batch.yaml', '--emulator', '--output', 'out'], io)).toBe(0);
    expect(out.questions).toHaveLength(1);
    expect(out.stderr).not.toContain('error:');
    expect(out.stderr).toContain('Not submitted: you answered no. Nothing was sent or paid.\n');
    const journal = join(dir, 'out', 'state.jsonl');
    expect(existsSync(journal) ? readFileSync(journal, 'utf8') : '').not.toContain('"submitting"');
  });

  it("the plan's cost table lists the variants in manifest order, as the progress bars and the report do", async () => {
    const { plan } = await planIn('version: 1\nname: order\ndefaults: { mode: std, duration: 5 }\nmatrix:\n  model_name: [kling-v2-6, kling-v1-6]\njobs:\n  - image: a.png\n    prompt: p\n');
    const rows = planCostTable(plan, tables).split('\n').slice(1, 3).map((line) => line.split(' ')[0]);
    expect(rows).toEqual([plan.jobs[0]?.request.model_name, plan.jobs[1]?.request.model_name]);
    expect(rows).toEqual(['kling-v2-6', 'kling-v1-6']);
  });
});

describe('the budget shapes the plan', () => {
  /** Ten kling-v2-6 std 5 s jobs at $0.21: $2.10. */
  const tenJobs = (): string =>
    tempTree({
      'batch.yaml': 'version: 1\nname: batch\ndefaults: { model_name: kling-v2-6, mode: std, duration: 5 }\njobs:\n  - image: a.png\n    prompt: a slow push-in\n    repeat: 10\n',
      'a.png': png(1),
    });

  it('the summary and the question say how many of the jobs fit --budget, and which', async () => {
    const dir = tenJobs();
    const { io, out } = terminal(dir, false);
    expect(await main(['run', 'batch.yaml', '--emulator', '--output', 'out', '--budget', '1'], io)).toBe(0);
    expect(out.stdout).toContain('budget $1.00: about 4 of the 10 job(s) to submit fit, taken in plan order; the other 6 are skipped (a rerun with a higher --budget submits them).');
    expect(out.questions).toEqual(['Submit 4 of 10 job(s) (as many as --budget lets through, in plan order; about $0.84, 1–3 s) (this folder has no record of earlier runs; see the note above)?']);
  });

  it('without a terminal, the refusal names what the budget lets through', async () => {
    const dir = tenJobs();
    const { io, out } = terminal(dir, false);
    const piped: CliIO = { ...io, isTTY: false };
    // $0.84 is under the $1 a run without a terminal asks at: it goes ahead, four jobs.
    expect(await main(['run', 'batch.yaml', '--emulator', '--output', 'out', '--budget', '1'], piped)).toBe(1);
    expect(out.stdout).toContain('10 job(s): 4 succeeded');
    const wider = tenJobs();
    const second = terminal(wider, false);
    expect(await main(['run', 'batch.yaml', '--emulator', '--output', 'out', '--budget', '1.5'], { ...second.io, isTTY: false })).toBe(2);
    expect(second.out.stderr).toContain('This run would submit 7 of 10 job(s) costing about $1.47 and there is no terminal to confirm on');
  });

  it('counts what the folder already commits, and lets a cheaper job after a dear one through, as the runner does', () => {
    const jobs = [{ cost_usd: 0.5 }, { cost_usd: 0.8 }, { cost_usd: 0.3 }];
    expect(withinBudget(jobs, 1, 0)).toEqual([jobs[0], jobs[2]]);
    expect(withinBudget(jobs, 1, 0.6)).toEqual([jobs[2]]);
    const plan = makePlan(10);
    const text = formatSummary({ plan, toSubmit: plan.jobs, options: resolveRunOptions([{ budget_usd: 2 }]), tables, budget: { fitting: 3, committedUsd: 1 } });
    expect(text).toContain('budget $2.00 ($1.00 of it already taken by this folder\'s tasks): about 3 of the 10 job(s) to submit fit, taken in plan order; the other 7 are skipped');
    expect(formatSummary({ plan, toSubmit: plan.jobs, options: resolveRunOptions([{ budget_usd: 5 }]), tables, budget: { fitting: 10, committedUsd: 0 } })).not.toContain('fit');
  });
});

describe('after a budget stop', () => {
  /** A folder where one job succeeded and an earlier run's budget skipped the other three. */
  const stopped = () => {
    const plan = makePlan(4);
    const states = new Map<string, JobState>(
      plan.jobs.map((job, i) => [
        job.id,
        i === 0
          ? { job: job.id, phase: 'downloaded', attempt: 1, earlierTasks: 0, download: { path: 'a.mp4', sha256: 'x', bytes: 1 } }
          : { job: job.id, phase: 'skipped_budget', attempt: 0, earlierTasks: 0, estimateUsd: 0.33, nextAttempt: 1 },
      ]),
    );
    return { plan, states };
  };

  it("progress counts an earlier run's budget skips as work left, and a skip of this run as skipped", () => {
    const { plan, states } = stopped();
    const progress = new Progress({ plan, states, isTTY: false, write: () => {} });
    expect(progress.heartbeatLine()).toMatch(/^progress: 1\/4 done \| queued 3 \| in flight 0 \| ok 1 \| failed 0 \|/);
    const job = plan.jobs[1]!;
    const again: JobState = { job: job.id, phase: 'skipped_budget', attempt: 0, earlierTasks: 0, estimateUsd: 0.33, nextAttempt: 1 };
    progress.onEvent({ ev: 'skipped_budget', t: 1, job: job.id, cost_usd: 0.33, attempt: 1 }, again, job);
    expect(progress.heartbeatLine()).toMatch(/^progress: 2\/4 done \| queued 2 \| .* \| skipped 1 \|/);
  });

  it('a run without a budget does not call the jobs it did not reach "skipped budget": they are not submitted yet', () => {
    const { plan, states } = stopped();
    const reproduce = (budget_usd: number | null): Reproduce => ({
      tool_version: 'test',
      manifest_sha256: 'm',
      plan_sha256: 'p',
      id_salt: '',
      prices: loadPriceTable(),
      limits: { concurrency: 5, rpm: 60, budget_usd, task_timeout_min: 60, poll_interval_s: null, download_concurrency: 4 },
      command: ['run'],
    });
    const report = (budget: number | null) => buildReport({ plan, states, manifest: { path: 'm.yaml', sha256: 'm' }, toolVersion: 'test', reproduce: reproduce(budget) });
    const unbudgeted = report(null);
    expect(unbudgeted.totals).toMatchObject({ succeeded: 1, pending: 3, skipped_budget: 0 });
    expect(formatTotals(unbudgeted)).toMatch(/^4 job\(s\): 1 succeeded, 3 pending\./);
    const budgeted = report(1);
    expect(budgeted.totals).toMatchObject({ succeeded: 1, pending: 0, skipped_budget: 3 });
    expect(formatTotals(budgeted)).toMatch(/^4 job\(s\): 1 succeeded, 3 skipped by --budget\./);
  });
});

describe('adopted is not spent', () => {
  let emu: EmulatorHandle;
  beforeAll(async () => {
    emu = await startEmulator({ timeScale: 0.002, rpm: Infinity });
  });
  afterAll(() => emu.close());

  it('a second folder running the same ids adopts the tasks: its cost says paid by this folder $0.00, adopted the rest', async () => {
    const dir = tempTree({
      'batch.yaml': `version: 1\nname: batch\nid_salt: "adopt-${process.pid}"\ndefaults: { model_name: kling-v2-6, mode: std, duration: 5 }\njobs:\n  - image: a.png\n    prompt: a slow push-in\n    repeat: 2\n`,
      'a.png': png(1),
    });
    const args = (out: string) => ['run', 'batch.yaml', '--base-url', emu.url, '--yes', '--rpm', '6000', '--poll-interval', '0.05', '--output', out];
    const env = { COMETAPI_KEY: 'emulator-key' };
    const first = await runInProcess(args('first'), dir, env);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain('Cost: $0.42 certain (succeeded).');
    const created = emu.stats().tasksCreated;
    const second = await runInProcess(args('second'), dir, env);
    expect(second.code, second.stderr).toBe(0);
    expect(emu.stats().tasksCreated).toBe(created);
    expect(second.stderr).toContain('For new generations instead, give the manifest a new `id_salt`');
    expect(second.stdout).toContain('Cost: $0.42 certain (succeeded: $0.00 paid by this folder, $0.42 adopted from tasks made elsewhere with the same ids (paid before, not by this folder)).');
    const report = JSON.parse(readFileSync(join(dir, 'second', 'report.json'), 'utf8')) as { cost: { certain_usd: number; certain_adopted_usd: number }; jobs: { tasks: { adopted: number } }[] };
    expect(report.cost).toMatchObject({ certain_usd: 0.42, certain_adopted_usd: 0.42 });
    expect(report.jobs.map((job) => job.tasks.adopted)).toEqual([1, 1]);
    expect(readFileSync(join(dir, 'second', 'gallery.html'), 'utf8')).toContain('<b>$0.42</b>of it adopted');
    const firstReport = JSON.parse(readFileSync(join(dir, 'first', 'report.json'), 'utf8')) as { cost: { certain_adopted_usd: number } };
    expect(firstReport.cost.certain_adopted_usd).toBe(0);
  });

  it('progress counts an adopted success apart from what this folder spent', () => {
    const plan = makePlan(2);
    const [paid, adopted] = plan.jobs as [(typeof plan.jobs)[number], (typeof plan.jobs)[number]];
    const download = { path: 'a.mp4', sha256: 'x', bytes: 1 };
    const states = new Map<string, JobState>([
      [paid.id, { job: paid.id, phase: 'downloaded', attempt: 1, earlierTasks: 0, sentAt: 1, download }],
      [adopted.id, { job: adopted.id, phase: 'downloaded', attempt: 1, earlierTasks: 0, adoptedVia: 'lookup', download }],
    ]);
    const progress = new Progress({ plan, states, isTTY: false, write: () => {} });
    expect(progress.heartbeatLine()).toContain('| spent ~$0.33 | adopted ~$0.33 |');
  });
});

describe('the estimated duration', () => {
  it('comes from the limits: waves of concurrency tasks of 1–5 min, and no faster than the rate limit allows', () => {
    expect(durationRange(1000, { concurrency: 5, rpm: 60 })).toEqual({ lowS: 200 * 60, highS: 200 * 300 });
    expect(rangeText(durationRange(1000, { concurrency: 5, rpm: 60 }))).toBe('3.3–16.7 h');
    // 100 slots but 10 requests a minute: a create and a poll per job take 200 min whatever the tasks.
    expect(durationRange(1000, { concurrency: 100, rpm: 10 })).toEqual({ lowS: 12_000, highS: 12_000 });
    expect(rangeText({ lowS: 60, highS: 300 })).toBe('1–5 min');
    expect(rangeText({ lowS: 12_000, highS: 12_000 })).toBe('about 3.3 h');
  });

  it("once tasks have finished in the folder, a task takes as long as they took (fastest to slowest)", () => {
    const finished = (id: string, seconds: number): [string, JobState] => [id, { job: id, phase: 'downloaded', attempt: 1, earlierTasks: 0, submittedAt: 1_000, finishedAt: 1_000 + seconds * 1000 }];
    expect(taskDuration(new Map(), TYPICAL_TASK_S)).toEqual(TYPICAL_TASK_S);
    expect(taskDuration(new Map([finished('a', 40), finished('b', 130), [ 'c', { job: 'c', phase: 'failed', attempt: 1, earlierTasks: 0, submittedAt: 0, finishedAt: 999_000 }]]), TYPICAL_TASK_S)).toEqual({ lowS: 40, highS: 130 });
  });

  it('the summary and the question show it beside the cost, from the tasks this folder has seen finish when there are some', async () => {
    const dir = tempTree({
      'batch.yaml': 'version: 1\nname: batch\ndefaults: { model_name: kling-v2-6, mode: std, duration: 5 }\njobs:\n  - image: a.png\n    prompt: a slow push-in\n    repeat: 12\n',
      'a.png': png(1),
    });
    const { io, out } = terminal(dir, false);
    expect(await main(['run', 'batch.yaml', '--emulator', '--output', 'out', '--concurrency', '5'], io)).toBe(0);
    // The built-in emulator's tasks take 1–5 emulated minutes, a hundredth of that in real time.
    expect(out.stdout).toContain('time: 2–9 s for the submits at these limits (a task takes 1–3 s)');
    expect(out.questions[0]).toMatch(/^Submit 12 job\(s\) \(about \$2\.52, 2–9 s\)/);
  });
});
