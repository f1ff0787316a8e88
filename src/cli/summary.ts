// What `run` shows before its first submit: the work left to do, its cost, and the limits.
import type { ModelTable } from '../data/tables.js';
import { summarizePlan } from '../plan/cost.js';
import type { Plan, PlannedJob } from '../plan/schema.js';
import type { ResolvedRunOptions } from '../runner/context.js';
import type { Shard } from '../runner/select.js';
import { formatCostTable } from './commands/plan.js';

/** A `--shard` run: which slice it is, and how many jobs the whole batch has. */
export interface ShardInfo extends Shard {
  readonly batchJobs: number;
}

export function formatSummary(plan: Plan, todo: readonly PlannedJob[], options: ResolvedRunOptions, models: ModelTable, shard?: ShardInfo): string {
  const done = plan.jobs.length - todo.length;
  const head = `${plan.name}: ${plan.jobs.length} job(s) planned, ${todo.length} to run${done ? ` (${done} already finished: resuming)` : ''}.`;
  // Each machine of a split batch says which slice it runs, so its log can be matched to its folder.
  const slice = shard ? `\nshard ${shard.index}/${shard.count}: ${plan.jobs.length} of ${shard.batchJobs} jobs` : '';
  if (todo.length === 0) return `${head}${slice}`;
  const limits = [
    `concurrency ${options.concurrency}`,
    `${options.rpm} requests/min`,
    options.budgetUsd === undefined ? 'no budget cap' : `budget $${options.budgetUsd.toFixed(2)}`,
    `task timeout ${options.taskTimeoutMs / 60_000} min`,
    options.pollIntervalMs === undefined ? 'adaptive polling' : `poll every ${options.pollIntervalMs / 1000} s`,
  ].join(', ');
  return `${head}${slice}\n\n${formatCostTable(summarizePlan({ ...plan, jobs: [...todo] }, models))}\n\nlimits: ${limits}`;
}
