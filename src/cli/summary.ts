// What `run` shows before its first submit: the work left to do, its cost, and the limits.
import type { Tables } from '../plan/cost.js';
import type { Plan, PlannedJob } from '../plan/schema.js';
import type { ResolvedRunOptions } from '../runner/context.js';
import type { JobState } from '../runner/job-state.js';
import type { Shard } from '../runner/select.js';
import { planCostTable } from './commands/plan.js';

/** A `--shard` run: which slice it is, and how many jobs the whole batch has. */
export interface ShardInfo extends Shard {
  readonly batchJobs: number;
}

export interface SummaryInput {
  readonly plan: Plan;
  /** Jobs that will be submitted (and may be paid for): the cost table is theirs. */
  readonly toSubmit: readonly PlannedJob[];
  /** Jobs with anything left to do (submit, find, poll, download). @default toSubmit.length */
  readonly todo?: number;
  /** Jobs already finished (the others are to run, or left out by `--only`). @default the jobs not to run */
  readonly finished?: number;
  readonly options: ResolvedRunOptions;
  readonly tables: Tables;
  readonly shard?: ShardInfo | undefined;
  /** The terminal's width, which the cost table fits. */
  readonly columns?: number | undefined;
  /** Under `--budget`: how many of toSubmit it lets through (runner/spend.ts withinBudget), and what the folder's tasks already commit. */
  readonly budget?: BudgetFit | undefined;
  /** How long the jobs that will be submitted may take (durationRange), and one task (what it assumes). */
  readonly duration?: { readonly total: DurationRange; readonly task: DurationRange } | undefined;
}

/** Seconds, lowest and highest. */
export interface DurationRange {
  readonly lowS: number;
  readonly highS: number;
}

/** How long a task takes when the folder has none finished yet: "usually 1–5 minutes" (docs/api.md). */
export const TYPICAL_TASK_S: DurationRange = { lowS: 60, highS: 300 };

/**
 * How long `jobs` submits may take under the limits: waves of `concurrency` tasks of `task` each,
 * and no sooner than the rate limit lets a create and a poll per job through. An estimate for
 * planning a session, not a promise: queues at the provider vary.
 */
export function durationRange(jobs: number, { concurrency, rpm }: Pick<ResolvedRunOptions, 'concurrency' | 'rpm'>, task: DurationRange = TYPICAL_TASK_S): DurationRange {
  const waves = Math.ceil(jobs / concurrency);
  const rateS = ((2 * jobs) / rpm) * 60;
  return { lowS: Math.max(waves * task.lowS, rateS), highS: Math.max(waves * task.highS, rateS) };
}

/** How long a task took in this folder (its fastest and slowest finished ones), else `typical`. */
export function taskDuration(states: ReadonlyMap<string, JobState>, typical: DurationRange): DurationRange {
  let lowS = Infinity;
  let highS = 0;
  for (const state of states.values()) {
    if (!state.submittedAt || !state.finishedAt || state.finishedAt < state.submittedAt || state.phase !== 'downloaded') continue;
    const seconds = (state.finishedAt - state.submittedAt) / 1000;
    lowS = Math.min(lowS, seconds);
    highS = Math.max(highS, seconds);
  }
  return highS > 0 ? { lowS, highS } : typical;
}

/** `40 s`, `12 min`, `3.5 h`. */
export function durationText(seconds: number): string {
  if (seconds < 60) return `${Math.max(1, Math.round(seconds))} s`;
  if (seconds < 90 * 60) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

/** `12–60 min`, or one figure when both ends read the same. */
export function rangeText({ lowS, highS }: DurationRange): string {
  const [low, high] = [durationText(lowS), durationText(highS)];
  if (low === high) return `about ${low}`;
  const [lowNumber, lowUnit] = low.split(' ');
  return lowUnit === high.split(' ')[1] ? `${lowNumber}–${high}` : `${low} to ${high}`;
}

export interface BudgetFit {
  readonly fitting: number;
  readonly committedUsd: number;
}

export function formatSummary({ plan, toSubmit, todo = toSubmit.length, finished = plan.jobs.length - todo, options, tables, shard, columns, budget, duration }: SummaryInput): string {
  const head = `${plan.name}: ${plan.jobs.length} job(s) planned, ${toRunText(plan.jobs.length, todo, finished)}.`;
  // Each machine of a split batch says which slice it runs, so its log can be matched to its folder.
  const slice = shard ? `\nshard ${shard.index}/${shard.count}: ${plan.jobs.length} of ${shard.batchJobs} jobs` : '';
  if (todo === 0) return `${head}${slice}`;
  const limits = [
    `concurrency ${options.concurrency}${perModel(options.concurrencyPerModel)}`,
    `${options.rpm} requests/min`,
    options.budgetUsd === undefined ? 'no budget cap' : `budget $${options.budgetUsd.toFixed(2)}`,
    `task timeout ${options.taskTimeoutMs / 60_000} min`,
    options.pollIntervalMs === undefined ? 'adaptive polling' : `poll every ${options.pollIntervalMs / 1000} s`,
  ].join(', ');
  const submits = toSubmit.length === 0 ? 'Nothing new to submit: only work already under way is finished.' : planCostTable({ ...plan, jobs: [...toSubmit] }, tables, columns);
  const time = duration && toSubmit.length > 0 ? `\ntime: ${rangeText(duration.total)} for the submits at these limits (a task takes ${rangeText(duration.task)})` : '';
  return `${head}${slice}\n\n${submits}${budgetText(options.budgetUsd, toSubmit.length, budget)}\n\nlimits: ${limits}${time}`;
}

/** When `--budget` will not let every submit through: how many it does, and which. */
function budgetText(budgetUsd: number | undefined, submits: number, fit: BudgetFit | undefined): string {
  if (budgetUsd === undefined || !fit || fit.fitting >= submits) return '';
  const committed = fit.committedUsd > 0 ? ` ($${fit.committedUsd.toFixed(2)} of it already taken by this folder's tasks)` : '';
  const rest = submits - fit.fitting;
  const which = fit.fitting === 0 ? `none of the ${submits} job(s) to submit fit` : `about ${fit.fitting} of the ${submits} job(s) to submit fit, taken in plan order`;
  return `\n\nbudget $${budgetUsd.toFixed(2)}${committed}: ${which}; the other ${rest} are skipped (a rerun with a higher --budget submits them).`;
}

/** What is left of the planned jobs; "resuming" only when there is something left to resume. */
function toRunText(planned: number, todo: number, finished: number): string {
  const resumed = finished ? ` (${finished} already finished: resuming)` : '';
  if (todo > 0) return `${todo} to run${resumed}`;
  if (finished === planned) return planned === 0 ? 'nothing to run' : `nothing to run: ${planned === 1 ? 'it has' : `all ${planned} have`} already finished`;
  return `nothing to run (${finished} already finished, ${planned - finished} not selected)`;
}

/** ` (5 per model)`, ` (kling-v3 5 per model)`: concurrency_per_model as the summary says it; '' without one. */
function perModel(limits: ResolvedRunOptions['concurrencyPerModel']): string {
  if (limits === undefined) return '';
  const text = typeof limits === 'number' ? String(limits) : Object.entries(limits).map(([model, n]) => `${model} ${n}`).join(', ');
  return text ? ` (${text} per model)` : '';
}
