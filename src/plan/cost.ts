// The plan's cost summary: jobs grouped by variant (plan/variants.ts) with the estimated price.
// An unknown price stays unknown (null) all the way up; it is never counted as 0.
import { loadModelTable, priceOf, type ModelTable, type PriceTable } from '../data/tables.js';
import { effectiveParams, type JobRequest, type Plan } from './schema.js';
import { type Variant, groupByVariant } from './variants.js';

export interface CostRow {
  readonly variant: Variant;
  readonly model_name: string;
  /** Undefined for models with a single quality level. */
  readonly mode: string | undefined;
  readonly duration: string;
  readonly jobs: number;
  /** USD per video; null when the price table has no row, or when the jobs' prices differ. */
  readonly unit_usd: number | null;
  /** The sum over the jobs, null when any price is unknown. */
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

const sortKey = (row: Omit<CostRow, 'total_usd'>): string => `${row.model_name}\n${row.mode ?? ''}\n${row.duration.padStart(3, '0')}\n${row.variant.key}`;

/** Groups a plan's jobs by variant (rows sorted by model, mode, duration, then the other fields) with estimated cost. */
export function summarizePlan(plan: Plan, models: ModelTable = loadModelTable()): CostSummary {
  const rows = groupByVariant(plan.jobs, (job) => job)
    .map(({ variant, items }) => {
      const prices = items.map((job) => job.cost_usd);
      const known = prices.every((p) => p !== null);
      return {
        variant,
        ...effectiveParams((items[0] as Plan['jobs'][number]).request, models),
        jobs: items.length,
        unit_usd: known && new Set(prices).size === 1 ? prices[0] ?? null : null,
        total_usd: known ? round(prices.reduce<number>((sum, p) => sum + (p ?? 0), 0)) : null,
      };
    })
    .sort((a, b) => (sortKey(a) < sortKey(b) ? -1 : 1));
  const priced = plan.jobs.filter((job) => job.cost_usd !== null);
  return {
    rows,
    jobs: plan.jobs.length,
    known_usd: round(priced.reduce((sum, job) => sum + (job.cost_usd ?? 0), 0)),
    unknown_jobs: plan.jobs.length - priced.length,
  };
}
