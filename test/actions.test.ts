// The resume contract (README, "The output folder"), one row per rule: journal → replayed state → next action.
import { describe, expect, it } from 'vitest';
import { nextAction } from '../src/runner/actions.js';
import { applyEvent, externalIdFor, initialState, replay } from '../src/runner/job-state.js';
import type { JobEvent, JournalEvent } from '../src/state/events.js';

const JOB = 'a'.repeat(64);
const request = { image: { kind: 'url' as const, url: 'https://example.com/a.png' } };
const ev = {
  submitting: (attempt = 1, t = 1): JobEvent => ({ ev: 'submitting', t, job: JOB, attempt, external_task_id: externalIdFor('kr-' + 'a'.repeat(24), attempt), request }),
  submitted: (attempt = 1): JobEvent => ({ ev: 'submitted', t: 2, job: JOB, attempt, task_id: 'T1' }),
  adopted: (): JobEvent => ({ ev: 'adopted', t: 2, job: JOB, attempt: 1, task_id: 'T1', via: 'lookup' }),
  rejected: (retryable: boolean): JobEvent => ({ ev: 'rejected', t: 2, job: JOB, attempt: 1, code: 1303, message: 'busy', retryable }),
  succeeded: (): JobEvent => ({ ev: 'succeeded', t: 9, job: JOB, task_id: 'T1', videos: [{ id: 'v', url: 'https://cdn/v.mp4', duration: '5' }] }),
  downloaded: (): JobEvent => ({ ev: 'downloaded', t: 10, job: JOB, path: 'videos/x.mp4', sha256: 'f'.repeat(64), bytes: 10 }),
  failed: (retriable: boolean): JobEvent => ({ ev: 'failed', t: 9, job: JOB, attempt: 1, code: 'task_failed', message: 'no', retriable }),
  timedOut: (): JobEvent => ({ ev: 'timed_out', t: 9, job: JOB, attempt: 1, task_id: 'T1' }),
  orphaned: (): JobEvent => ({ ev: 'orphaned', t: 9, job: JOB, attempt: 1, external_task_id: 'kr-x', message: 'exists' }),
  skipped: (attempt?: number): JobEvent => ({ ev: 'skipped_budget', t: 1, job: JOB, cost_usd: 0.33, ...(attempt ? { attempt } : {}) }),
  unconfirmed: (): JobEvent => ({ ev: 'unconfirmed', t: 9, job: JOB, attempt: 1, external_task_id: 'kr-x', message: 'may exist' }),
  lost: (): JobEvent => ({ ev: 'lost', t: 9, job: JOB, attempt: 1, task_id: 'T1', message: 'gone' }),
};

const stateOf = (events: JobEvent[]) => events.reduce(applyEvent, initialState(JOB));
const ctx = { retryFailed: false, fileIntact: true };

describe('nextAction: the resume contract', () => {
  it.each([
    ['nothing in the journal', [], ctx, { kind: 'submit', attempt: 1 }],
    ['submitting, no answer recorded (lost response)', [ev.submitting()], ctx, { kind: 'reconcile' }],
    ['submitting twice in one attempt (resent after a not-found)', [ev.submitting(), ev.submitting()], ctx, { kind: 'reconcile' }],
    ['submitted, not terminal', [ev.submitting(), ev.submitted()], ctx, { kind: 'poll' }],
    ['adopted after a lost answer', [ev.submitting(), ev.adopted()], ctx, { kind: 'poll' }],
    ['refused with a retryable code: nothing was created', [ev.submitting(), ev.rejected(true)], ctx, { kind: 'submit', attempt: 1 }],
    ['succeeded, not downloaded', [ev.submitting(), ev.submitted(), ev.succeeded()], ctx, { kind: 'download' }],
    ['downloaded and the file matches', [ev.submitting(), ev.submitted(), ev.succeeded(), ev.downloaded()], ctx, { kind: 'done' }],
    ['downloaded but the file is missing or changed', [ev.submitting(), ev.submitted(), ev.succeeded(), ev.downloaded()], { ...ctx, fileIntact: false }, { kind: 'download' }],
    ['a fresh URL recorded after the download', [ev.submitting(), ev.submitted(), ev.succeeded(), ev.downloaded(), ev.succeeded()], ctx, { kind: 'done' }],
    ['failed', [ev.submitting(), ev.submitted(), ev.failed(true)], ctx, { kind: 'done' }],
    ['failed, retriable, with --retry-failed', [ev.submitting(), ev.submitted(), ev.failed(true)], { ...ctx, retryFailed: true }, { kind: 'submit', attempt: 2 }],
    ['failed, not retriable, with --retry-failed', [ev.submitting(), ev.submitted(), ev.failed(false)], { ...ctx, retryFailed: true }, { kind: 'done' }],
    ['timed out in an earlier run: check again, never resubmit', [ev.submitting(), ev.submitted(), ev.timedOut()], ctx, { kind: 'poll' }],
    ['orphaned: a task exists that we cannot see yet: look again, never resend', [ev.submitting(), ev.orphaned()], { ...ctx, retryFailed: true }, { kind: 'find' }],
    ['unconfirmed: its task may exist; reconcile again, resend only on proven absence', [ev.submitting(), ev.unconfirmed()], { ...ctx, retryFailed: true }, { kind: 'reconcile' }],
    ['lost at the provider', [ev.submitting(), ev.submitted(), ev.lost()], ctx, { kind: 'done' }],
    ['lost at the provider, with --retry-failed: a new attempt', [ev.submitting(), ev.submitted(), ev.lost()], { ...ctx, retryFailed: true }, { kind: 'submit', attempt: 2 }],
    ['skipped for budget after a failed attempt: the next attempt, never the old id', [ev.submitting(), ev.submitted(), ev.failed(true), ev.skipped(2)], { ...ctx, retryFailed: true }, { kind: 'submit', attempt: 2 }],
    ['skipped for budget: nothing was paid', [ev.skipped()], ctx, { kind: 'submit', attempt: 1 }],
  ] as const)('%s', (_name, events, context, expected) => {
    expect(nextAction(stateOf([...events]), context)).toEqual(expected);
  });
});

describe('replay', () => {
  it('folds events per job and skips header and run records', () => {
    const other = 'b'.repeat(64);
    const events: JournalEvent[] = [
      { ev: 'header', t: 0, version: 1, name: 'x', tool_version: '0.1.0' },
      { ev: 'run', t: 0, pid: 1, manifest_sha256: 'm', argv: [] },
      ev.submitting(),
      { ...ev.submitting(), job: other } as JobEvent,
      ev.submitted(),
    ];
    const states = replay(events);
    expect(states.get(JOB)).toMatchObject({ phase: 'submitted', taskId: 'T1', attempt: 1, submittedAt: 1 });
    expect(states.get(other)).toMatchObject({ phase: 'submitting', attempt: 1 });
    expect(states.size).toBe(2);
  });

  it('keeps the first submit time of an attempt and starts a new attempt clean', () => {
    const s = stateOf([ev.submitting(1, 100), ev.submitting(1, 200), ev.submitted(), ev.failed(true), ev.submitting(2, 300)]);
    expect(s).toMatchObject({ phase: 'submitting', attempt: 2, submittedAt: 300, externalTaskId: 'kr-' + 'a'.repeat(24) + '-a2' });
    expect(s.taskId).toBeUndefined();
    expect(stateOf([ev.submitting(1, 100), ev.submitting(1, 200)]).submittedAt).toBe(100);
  });

  it("a task adopted for a new attempt carries nothing of the last attempt's task", () => {
    const adoptedAgain: JobEvent = { ev: 'adopted', t: 20, job: JOB, attempt: 2, task_id: 'T2', via: 'lookup', created_at: 15 };
    const s = stateOf([ev.submitting(), ev.submitted(), ev.succeeded(), ev.downloaded(), adoptedAgain]);
    // Its deadline counts from when the runner found it (t), not from the provider's created_at.
    expect(s).toMatchObject({ phase: 'submitted', attempt: 2, taskId: 'T2', acceptedAt: 20, earlierTasks: 1, request });
    expect([s.finishedAt, s.taskStatus, s.video, s.download]).toEqual([undefined, undefined, undefined, undefined]);
  });

  it("a finish time off the provider's clock (ahead of ours, or in seconds) is replaced by when the runner saw it", () => {
    const at = (finished_at: number): JobEvent => ({ ...ev.succeeded(), finished_at }) as JobEvent;
    expect(stateOf([ev.submitting(), ev.submitted(), at(5)]).finishedAt).toBe(5); // between the submit and the poll
    expect(stateOf([ev.submitting(), ev.submitted(), at(9 + 2 * 3_600_000)]).finishedAt).toBe(9);
    expect(stateOf([ev.submitting(1, 1_700_000_000_000), ev.submitted(), { ...at(1_700_000_100), t: 1_700_000_200_000 } as JobEvent]).finishedAt).toBe(1_700_000_200_000);
  });

  it('derives short, distinct external ids per attempt', () => {
    const base = 'kr-' + '0123456789abcdef01234567';
    expect(externalIdFor(base, 1)).toBe(base);
    expect(externalIdFor(base, 12)).toBe(`${base}-a12`);
    expect(externalIdFor(base, 99).length).toBeLessThanOrEqual(32);
  });
});
