// A provider that words its statuses its own way, stamps its tasks in seconds, or runs a clock
// hours off ours: every task it shows is still followed to its end, and nothing it stamps can end
// a task early or end a search for a lost one early.
import { rmSync } from 'node:fs';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { EmulatorOptionsInput } from '../src/emulator/index.js';
import { replay } from '../src/runner/job-state.js';
import { runInProcess } from './helpers/crash.js';
import { emulator } from './helpers/emulator.js';
import { createHarness, eventsOf, makePlan } from './helpers/runner-harness.js';

const KEY = 'quirks-key';
const FAST = { keys: [KEY], timeScale: 0.002, queueS: 5, processingS: 20 } as const satisfies EmulatorOptionsInput;

async function runOn(options: EmulatorOptionsInput, jobs: number) {
  const emu = await emulator({ ...FAST, ...options });
  const plan = makePlan(jobs);
  const run = await runInProcess(emu, plan, { key: KEY });
  onTestFinished(() => rmSync(run.outputDir, { recursive: true, force: true }));
  return { emu, plan, run };
}

describe('status words the runner does not know', () => {
  it.each([
    ['one word for both stages', 'queued' as const],
    // The queued stage is short: polls may only ever see the second word.
    ['a word per stage', ['pending', 'running'] as [string, string]],
  ])('%s: every task is followed to success, with at most one warning per word for the whole run', async (_, inProgressStatus) => {
    const { emu, plan, run } = await runOn({ inProgressStatus }, 3);
    for (const job of plan.jobs) {
      expect(replay(run.events).get(job.id)?.phase).toBe('downloaded');
      expect(emu.stats().tasksByExternalId[job.external_task_id]).toBe(1);
    }
    const [first, second = first] = typeof inProgressStatus === 'string' ? [inProgressStatus] : inProgressStatus;
    const about = (word: string) => run.warnings.filter((w) => w.includes(`\`${word}\``));
    expect(about(second), second).toHaveLength(1);
    expect(about(first).length, first).toBeLessThanOrEqual(1);
    expect(run.warnings.every((w) => /read as "not finished yet"/.test(w))).toBe(true);
  });
});

describe('timestamps on the provider clock', () => {
  it.each([
    ['in seconds', { createdAtUnit: 's' }],
    ['from a clock 2 h behind ours', { clockOffsetS: -7_200 }],
    ['in seconds, from a clock 2 h ahead', { createdAtUnit: 's', clockOffsetS: 7_200 }],
  ] as const)('%s: a task adopted after a lost answer is polled to success, not timed out', async (_, quirk) => {
    const { emu, plan, run } = await runOn({ ...quirk, faults: [{ kind: 'lost-response', on: ['create'], count: 1 }] }, 1);
    const job = plan.jobs[0]!;
    expect(eventsOf(run.events, 'adopted')).toHaveLength(1);
    expect(eventsOf(run.events, 'timed_out')).toEqual([]);
    expect(replay(run.events).get(job.id)?.phase).toBe('downloaded');
    expect(emu.stats().tasksByExternalId[job.external_task_id]).toBe(1);
  });

  it('a provider clock 2 h behind does not end a list scan early: the task on the second page is found', async () => {
    const harness = createHarness(makePlan(1));
    onTestFinished(() => harness.cleanup());
    const { provider, clock } = harness;
    // 600 tasks of other shards, made since ours and listed before it; lookups are not offered.
    Object.assign(provider, { externalLookup: false, foreignTasks: 600, now: () => clock.now() - 2 * 3_600_000 });
    provider.createScript = ['lost'];
    await harness.run();
    expect(eventsOf(harness.events, 'adopted')).toMatchObject([{ via: 'list' }]);
    expect([...replay(harness.events).values()].map((s) => s.phase)).toEqual(['downloaded']);
    expect(provider.created).toHaveLength(1);
  });
});
