import { describe, expect, it } from 'vitest';
import { seededRandom } from '../src/effects.js';
import { ConcurrencyGate, ModelGates, RequestLimiter } from '../src/runner/limits.js';
import { modelConcurrency, resolveRunOptions } from '../src/runner/options.js';
import { FakeClock, flush } from './helpers/fake-clock.js';

/** Tracks a promise's outcome so a test can look at it without awaiting. */
function track(promise: Promise<void>): { readonly state: 'pending' | 'resolved' | 'rejected'; readonly reason: unknown } {
  const tracked = { state: 'pending' as 'pending' | 'resolved' | 'rejected', reason: undefined as unknown };
  promise.then(
    () => (tracked.state = 'resolved'),
    (reason: unknown) => {
      tracked.state = 'rejected';
      tracked.reason = reason;
    },
  );
  return tracked;
}

describe('RequestLimiter', () => {
  it('lets rpm requests through at once, then waits for the window plus margin', async () => {
    const clock = new FakeClock();
    const limiter = new RequestLimiter({ rpm: 3, clock, marginMs: 500 });
    const start = clock.now();
    const first = [limiter.take(), limiter.take(), limiter.take()].map(track);
    const fourth = track(limiter.take());
    await flush();
    expect(first.map((t) => t.state)).toEqual(['resolved', 'resolved', 'resolved']);
    expect(fourth.state).toBe('pending');
    await clock.advance(60_499);
    expect(fourth.state).toBe('pending');
    await clock.advance(1);
    expect(fourth.state).toBe('resolved');
    expect(clock.now() - start).toBe(60_500);
  });

  it('never grants more than rpm in any rolling window over a long uneven run, yet keeps up', async () => {
    const clock = new FakeClock();
    const rpm = 7;
    const windowMs = 60_000;
    const limiter = new RequestLimiter({ rpm, clock, marginMs: 250 });
    const random = seededRandom(42);
    const grants: number[] = [];
    const stop = clock.now() + 30 * windowMs;
    // Twelve workers, each taking a request and then pausing a random, sometimes zero, time.
    const worker = async (): Promise<void> => {
      while (clock.now() < stop) {
        await limiter.take();
        grants.push(clock.now());
        await clock.sleep(random() < 0.3 ? 0 : Math.floor(random() * 20_000));
      }
    };
    const done = Promise.all(Array.from({ length: 12 }, worker));
    while (clock.now() < stop + 2 * windowMs) await clock.advance(1_000);
    await done;

    for (let i = 0; i + rpm < grants.length; i++) {
      // Request i and i + rpm can never share a window of windowMs (inclusive at both ends).
      expect(grants[i + rpm]! - grants[i]!).toBeGreaterThan(windowMs);
    }
    // Demand far exceeds the limit, so the limiter must still hand out ~rpm per window.
    expect(grants.length).toBeGreaterThanOrEqual(rpm * 29);
  });

  it('serves waiters first come, first served', async () => {
    const clock = new FakeClock();
    const limiter = new RequestLimiter({ rpm: 1, clock, windowMs: 1_000, marginMs: 0 });
    await limiter.take();
    const order: string[] = [];
    const waits = ['a', 'b', 'c'].map((name) => limiter.take().then(() => order.push(name)));
    await clock.advance(1_000);
    expect(order).toEqual(['a']);
    // A newcomer arriving just as a slot frees must not jump the queue.
    await clock.advance(999);
    const late = limiter.take().then(() => order.push('late'));
    await clock.advance(1);
    await clock.advance(2_000);
    await Promise.all([...waits, late]);
    expect(order).toEqual(['a', 'b', 'c', 'late']);
  });

  it('drops an aborted wait without using up its slot', async () => {
    const clock = new FakeClock();
    const limiter = new RequestLimiter({ rpm: 1, clock, windowMs: 1_000, marginMs: 0 });
    await limiter.take();
    const controller = new AbortController();
    const aborted = track(limiter.take(controller.signal));
    const next = track(limiter.take());
    controller.abort(new Error('stop'));
    await flush();
    expect(aborted.state).toBe('rejected');
    expect((aborted.reason as Error).message).toBe('stop');
    await clock.advance(1_000);
    expect(next.state).toBe('resolved');
    await expect(limiter.take(AbortSignal.abort(new Error('already')))).rejects.toThrow('already');
  });

  it('rejects a limit that is not a positive integer, naming it', () => {
    expect(() => new RequestLimiter({ rpm: 0, clock: new FakeClock() })).toThrow('Expected `rpm` to be an integer >= 1, got `0` (number)');
  });
});

describe('ConcurrencyGate', () => {
  it('gives slots up to the limit, then hands released slots to waiters in order', async () => {
    const gate = new ConcurrencyGate({ max: 2 });
    await gate.acquire();
    await gate.acquire();
    const order: number[] = [];
    const waits = [1, 2].map((n) => gate.acquire().then(() => order.push(n)));
    await flush();
    expect(order).toEqual([]);
    gate.release();
    await flush();
    expect(order).toEqual([1]);
    gate.release();
    await Promise.all(waits);
    expect(order).toEqual([1, 2]);
    expect(gate.inFlight).toBe(2);
  });

  it('gives up an aborted wait without taking a slot', async () => {
    const gate = new ConcurrencyGate({ max: 1 });
    await gate.acquire();
    const controller = new AbortController();
    const waiting = track(gate.acquire(controller.signal));
    controller.abort(new Error('interrupted'));
    await flush();
    expect(waiting.state).toBe('rejected');
    gate.release();
    expect(gate.inFlight).toBe(0);
    await expect(gate.acquire(AbortSignal.abort(new Error('x')))).rejects.toThrow('x');
  });

  it('on a 1303 lowers the limit to what the provider holds, never by more than half, and grows by one per accepted submit', async () => {
    const gate = new ConcurrencyGate({ max: 20 });
    for (let i = 0; i < 20; i++) await gate.acquire();
    gate.onRejected(); // a spurious refusal with 20 in flight: the provider holds 19 of ours
    expect(gate.effectiveLimit).toBe(19);
    gate.onRejected(); // a burst of them costs no more
    expect(gate.effectiveLimit).toBe(19);
    for (let i = 0; i < 12; i++) gate.release(); // 8 in flight
    gate.onRejected(); // the account really holds 7: cut, but only to half of 19
    expect(gate.effectiveLimit).toBe(9);
    gate.onRejected();
    expect(gate.effectiveLimit).toBe(7);
    for (let i = 0; i < 8; i++) gate.release();
    for (const expected of [3, 1, 1]) {
      gate.onRejected();
      expect(gate.effectiveLimit).toBe(expected);
    }
    for (let i = 0; i < 50; i++) gate.onAccepted();
    expect(gate.effectiveLimit).toBe(20);
    expect(gate.limit).toBe(20);
  });

  it('lets waiters proceed only while in flight is below the effective limit', async () => {
    const gate = new ConcurrencyGate({ max: 4 });
    for (let i = 0; i < 4; i++) await gate.acquire();
    gate.release();
    gate.release();
    gate.onRejected(); // 2 in flight when refused: the provider holds 1, effective 2 (half of 4)
    expect(gate.effectiveLimit).toBe(2);
    const waiting = track(gate.acquire());
    await flush();
    expect(waiting.state).toBe('pending');
    gate.release();
    await flush();
    expect(waiting.state).toBe('resolved');
    expect(gate.inFlight).toBe(2);
  });

  it('grants a waiter when an accepted submit raises the limit', async () => {
    const gate = new ConcurrencyGate({ max: 4 });
    gate.onRejected();
    await gate.acquire();
    await gate.acquire();
    const waiting = track(gate.acquire());
    await flush();
    expect(waiting.state).toBe('pending');
    gate.onAccepted();
    await flush();
    expect(waiting.state).toBe('resolved');
  });

  it('holds slots for resumed tasks beyond the limit, and new work waits until they end', async () => {
    const gate = new ConcurrencyGate({ max: 2 });
    gate.hold();
    gate.hold();
    gate.hold();
    expect(gate.inFlight).toBe(3);
    const waiting = track(gate.acquire());
    gate.release();
    await flush();
    expect(waiting.state).toBe('pending');
    gate.release();
    await flush();
    expect(waiting.state).toBe('resolved');
    expect(gate.inFlight).toBe(2);
  });

  it('refuses a release without a held slot', () => {
    expect(() => new ConcurrencyGate({ max: 1 }).release()).toThrow('no slot held');
  });
});

describe('ModelGates: a gate per model inside the account gate', () => {
  it("a full model does not hold an account slot, so other models' jobs go on", async () => {
    const account = new ConcurrencyGate({ max: 4 });
    const gates = new ModelGates(account, () => 2);
    const a = gates.route('kling-v3');
    const b = gates.route('kling-v2-6');
    await a.acquire();
    await a.acquire();
    const third = track(a.acquire());
    await flush();
    expect([third.state, account.inFlight]).toEqual(['pending', 2]); // waiting for its model, not holding the account's
    await b.acquire();
    await b.acquire();
    expect(account.inFlight).toBe(4);
    a.release();
    await flush();
    expect([third.state, account.inFlight]).toEqual(['resolved', 4]);
    expect(gates.models.get('kling-v3')?.inFlight).toBe(2);
  });

  it("a waiter for the account's slot gives its model slot back when its wait is aborted", async () => {
    const account = new ConcurrencyGate({ max: 1 });
    const gates = new ModelGates(account, () => 5);
    await gates.route('a').acquire();
    const controller = new AbortController();
    const waiting = track(gates.route('b').acquire(controller.signal));
    await flush();
    expect(gates.models.get('b')?.inFlight).toBe(1);
    controller.abort(new Error('interrupted'));
    await flush();
    expect([waiting.state, gates.models.get('b')?.inFlight, account.inFlight]).toEqual(['rejected', 0, 1]);
  });

  it("a 1303 lowers the limit of the model it came from, not the account's or another model's", async () => {
    const account = new ConcurrencyGate({ max: 10 });
    const gates = new ModelGates(account, () => 5);
    for (let i = 0; i < 4; i++) await gates.route('a').acquire();
    await gates.route('b').acquire();
    gates.route('a').onRejected(); // 4 of model a in flight: the provider holds 3 of them
    expect(gates.models.get('a')?.effectiveLimit).toBe(3);
    expect([gates.models.get('b')?.effectiveLimit, account.effectiveLimit]).toEqual([5, 10]);
    gates.route('a').onAccepted();
    expect(gates.models.get('a')?.effectiveLimit).toBe(4);
  });

  it('takes each model\'s limit from limits.concurrency_per_model, never above the total', () => {
    const one = resolveRunOptions([{ concurrency: 10, concurrency_per_model: 5 }]);
    expect([modelConcurrency(one, 'kling-v3'), modelConcurrency(one, 'kling-v2-6')]).toEqual([5, 5]);
    const map = resolveRunOptions([{ concurrency_per_model: { 'kling-v3': 2, 'kling-v2-6': 50 } }, { concurrency: 8 }]); // a flag on top keeps the map
    expect([modelConcurrency(map, 'kling-v3'), modelConcurrency(map, 'kling-v2-6'), modelConcurrency(map, 'kling-v1')]).toEqual([2, 8, 8]);
    expect(modelConcurrency(resolveRunOptions([]), 'kling-v3')).toBe(5);
  });
});
