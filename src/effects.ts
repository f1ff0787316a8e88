// The small effect interfaces passed into everything below cli/, so tests can drive time,
// randomness and output without touching the real ones.
import { setTimeout as delay } from 'node:timers/promises';

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Resolves after `ms`, rejects with the signal's reason when aborted. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** Returns a float in [0, 1). */
export type Random = () => number;

export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  debug(message: string): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: async (ms, signal) => {
    // unref'd: a pending backoff must never keep the process alive on its own.
    await delay(Math.max(0, ms), undefined, signal ? { signal, ref: false } : { ref: false });
  },
};

export const silentLogger: Logger = { info: () => {}, warn: () => {}, debug: () => {} };

/** A deterministic PRNG (mulberry32) for seeded fault injection and reproducible tests. */
export function seededRandom(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
