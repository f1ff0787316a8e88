// What `run` shows before its first submit: the work left to do, its cost, and the limits.
import { summarizePlan, type Tables } from '../plan/cost.js';
import type { Plan, PlannedJob } from '../plan/schema.js';
import type { ResolvedRunOptions } from '../runner/context.js';
import { formatCostTable } from './commands/plan.js';

export function formatSummary(plan: Plan, todo: readonly PlannedJob[], options: ResolvedRunOptions, tables: Tables): string {
  const done = plan.jobs.length - todo.length;
  const head = `${plan.name}: ${plan.jobs.length} job(s) planned, ${todo.length} to run${done ? ` (${done} already finished: resuming)` : ''}.`;
  if (todo.length === 0) return head;
  const limits = [
    `concurrency ${options.concurrency}`,
    `${options.rpm} requests/min`,
    options.budgetUsd === undefined ? 'no budget cap' : `budget $${options.budgetUsd.toFixed(2)}`,
    `task timeout ${options.taskTimeoutMs / 60_000} min`,
    options.pollIntervalMs === undefined ? 'adaptive polling' : `poll every ${options.pollIntervalMs / 1000} s`,
  ].join(', ');
  return `${head}\n\n${formatCostTable(summarizePlan({ ...plan, jobs: [...todo] }, tables))}\n\nlimits: ${limits}`;
}
