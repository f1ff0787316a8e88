// What `run` shows before its first submit: the work left to do, its cost, and the limits.
import { summarizePlan, type Tables } from '../plan/cost.js';
import type { Plan, PlannedJob } from '../plan/schema.js';
import type { ResolvedRunOptions } from '../runner/context.js';
import { formatCostTable } from './commands/plan.js';

export function formatSummary(plan: Plan, toSubmit: readonly PlannedJob[], options: ResolvedRunOptions, tables: Tables, todo = toSubmit.length): string {
  const done = plan.jobs.length - todo;
  const head = `${plan.name}: ${plan.jobs.length} job(s) planned, ${todo} to run${done ? ` (${done} already finished: resuming)` : ''}.`;
  if (todo === 0) return head;
  const limits = [
    `concurrency ${options.concurrency}`,
    `${options.rpm} requests/min`,
    options.budgetUsd === undefined ? 'no budget cap' : `budget $${options.budgetUsd.toFixed(2)}`,
    `task timeout ${options.taskTimeoutMs / 60_000} min`,
    options.pollIntervalMs === undefined ? 'adaptive polling' : `poll every ${options.pollIntervalMs / 1000} s`,
  ].join(', ');
  const submits = toSubmit.length === 0 ? 'Nothing new to submit: only work already under way is finished.' : formatCostTable(summarizePlan({ ...plan, jobs: [...toSubmit] }, tables));
  return `${head}\n\n${submits}\n\nlimits: ${limits}`;
}
