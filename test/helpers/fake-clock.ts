// A Clock whose time moves only when the test says so: sleeps resolve as `advance` passes their
// deadline, so waits of minutes take no real time and results do not depend on machine speed.
import type { Clock } from '../../src/effects.js';

interface Timer {
  readonly at: number;
  readonly seq: number;
  readonly resolve: () => void;
}

/** Lets every promise chain that is ready run (microtasks, then one macrotask turn). */
export const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class FakeClock implements Clock {
  #now: number;
  #seq = 0;
  #timers: Timer[] = [];

  /** @param start epoch milliseconds the clock starts at (a fixed, recognisable date by default). */
  constructor(start = Date.UTC(2025, 0, 1)) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    // Like a real timer of 0 ms, but without waiting for the test to advance.
    if (!(ms > 0)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer: Timer = {
        at: this.#now + ms,
        seq: this.#seq++,
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = (): void => {
        this.#timers = this.#timers.filter((t) => t !== timer);
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#timers.push(timer);
    });
  }

  /** Sleeps not yet resolved. */
  get pending(): number {
    return this.#timers.length;
  }

  /** Moves time forward by `ms`, firing due sleeps in deadline order and letting each one's follow-up run. */
  async advance(ms: number): Promise<void> {
    const target = this.#now + ms;
    await flush(); // whatever is already runnable happens at the current time
    while (this.#fireNext(target)) await flush();
    this.#now = target;
    await flush();
  }

  /** Jumps to the next sleep's deadline and fires it; false when nothing is sleeping. */
  async next(): Promise<boolean> {
    await flush();
    const fired = this.#fireNext(Infinity);
    await flush();
    return fired;
  }

  /** Fires sleeps until none is left, or throws after `maxSteps` (a loop that never settles). */
  async runAll(maxSteps = 100_000): Promise<void> {
    for (let step = 0; step < maxSteps; step++) if (!(await this.next())) return;
    throw new Error(`FakeClock.runAll: still ${this.pending} sleep(s) pending after ${maxSteps} steps`);
  }

  #fireNext(limit: number): boolean {
    let earliest: Timer | undefined;
    for (const timer of this.#timers) {
      if (!earliest || timer.at < earliest.at || (timer.at === earliest.at && timer.seq < earliest.seq)) earliest = timer;
    }
    if (!earliest || earliest.at > limit) return false;
    this.#timers = this.#timers.filter((t) => t !== earliest);
    this.#now = Math.max(this.#now, earliest.at);
    earliest.resolve();
    return true;
  }
}
