// Refusals as far as the service means them, against the emulator: a model without access stops
// that model only (1103), an IP off the whitelist stops the run (1304, exit 3), and the gateway's
// HTTP 500 invalid_request fails its job without a retry or a lookup.
import { describe, expect, it } from 'vitest';
import { ProviderError } from '../src/api/errors.js';
import { blockedModelNote, runExitCode } from '../src/cli/commands/run.js';
import { EXIT } from '../src/cli/exit-codes.js';
import { emulatedBatch, twoModels } from './helpers/emulated-run.js';
import { makePlan } from './helpers/runner-harness.js';

const NO_ACCESS = 'kling-v3';
const ALLOWED = 'kling-v2-6';

describe('1103: a model without access', () => {
  it("stops submitting that model's jobs, each left pending with the reason; the other models go on, and a rerun tries it again", async () => {
    // The refused model's jobs come first in plan order: they must not hold up the others.
    const plan = twoModels(makePlan(12), 6, NO_ACCESS, ALLOWED);
    const batch = await emulatedBatch(plan, { noAccessModels: [NO_ACCESS] });
    const result = await batch.run({ concurrency: 1 });

    expect(result.stopReason).toBeUndefined();
    const phaseOf = (model: string): string[] => plan.jobs.filter((job) => job.request.model_name === model).map((job) => result.states.get(job.id)?.phase ?? 'none');
    expect(phaseOf(ALLOWED)).toEqual(Array(6).fill('downloaded'));
    expect(phaseOf(NO_ACCESS)).toEqual(Array(6).fill('pending'));
    for (const job of plan.jobs.slice(0, 6)) {
      expect(result.states.get(job.id)?.error).toMatchObject({ code: 1103, retriable: true, message: expect.stringMatching(/^Not submitted: the provider refused model kling-v3 \(1103\).*a rerun tries this model again\.$/) });
    }
    expect([...result.blockedModels.keys()]).toEqual([NO_ACCESS]);
    expect(blockedModelNote(NO_ACCESS, result.blockedModels.get(NO_ACCESS)!)).toMatch(/^warning: the provider refused model kling-v3 \(1103\).*To fix it, ask for access to this model/);
    // One refusal: the job that waited for its model's slot meanwhile was not sent either.
    const sent = batch.events.filter((e) => e.ev === 'submitting').map((e) => e.job);
    expect(sent.filter((id) => plan.jobs.findIndex((job) => job.id === id) < 6)).toHaveLength(1);
    expect(runExitCode({ stderr: () => {} }, result.stopReason, result.interrupted, false)).toBe(EXIT.jobsFailed);

    // Access granted later: the rerun submits the model's jobs.
    batch.emulator.configure({ noAccessModels: [] });
    const rerun = await batch.run({ concurrency: 3 });
    expect([...rerun.states.values()].map((state) => state.phase)).toEqual(Array(12).fill('downloaded'));
  });
});

describe('1304: an IP off the whitelist', () => {
  it('stops the run at once with exit 3 and the fix, instead of failing every job in turn', async () => {
    const plan = makePlan(8);
    const batch = await emulatedBatch(plan, { faults: [{ kind: 'whitelist1304', p: 1, on: ['create'] }], externalIdLookup: false, listSupported: false });
    const result = await batch.run({ concurrency: 2 });

    expect(result.stopReason).toBeInstanceOf(ProviderError);
    expect(result.stopReason).toMatchObject({ code: 1304, errorClass: 'fatal-run', scope: 'run' });
    expect([...result.states.values()].every((state) => state.phase === 'pending')).toBe(true);
    expect(batch.events.filter((e) => e.ev === 'failed')).toEqual([]);
    expect(batch.emulator.stats().requestsByRoute.create).toBeLessThanOrEqual(2);
    let said = '';
    expect(runExitCode({ stderr: (text) => void (said += text) }, result.stopReason, result.interrupted, false)).toBe(EXIT.providerRefused);
    expect(said).toMatch(/refused the run \(1304\).*To fix it, add this machine's public IP address to the account's IP whitelist/);
  });
});

describe("the gateway's HTTP 500 invalid_request", () => {
  it('fails its job at once: no retry, no lookup, no unconfirmed state; the others go on', async () => {
    const plan = makePlan(3);
    const batch = await emulatedBatch(plan, { faults: [{ kind: 'invalid-request500', p: 1, count: 1, on: ['create'] }] });
    const result = await batch.run({ concurrency: 1 });

    const first = plan.jobs[0]!.id;
    expect(result.states.get(first)).toMatchObject({ phase: 'failed', error: { code: 'invalid_request', retriable: false } });
    expect(batch.events.filter((e) => 'job' in e && e.job === first).map((e) => e.ev)).toEqual(['submitting', 'rejected', 'failed']);
    expect(plan.jobs.slice(1).map((job) => result.states.get(job.id)?.phase)).toEqual(['downloaded', 'downloaded']);
    // Each job's one lookup before its first submit (a fresh folder), and nothing after the refusal.
    const stats = batch.emulator.stats();
    expect([stats.requestsByRoute.create, stats.tasksCreated]).toEqual([3, 2]);
  });
});
