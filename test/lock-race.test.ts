// Real processes racing for one folder: eight long-lived starters, two of them in their own pid
// namespace when `unshare` works here, over a free folder, a dead holder's lock and a stale lease.
// The soak runs the same with 200+ trials (`npm run soak -- --race-only`).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RacePool, type StaleKind, type TrialResult, unshareUnusable } from './helpers/lock-race.js';

const TRIALS = 20;
const WORKERS = 8;
// A holder whose refresher is stalled this long is taken for dead: far above any scheduling delay.
const STALE_MS = 5000;

let dir: string;
let pool: RacePool;
const namespaced = unshareUnusable() === undefined ? 2 : 0;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'klingrun-lock-race-'));
  pool = await RacePool.start({ dir, workers: WORKERS, namespaced, staleMs: STALE_MS, refreshMs: 100 });
}, 90_000);
afterAll(async () => {
  await pool?.close();
  rmSync(dir, { recursive: true, force: true });
});

const kindOf = (trial: number): StaleKind => (trial === 7 ? 'stale-lease' : trial % 3 === 1 ? 'reused-pid' : 'released');

describe(`${WORKERS} processes racing for one folder (${namespaced} in their own pid namespace)`, () => {
  it(`${TRIALS} trials: exactly one winner each, the others refused, never two holders at once`, async () => {
    const results: TrialResult[] = [];
    for (let trial = 0; trial < TRIALS; trial++) results.push(await pool.trial(trial, kindOf(trial)));
    expect(results.flatMap((r) => r.oddities)).toEqual([]);
    expect(results.map((r) => r.winners)).toEqual(results.map(() => 1));
    expect(results.map((r) => r.outcomes)).toEqual(results.map(() => ({ won: 1, state_locked: WORKERS - 1 })));
    expect(pool.logProblems()).toEqual([]);
  }, 120_000);
});
