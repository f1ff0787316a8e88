// The plan's cost summary: jobs grouped by model × mode × duration with the estimated price.
// An unknown price stays unknown (null) all the way up; it is never counted as 0.
import { loadModelTable, priceOf, type ModelTable, type PriceTable } from '../data/tables.js';
import { effectiveParams, type JobRequest, type Plan } from './schema.js';

export interface CostRow {
  readonly model_name: string;
  /** Undefined for models with a single quality level. */
  readonly mode: string | undefined;
  readonly duration: string;
  readonly jobs: number;
  /** USD per video, null when the price table has no row. */
  readonly unit_usd: number | null;
  /** unit × jobs, null when the unit price is unknown. */
  readonly total_usd: number | null;
}

export interface CostSummary {
  readonly rows: CostRow[];
  readonly jobs: number;
  /** Sum over the jobs with a known price. */
  readonly known_usd: number;
  /** Jobs without a price; when > 0 the true total is unknown. */
  readonly unknown_jobs: number;
}

/** Estimated USD for one job's request, or null when the price table has no row for it. */
export function priceJob(request: JobRequest, models: ModelTable, prices: PriceTable): number | null {
  return priceOf(prices, effectiveParams(request, models));
}

/** Rounded to 1/10000 USD, so 0.33 × 3 is 0.99 and not 0.9900000000000001. */
const round = (usd: number) => Math.round(usd * 10_000) / 10_000;

/** Groups a plan's jobs by model × mode × duration (rows sorted by those three) with estimated cost. */
export function summarizePlan(plan: Plan, models: ModelTable = loadModelTable()): CostSummary {
  const groups = new Map<string, { model_name: string; mode: string | undefined; duration: string; jobs: number; unit_usd: number | null }>();
  for (const job of plan.jobs) {
    const p = effectiveParams(job.request, models);
    const key = `${p.model_name}\n${p.mode ?? ''}\n${p.duration.padStart(3, '0')}`;
    const group = groups.get(key) ?? { ...p, jobs: 0, unit_usd: job.cost_usd };
    group.jobs += 1;
    groups.set(key, group);
  }
  const rows = [...groups.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([, g]) => ({ ...g, total_usd: g.unit_usd === null ? null : round(g.unit_usd * g.jobs) }));
  const known = rows.filter((r) => r.total_usd !== null);
  return {
    rows,
    jobs: plan.jobs.length,
    known_usd: round(known.reduce((sum, r) => sum + (r.total_usd ?? 0), 0)),
    unknown_jobs: rows.filter((r) => r.unit_usd === null).reduce((n, r) => n + r.jobs, 0),
  };
}
