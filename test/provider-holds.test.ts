// Before a run's confirmation, the plan says when the provider already holds tasks for its ids (a
// copy of the manifest run from another folder, a deleted output folder): they are adopted, not
// paid again, and `id_salt` gives fresh generations instead.
import { cpSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ProviderError } from '../src/api/errors.js';
import type { Task } from '../src/api/schemas.js';
import { checkHeld, heldNote } from '../src/runner/provider-holds.js';
import type { JobState } from '../src/runner/job-state.js';
import { runInProcess } from './helpers/bad-input.js';
import { emulator as testEmulator } from './helpers/emulator.js';
import { tempTree } from './helpers/manifest.js';
import { ROOT } from './helpers/reports.js';
import { makePlan } from './helpers/runner-harness.js';

const HELD_NOTE =
  'note: the provider already holds tasks for 3 of the 3 job(s) checked (same external_task_id): they will be adopted, not paid again; for fresh generations set `id_salt:` in the manifest.';

/** A client whose lookups answer from `held` (external ids), recording what was asked. */
function fakeClient(held: ReadonlySet<string>, fail?: (id: string) => boolean) {
  const asked: string[] = [];
  return {
    asked,
    findByExternalId: async (id: string): Promise<Task | null> => {
      asked.push(id);
      if (fail?.(id)) throw new ProviderError('connection refused', { code: 'network', errorClass: 'retryable-server' });
      return held.has(id) ? ({ task_id: `t-${id}`, task_status: 'succeed', task_info: { external_task_id: id } } as Task) : null;
    },
  };
}

describe('checkHeld', () => {
  const jobs = makePlan(30).jobs;

  it('looks up at most 3 jobs the journal does not know, spread over the list, by their first external id', async () => {
    const known = new Map<string, JobState>(jobs.slice(0, 10).map((job) => [job.id, { attempt: 1 } as JobState]));
    const client = fakeClient(new Set(jobs.map((job) => job.external_task_id)));
    expect(await checkHeld(client, jobs, known, { timeoutMs: 1000 })).toEqual({ checked: 3, held: 3 });
    expect(client.asked).toEqual([jobs[10], jobs[16], jobs[23]].map((job) => job!.external_task_id));
  });

  it('counts only the answered lookups, and tells nothing when none answered', async () => {
    const held = new Set([jobs[0]!.external_task_id]);
    expect(await checkHeld(fakeClient(held, (id) => id === jobs[10]!.external_task_id), jobs, new Map(), { timeoutMs: 1000 })).toEqual({ checked: 2, held: 1 });
    expect(await checkHeld(fakeClient(held, () => true), jobs, new Map(), { timeoutMs: 1000 })).toBeUndefined();
    expect(await checkHeld(fakeClient(held), [], new Map(), { timeoutMs: 1000 })).toBeUndefined();
  });

  it('says nothing when the provider holds none of them', () => {
    expect(heldNote({ checked: 3, held: 0 })).toBeUndefined();
    expect(heldNote(undefined)).toBeUndefined();
    expect(heldNote({ checked: 3, held: 3 })).toBe(HELD_NOTE);
  });
});

describe('a second output folder for the same manifest, against the emulator', () => {
  it('the plan says the provider holds their tasks; they are adopted, none paid again', async () => {
    const dir = tempTree();
    cpSync(join(ROOT, 'jobs'), join(dir, 'jobs'), { recursive: true });
    mkdirSync(join(dir, 'output'));
    const emulator = await testEmulator({ timeScale: 0.002 });
    const env = { COMETAPI_KEY: 'emulator-key' };
    const run = (output: string) =>
      runInProcess(['run', 'jobs/example.yaml', '--base-url', emulator.url, '--yes', '--output', output, '--poll-interval', '0.05', '--rpm', '6000'], dir, env);

    const first = await run('out-1');
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).not.toContain('already holds tasks');
    expect(emulator.stats().tasksCreated).toBe(8);

    const copy = await run('out-2');
    expect(copy.code, copy.stderr).toBe(0);
    expect(copy.stderr).toContain(`${HELD_NOTE}\n`);
    expect(emulator.stats().tasksCreated).toBe(8);

    // A deleted output folder is the same case.
    rmSync(join(dir, 'out-1'), { recursive: true });
    const again = await run('out-1');
    expect(again.stderr).toContain(HELD_NOTE);
    expect(emulator.stats().tasksCreated).toBe(8);
  });

  it('a provider without lookups by external_task_id skips the note, and the run goes on', async () => {
    const dir = tempTree();
    cpSync(join(ROOT, 'jobs'), join(dir, 'jobs'), { recursive: true });
    const emulator = await testEmulator({ timeScale: 0.002, externalIdLookup: false });
    const run = (output: string) =>
      runInProcess(['run', 'jobs/example.yaml', '--base-url', emulator.url, '--yes', '--output', output, '--poll-interval', '0.05', '--rpm', '6000'], dir, { COMETAPI_KEY: 'emulator-key' });
    expect((await run('out-1')).code).toBe(0);
    const copy = await run('out-2');
    expect(copy.code, copy.stderr).toBe(0);
    expect(copy.stderr).not.toContain('already holds tasks');
  });
});
