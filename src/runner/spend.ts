// What a job may have cost at the provider, read off its replayed state. Whether the provider bills
// failed tasks is not documented, so a hard budget must be safe either way: only a task that
// succeeded is a certain cost; every other task that exists, or may exist, is a possible one.
import type { JobState, Phase } from './job-state.js';


export interface TaskCount {
  /** 1 when the current attempt's task succeeded. */
  readonly certain: number;
  /** Tasks that exist or may exist and have not succeeded, earlier attempts' included. */
  readonly possible: number;
  /** 1 when the current attempt's task (counted above) was adopted from elsewhere: see adoptedFromElsewhere. */
  readonly adopted: number;
}

const SUCCEEDED: ReadonlySet<Phase> = new Set(['succeeded', 'downloaded']);
/** Phases in which the current attempt holds a task, or may. */
const MAY_HOLD: ReadonlySet<Phase> = new Set(['submitting', 'submitted', 'timed_out', 'orphaned', 'lost_at_provider']);

/** Whether the current attempt has (or may have) a task at the provider. */
export function holdsTask(state: JobState): boolean {
  // A failed (or budget-skipped) attempt holds a task only if the provider gave it an id.
  return SUCCEEDED.has(state.phase) || MAY_HOLD.has(state.phase) || state.taskId !== undefined;
}

/**
 * The current attempt's task was adopted with no submit from this folder (looked up before its
 * first submit): a run from another folder or machine made it and paid for it, not this one.
 */
export function adoptedFromElsewhere(state: JobState | undefined): boolean {
  return state?.adoptedVia !== undefined && state.sentAt === undefined;
}

export function tasksOf(state: JobState | undefined): TaskCount {
  if (!state) return { certain: 0, possible: 0, adopted: 0 };
  const certain = SUCCEEDED.has(state.phase) ? 1 : 0;
  const current = certain || holdsTask(state);
  return { certain, possible: state.earlierTasks + (!certain && holdsTask(state) ? 1 : 0), adopted: current && adoptedFromElsewhere(state) ? 1 : 0 };
}

/**
 * USD of what the provider says it charged, when it says: its units at the account's unit price,
 * else the list price it states.
 */
export function measuredUsd(state: JobState | undefined, usdPerUnit: number): number | undefined {
  if (state?.units !== undefined) return Math.round(state.units * usdPerUnit * 10_000) / 10_000;
  return state?.listPrice;
}

/**
 * USD a job commits against a budget: each of its tasks that exists or may, and `reserved` more
 * (a submit under way), at its job's `price`, else the estimate the journal kept.
 */
export function jobCommitsUsd(state: JobState | undefined, price: number | null | undefined, reserved = 0): number {
  const { certain, possible } = tasksOf(state);
  return (price ?? state?.estimateUsd ?? 0) * (certain + possible + reserved);
}

/** What the folder's tasks already commit against a budget, as the runner counts it. */
export function committedUsd(states: ReadonlyMap<string, JobState>, priceOf: (id: string) => number | null | undefined): number {
  let total = 0;
  for (const [id, state] of states) total += jobCommitsUsd(state, priceOf(id));
  return total;
}

/**
 * The jobs a budget lets through, met in plan order as the runner meets them: a job that would go
 * over is skipped and a cheaper one after it may still fit. An estimate: a job that fails frees nothing.
 */
export function withinBudget<J extends { readonly cost_usd: number | null }>(jobs: readonly J[], budgetUsd: number, committed: number): J[] {
  const fitting: J[] = [];
  let spent = committed;
  for (const job of jobs) {
    const cost = job.cost_usd ?? 0;
    if (spent + cost > budgetUsd + 1e-9) continue;
    spent += cost;
    fitting.push(job);
  }
  return fitting;
}
