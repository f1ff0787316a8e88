// Emulated time for the benchmarks: one clock that runner and emulator share, running `1 / scale`
// times faster than the wall clock, so a 60-second task at scale 0.01 takes 600 real ms while
// poll intervals, rpm windows, Retry-After headers and timeouts all stay in emulated units.
import { setTimeout as delay } from 'node:timers/promises';
import type { Clock } from '../src/effects.js';

export interface ScaledClock extends Clock {
  /** Real ms per emulated ms (0.01: an emulated minute lasts 600 real ms). */
  readonly scale: number;
  /** Emulated ms since the clock was made. */
  elapsed(): number;
  /** Resolves once the emulated time reaches `at` (epoch ms of this clock). */
  until(at: number, signal?: AbortSignal): Promise<void>;
}

/**
 * now = start + (real elapsed) / scale; sleep(ms) = real sleep(ms · scale). Timers stay ref'd: a
 * bench child must not exit while the runner sleeps between polls and nothing else is pending.
 */
export function scaledClock(scale: number, start = Date.now()): ScaledClock {
  if (!(scale > 0)) throw new TypeError(`Expected \`scale\` to be a number > 0, got \`${scale}\` (${typeof scale})`);
  const realStart = performance.now();
  const elapsed = (): number => (performance.now() - realStart) / scale;
  const clock: ScaledClock = {
    scale,
    elapsed,
    now: () => start + elapsed(),
    sleep: async (ms, signal) => {
      if (signal?.aborted) throw signal.reason;
      if (!(ms > 0)) return;
      await delay(ms * scale, undefined, signal ? { signal } : {});
    },
    until: (at, signal) => clock.sleep(at - clock.now(), signal),
  };
  return clock;
}
