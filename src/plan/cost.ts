// The plan's cost summary: jobs grouped by model × mode × duration (× sound, where sound changes
// the price) with the estimated price. An unknown price stays unknown (null) all the way up; it is
// never counted as 0.
import { priceOf, priceParams, soundChangesPrice, type PriceParams } from '../data/prices.js';
import type { ModelTable, PriceTable } from '../data/tables.js';
import type { JobRequest, Plan, PlannedJob } from './schema.js';

export interface CostRow {
  readonly model_name: string;
  /** Undefined for models with a single quality level. */
  readonly mode: string | undefined;
  readonly duration: string;
  /**
   * Only where sound changes the price: `on`, `off`, or `default` when the jobs leave `sound` out
   * (priced as `on`, since the provider's default is not documented).
   */
  readonly sound: 'on' | 'off' | 'default' | undefined;
  readonly jobs: number;
  /** USD per video, null when the price table has no row. */
  readonly unit_usd: number | null;
  /** unit × jobs, null when the unit price is unknown. */
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

/**
 * Groups a plan's jobs by model × mode × duration × shown sound (rows sorted by those) with
 * estimated cost. The prices decide where sound is shown; the jobs' own estimates are kept.
 */
export function summarizePlan(plan: Plan, { models, prices }: Tables): CostSummary {
  const groups = new Map<string, Omit<CostRow, 'total_usd'> & { jobs: number }>();
  for (const job of plan.jobs) {
    const p = priceParams(job.request, models);
    const sound = shownSound(p, prices);
    const key = `${p.model_name}\n${p.mode ?? ''}\n${p.duration.padStart(3, '0')}\n${sound ?? ''}`;
    const group = groups.get(key) ?? { model_name: p.model_name, mode: p.mode, duration: p.duration, sound, jobs: 0, unit_usd: job.cost_usd };
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
