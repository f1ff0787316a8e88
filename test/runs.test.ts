// `klingrun runs` and `klingrun status <output root>`: every run folder under a root, read from real
// journals (and the report.json each run wrote), with its state, jobs done, cost and last activity.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { listRuns, runsCommand } from '../src/cli/commands/runs.js';
import { statusCommand } from '../src/cli/commands/status.js';
import type { Plan } from '../src/plan/schema.js';
import { acquireLock } from '../src/state/lock.js';
import type { JournalEvent } from '../src/state/events.js';
import { runCommand, tempTree } from './helpers/manifest.js';
import { type Outcome, examplePlan, journalFor, reportFor } from './helpers/reports.js';

let plan: Plan;
beforeAll(async () => {
  plan = await examplePlan();
});

const HOUR = 3_600_000;

/** A run folder as `run` leaves it: its journal (every event `later` ms after the helper's) and its report.json. */
function writeRunFolder(dir: string, outcomes: readonly Outcome[], later: number, edit: (events: JournalEvent[]) => JournalEvent[] = (e) => e): void {
  mkdirSync(dir, { recursive: true });
  const events = edit(journalFor(plan, outcomes)).map((event) => ({ ...event, t: event.t + later }));
  writeFileSync(join(dir, 'state.jsonl'), events.map((event) => `${JSON.stringify(event)}\n`).join(''));
  writeFileSync(join(dir, 'report.json'), JSON.stringify(reportFor(plan, outcomes)));
}

/** Job 0's task found at the provider before this folder ever sent it: a run elsewhere made and paid for it. */
function adoptFirst(events: JournalEvent[]): JournalEvent[] {
  const job = plan.jobs[0]!;
  return events.flatMap((event): JournalEvent[] => {
    if (event.ev === 'submitting' && event.job === job.id) return [];
    if (event.ev === 'submitted' && event.job === job.id) return [{ ev: 'adopted', t: event.t, job: job.id, attempt: 1, task_id: event.task_id, via: 'lookup', external_task_id: job.external_task_id }];
    return [event];
  });
}

const price = (i: number): number => plan.jobs[i]!.cost_usd!;
const sum = (indexes: readonly number[]): number => indexes.reduce((total, i) => total + price(i), 0);
const all = (outcome: Outcome): Outcome[] => plan.jobs.map(() => outcome);

/** An output root holding one run folder of each state, and a folder that is not a run. */
function outputRoot(): string {
  const root = join(tempTree({ 'package.json': '{}' }), 'output');
  writeRunFolder(join(root, 'done'), all('succeeded'), 1 * HOUR, adoptFirst);
  writeRunFolder(join(root, 'stopped'), ['succeeded', 'succeeded', 'succeeded', 'in_flight'], 4 * HOUR);
  writeRunFolder(join(root, 'failing'), [...all('succeeded').slice(1), 'failed'], 2 * HOUR);
  writeRunFolder(join(root, 'busy'), ['succeeded'], 3 * HOUR);
  mkdirSync(join(root, 'notes'));
  return root;
}

describe('klingrun runs', () => {
  it('lists every run folder with its state, jobs done, cost paid and adopted, the most recently active first', async () => {
    const root = outputRoot();
    const lock = await acquireLock(join(root, 'busy'));
    try {
      const { runs, skipped } = listRuns(root);
      expect(runs.map((run) => [run.folder, run.name, run.state, run.ok, run.total])).toEqual([
        ['stopped', 'example', 'stopped, 5 left', 3, 8],
        ['busy', 'example', 'running', 1, 8],
        ['failing', 'example', '1 failed', 7, 8],
        ['done', 'example', 'done', 8, 8],
      ]);
      const done = runs.find((run) => run.folder === 'done')!;
      expect(done.adoptedUsd).toBeCloseTo(price(0), 6);
      expect(done.paidUsd).toBeCloseTo(sum([1, 2, 3, 4, 5, 6, 7]), 6);
      expect(runs.find((run) => run.folder === 'stopped')!.paidUsd).toBeCloseTo(sum([0, 1, 2]), 6);
      expect(runs.map((run) => run.lastActivity)).toEqual([...runs.map((run) => run.lastActivity)].sort((a, b) => b - a));
      expect(skipped).toEqual(['notes/: no state.jsonl, not a run folder']);
    } finally {
      lock.release();
    }
    expect(listRuns(root).runs.find((run) => run.folder === 'busy')!.state).toBe('stopped, 7 left');
  });

  it("prints the table, and finds the project's output/ on its own from a folder inside the project", async () => {
    const root = outputRoot();
    mkdirSync(join(root, '../jobs'));
    const { code, stdout } = await runCommand(runsCommand, { positionals: [] }, join(root, '../jobs'));
    expect(code).toBe(0);
    const lines = stdout.split('\n');
    expect(lines[0]).toBe('4 run(s) in ../output/, the most recently active first:');
    expect(lines[1]).toMatch(/^run +state +ok\/jobs +paid +adopted +last activity$/);
    expect(lines[2]).toMatch(/^stopped \(example\) +stopped, 5 left +3\/8 +\$\d+\.\d\d +- +\d{4}-\d\d-\d\d \d\d:\d\d UTC$/);
    expect(lines.find((line) => line.startsWith('done'))).toMatch(new RegExp(`done \\(example\\) +done +8/8 +\\$${sum([1, 2, 3, 4, 5, 6, 7]).toFixed(2)} +\\$${price(0).toFixed(2)} `));
    expect(stdout).toContain('Skipped notes/: no state.jsonl, not a run folder.');
  });

  it('--json gives the same list as data', async () => {
    const root = outputRoot();
    const { stdout } = await runCommand(runsCommand, { values: { json: true }, positionals: [root] }, root);
    expect(JSON.parse(stdout)).toEqual(JSON.parse(JSON.stringify(listRuns(root))));
  });

  it('status <output root> prints the same list instead of an error', async () => {
    const root = outputRoot();
    const cwd = join(root, '..');
    const status = await runCommand(statusCommand, { positionals: ['output'] }, cwd);
    expect(status).toMatchObject({ code: 0, stderr: '' });
    expect(status.stdout).toBe((await runCommand(runsCommand, { positionals: ['output'] }, cwd)).stdout);
    expect(status.stdout).toContain('stopped, 5 left');
  });
});
