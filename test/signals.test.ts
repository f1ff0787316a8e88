import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { linkSignals } from '../src/signals.js';

describe('linkSignals', () => {
  it('aborts with the reason of the first source that aborts, and unhooks itself from all of them', () => {
    const [a, b] = [new AbortController(), new AbortController()];
    const linked = linkSignals([a.signal, b.signal]);
    expect(linked.signal.aborted).toBe(false);
    b.abort('second');
    expect(linked.signal.aborted).toBe(true);
    expect(linked.signal.reason).toBe('second');
    a.abort('first');
    expect(linked.signal.reason).toBe('second');
  });

  it('is aborted at once when a source already is', () => {
    const a = new AbortController();
    a.abort('early');
    const linked = linkSignals([new AbortController().signal, a.signal]);
    expect(linked.signal.aborted).toBe(true);
    expect(linked.signal.reason).toBe('early');
  });

  it('once unlinked, ignores its sources: a long-lived source keeps nothing of it', () => {
    const run = new AbortController();
    const linked = linkSignals([run.signal]);
    expect(getEventListeners(run.signal, 'abort')).toHaveLength(1);
    linked.unlink();
    expect(getEventListeners(run.signal, 'abort')).toHaveLength(0);
    run.abort('later');
    expect(linked.signal.aborted).toBe(false);
  });
});
