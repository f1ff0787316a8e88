// The plan's cost summary: jobs grouped by variant (plan/variants.ts) with the estimated price, and
// the sound they are priced at where sound changes the price. An unknown price stays unknown (null)
// all the way up; it is never counted as 0.
import { priceOf, priceParams, soundChangesPrice, type PriceParams } from '../data/prices.js';
import type { ModelTable, PriceTable } from '../data/tables.js';
import type { JobRequest, Plan, PlannedJob } from './schema.js';
import { type Variant, groupByVariant } from './variants.js';

export interface CostRow {
  readonly variant: Variant;
  readonly model_name: string;
  /** Undefined for models with a single quality level. */
  readonly mode: string | undefined;
  readonly duration: string;
  /**
   * Only where sound changes the price: `on`, `off`, or `default` when the jobs leave `sound` out
   * (Kling's default, priced as `off`); `mixed` when the variant's jobs differ in it (set per job
   * entry or table row, not by the matrix).
   */
  readonly sound: 'on' | 'off' | 'default' | 'mixed' | undefined;
  readonly jobs: number;
  /** USD per video; null when the price table has no row, or when the jobs' prices differ. */
  readonly unit_usd: number | null;
  /** The sum over the jobs, null when any price is unknown. */
  readonly total_usd: number | null;
}

/** The two tables a plan was made with (a LoadedPlan is one). */
export interface Tables {
  readonly models: ModelTable;
  readonly prices: PriceTable;
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
  return priceOf(prices, priceParams(request, models));
}

/** Rounded to 1/10000 USD, so 0.33 × 3 is 0.99 and not 0.9900000000000001. */
const round = (usd: number) => Math.round(usd * 10_000) / 10_000;

/** The sound a group shows: only where it changes the price. */
function shownSound(p: PriceParams, prices: PriceTable): CostRow['sound'] {
  if (!soundChangesPrice(prices, p)) return undefined;
  return p.soundDefault ? 'default' : p.sound;
}

const sortKey = (row: Omit<CostRow, 'total_usd'>): string => `${row.model_name}\n${row.mode ?? ''}\n${row.duration.padStart(3, '0')}\n${row.variant.key}`;

/**
 * Groups a plan's jobs by variant (rows sorted by model, mode, duration, then the other fields) with
 * estimated cost. The jobs' own estimates are summed; the prices decide where sound is shown.
 */
export function summarizePlan(plan: Plan, { models, prices }: Tables): CostSummary {
  const rows = groupByVariant(plan.jobs, (job) => job)
    .map(({ variant, items }) => {
      const first = items[0] as PlannedJob;
      const p = priceParams(first.request, models);
      const sound = shownSound(p, prices);
      // A variant fixes model, mode and duration: only `sound` itself can differ in what is shown.
      const mixed = sound !== undefined && items.some((job) => job.request.sound !== first.request.sound);
      const costs = items.map((job) => job.cost_usd);
      const known = costs.every((cost) => cost !== null);
      return {
        variant,
        model_name: p.model_name,
        mode: p.mode,
        duration: p.duration,
        sound: mixed ? 'mixed' : sound,
        jobs: items.length,
        unit_usd: known && new Set(costs).size === 1 ? (costs[0] ?? null) : null,
        total_usd: known ? round(costs.reduce<number>((sum, cost) => sum + (cost ?? 0), 0)) : null,
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

/**
 * The jobs without a price, as `kling-v1 std (3 jobs)`, for messages that refuse them (--budget):
 * names what to add to the price table.
 */
export function describeUnpriced(jobs: readonly PlannedJob[], models: ModelTable): string {
  const counts = new Map<string, number>();
  for (const job of jobs) {
    if (job.cost_usd !== null) continue;
    const p = priceParams(job.request, models);
    const key = [p.model_name, p.mode, p.sound === undefined ? undefined : `sound ${p.soundDefault ? 'default' : p.sound}`].filter(Boolean).join(' ');
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].map(([key, n]) => `${key} (${n} job${n === 1 ? '' : 's'})`).join(', ');
}
