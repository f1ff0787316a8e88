// `--sample N`: a pilot of N jobs spread over every variant, picked from the plan itself, so the
// pilot runs with the full run's ids in its folder and its clips count when the whole batch runs.
//
// Pure and seeded. Every variant gets N/variants jobs, floor or ceil (a variant with fewer jobs
// gives its share to the others); which variants get the ceil, and which jobs within a variant,
// follow a rank made from the seed and the variant key or job id alone. So the same command picks
// the same jobs; a larger N keeps every job a smaller one picked (a pilot can grow); and jobs
// added to the manifest do not reshuffle the others.
import { UsageError } from '../errors.js';
import { sha256Hex } from './ids.js';
import { type VariantSource, groupByVariant } from './variants.js';

/** The seed `--sample` uses unless `--sample-seed` says otherwise. */
export const DEFAULT_SAMPLE_SEED = 1;

export interface SampleSpec {
  readonly count: number;
  readonly seed: number;
}

type Sampleable = VariantSource & { readonly id: string };

/** `--sample N [--sample-seed S]`; undefined without `--sample`. */
export function parseSample(count: string | undefined, seed: string | undefined): SampleSpec | undefined {
  const whole = (text: string, min: number) => (/^\s*\d+\s*$/.test(text) && Number(text) >= min && Number.isSafeInteger(Number(text)) ? Number(text) : undefined);
  if (count === undefined) {
    if (seed !== undefined) throw new UsageError('`--sample-seed` picks which jobs `--sample N` runs: add `--sample N` (e.g. --sample 8), or drop --sample-seed.');
    return undefined;
  }
  const n = whole(count, 1);
  if (n === undefined) throw new UsageError(`Expected \`--sample\` to be a whole number of jobs >= 1 (e.g. --sample 8), got \`${count}\`.`);
  const s = seed === undefined ? DEFAULT_SAMPLE_SEED : whole(seed, 0);
  if (s === undefined) throw new UsageError(`Expected \`--sample-seed\` to be a whole number >= 0 (e.g. --sample-seed 2), got \`${seed}\`.`);
  return { count: n, seed: s };
}

/** The seeded shuffle's order: by a hash of the seed and the key, not by position. */
const rankOf = (seed: number, key: string): string => sha256Hex(`sample:${seed}:${key}`);

function bySeededRank<T>(items: readonly T[], seed: number, keyOf: (item: T) => string): T[] {
  const ranked = items.map((item) => ({ item, rank: rankOf(seed, keyOf(item)) }));
  return ranked.sort((a, b) => (a.rank < b.rank ? -1 : a.rank > b.rank ? 1 : 0)).map((r) => r.item);
}

/**
 * How many jobs each group gives: the largest even level L every group fills up to (or to its size),
 * then one more from `count - Σ min(size, L)` of the groups still larger than L, in `order`.
 */
function quotas(sizes: readonly number[], count: number, order: readonly number[]): number[] {
  let level = 0;
  const taken = (l: number) => sizes.reduce((sum, size) => sum + Math.min(size, l), 0);
  while (level < Math.max(...sizes) && taken(level + 1) <= count) level += 1;
  const shares = sizes.map((size) => Math.min(size, level));
  let left = count - taken(level);
  for (const g of order) {
    if (left === 0) break;
    if (sizes[g]! > level) {
      shares[g]! += 1;
      left -= 1;
    }
  }
  return shares;
}

/** The `count` jobs a pilot runs, in plan order; every job when `count` covers them all. */
export function sampleJobs<T extends Sampleable>(jobs: readonly T[], { count, seed }: SampleSpec): T[] {
  if (count >= jobs.length) return [...jobs];
  const groups = groupByVariant(jobs, (job) => job);
  const order = bySeededRank(groups.map((_, g) => g), seed, (g) => groups[g]!.variant.key);
  const shares = quotas(groups.map((group) => group.items.length), count, order);
  const chosen = new Set<string>();
  groups.forEach((group, g) => {
    for (const job of bySeededRank(group.items, seed, (item) => item.id).slice(0, shares[g])) chosen.add(job.id);
  });
  return jobs.filter((job) => chosen.has(job.id));
}

/** Per variant, in manifest order: its label, how many of its jobs are picked, of how many. */
export function spreadOf<T extends Sampleable>(pool: readonly T[], picked: readonly { readonly id: string }[]) {
  const ids = new Set(picked.map((job) => job.id));
  return groupByVariant(pool, (job) => job).map((group) => ({
    variant: group.variant,
    picked: group.items.filter((job) => ids.has(job.id)),
    of: group.items.length,
  }));
}

/** Shown ids per variant: enough to recognise the jobs (`--only` takes any prefix), short enough for a line. */
const SHOWN_PER_VARIANT = 3;
const shortId = (job: { readonly external_task_id: string }): string => job.external_task_id.slice(0, 11);

type Listed = Sampleable & { readonly external_task_id: string };

/** One line per variant (spreadOf's rows): how many of its jobs are picked, of how many, and (with `ids`) the first few. */
function spreadLines(rows: ReturnType<typeof spreadOf<Listed>>, { ids }: { ids: boolean }): string[] {
  const width = Math.max(0, ...rows.map((row) => row.variant.label.length));
  const counts = rows.map((row) => `${row.picked.length} of ${row.of}`);
  const countWidth = Math.max(0, ...counts.map((count) => count.length));
  return rows.map((row, i) => {
    const shown = ids ? row.picked.slice(0, SHOWN_PER_VARIANT).map(shortId) : [];
    const more = row.picked.length > shown.length && shown.length > 0 ? `, +${row.picked.length - shown.length} more` : '';
    return `  ${row.variant.label.padEnd(width)}  ${(counts[i] as string).padStart(countWidth)}${shown.length ? `  ${shown.join(', ')}${more}` : ''}`;
  });
}

/**
 * What the plan says of a pilot: how many jobs of how many, the seed, and per variant how many
 * and which (the first few external ids; `klingrun plan --sample N --json` lists them all).
 */
export function formatSample(pool: readonly Listed[], picked: readonly Listed[], spec: SampleSpec): string {
  const variants = spreadOf(pool, picked);
  const spread = variants.filter((row) => row.picked.length > 0).length;
  const head = `sample: ${picked.length} of ${pool.length} job(s), over ${spread} of ${variants.length} variant(s) (--sample ${spec.count}, seed ${spec.seed}; the same seed picks the same jobs). They keep the full run's ids: a run without --sample then submits only the rest.`;
  return [head, ...spreadLines(variants, { ids: true })].join('\n');
}

/**
 * Under `--budget`, which of the jobs to submit fit: per variant, as the runner meets them in plan
 * order (of the `--sample` selection when there is one). Undefined when all fit, or none.
 */
export function formatBudgetFit(toSubmit: readonly Listed[], fitting: readonly Listed[], sampled: boolean): string | undefined {
  if (fitting.length === 0 || fitting.length >= toSubmit.length) return undefined;
  const rows = spreadOf(toSubmit, fitting);
  const counts = rows.map((row) => row.picked.length);
  // Plan order may already spread them (a matrix over each entry): the hint only when it does not.
  const uneven = Math.max(...counts) - Math.min(...counts) > 1;
  const order = sampled ? 'the --sample selection, in plan order' : `plan order${uneven ? ` (\`--sample ${fitting.length}\` would spread as many over every variant)` : ''}`;
  return [`budget: the ${fitting.length} of ${toSubmit.length} job(s) to submit that fit are taken from ${order}:`, ...spreadLines(rows, { ids: false })].join('\n');
}
