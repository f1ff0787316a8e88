// The soak's racing-starters phase: long-lived worker processes (some in their own pid namespace,
// when `unshare` works) race for one folder, trial after trial, over the previous winner's released
// lock, a lock naming a reused pid, or a stale lease. Every trial must have exactly one winner, and
// the holders' log must never show two holders at once.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RacePool, type StaleKind, type TrialResult, unshareUnusable } from '../helpers/lock-race.js';

export interface RacePhaseOptions {
  readonly trials: number;
  readonly workers: number;
  readonly log: (line: string) => void;
}

/** The lease windows: a holder stalled for 3 s would be taken for dead; far above scheduling delays. */
const STALE_MS = 3000;
const REFRESH_MS = 100;

const kindOf = (trial: number): StaleKind => (trial % 10 === 9 ? 'stale-lease' : trial % 3 === 1 ? 'reused-pid' : 'released');

/** Runs the trials; returns the problems found (none when the lock held). */
export async function racePhase(options: RacePhaseOptions): Promise<string[]> {
  const { log } = options;
  const noUnshare = unshareUnusable();
  const namespaced = noUnshare === undefined ? Math.min(3, Math.floor(options.workers / 2)) : 0;
  log(`race: ${options.trials} trials x ${options.workers} processes, ${namespaced} in their own pid namespace${noUnshare ? ` (${noUnshare})` : ''}`);
  const dir = mkdtempSync(join(tmpdir(), 'klingrun-soak-race-'));
  const started = Date.now();
  const pool = await RacePool.start({ dir, workers: options.workers, namespaced, staleMs: STALE_MS, refreshMs: REFRESH_MS });
  log(`race: workers ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  const results: TrialResult[] = [];
  const problems: string[] = [];
  try {
    for (let trial = 0; trial < options.trials; trial++) {
      const result = await pool.trial(trial, kindOf(trial));
      results.push(result);
      if (result.winners !== 1) problems.push(`trial ${trial} (${result.kind}): ${result.winners} winners ${JSON.stringify(result.outcomes)}`);
      problems.push(...result.oddities.map((odd) => `trial ${trial} (${result.kind}): ${odd}`));
      if ((trial + 1) % 50 === 0) log(`race: ${trial + 1} trials`);
    }
    problems.push(...pool.logProblems());
  } finally {
    await pool.close();
  }
  if (problems.length === 0) rmSync(dir, { recursive: true, force: true });
  else problems.push(`race folder and holders' log kept in ${dir}`);

  const rows = (['released', 'reused-pid', 'stale-lease'] as const).map((kind) => {
    const of = results.filter((r) => r.kind === kind);
    const count = (result: string): number => of.reduce((n, r) => n + (r.outcomes[result] ?? 0), 0);
    const ms = of.map((r) => r.ms);
    return [kind, String(of.length), String(count('won')), String(count('state_locked')), String(of.length * options.workers - count('won') - count('state_locked')), `${Math.round(ms.reduce((a, b) => a + b, 0) / Math.max(1, ms.length))} ms`, `${Math.max(0, ...ms)} ms`];
  });
  const header = ['lock in place', 'trials', 'winners', 'refused', 'other', 'mean trial', 'max trial'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  for (const row of [header, ...rows]) log(row.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  '));
  log(`race: ${results.length} trials in ${((Date.now() - started) / 1000).toFixed(1)} s, ${problems.length === 0 ? 'exactly one holder at every moment' : `${problems.length} problem(s)`}`);
  return problems;
}
