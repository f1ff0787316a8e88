// The comparison grid of the gallery as plain data: rows are source images (+ prompt, + repeat),
// columns are variants (plan/variants.ts, the one definition the plan, the run and report.json
// use). A column is labelled by the fields whose value differs between columns; fields with one
// value across the batch are shown once; the rest label their row, or, when they differ within a
// row (jobs of hand-written entries side by side), each clip.
import { API_DEFAULTS } from '../api/schemas.js';
import type { ImageRef } from '../plan/schema.js';
import { type VariantSource, groupByVariant } from '../plan/variants.js';
import { outcomesOf, percentile } from './outcomes.js';
import type { ReportJob, ReportStatus } from './schema.js';

/** Request fields shown about a job, besides its image and prompt (which make the rows). */
const SHOWN_FIELDS = ['model_name', 'mode', 'duration', 'prompt', 'negative_prompt', 'cfg_scale', 'sound', 'callback_url', 'image_tail', 'static_mask', 'dynamic_masks'] as const;
type ShownField = (typeof SHOWN_FIELDS)[number];
export type Labels = readonly (readonly [field: string, value: string])[];

type Params = NonNullable<ReportJob['params']>;
/** A job the grid can place: one that is planned and has its request. */
export type GridJob = ReportJob & { readonly params: Params };

export interface ColumnStats {
  readonly jobs: number;
  readonly succeeded: number;
  readonly failed: number;
  /** succeeded / finished; null while nothing finished. */
  readonly success_rate: number | null;
  readonly latency_p50: number | null;
  readonly latency_p95: number | null;
  /** Estimated spend on finished, charged tasks ÷ seconds of succeeded video; null when unknown. */
  readonly usd_per_second: number | null;
}

export interface GalleryColumn {
  /** The variant's key. */
  readonly key: string;
  /** The fields whose value differs between columns, and this column's value of each. */
  readonly label: Labels;
  readonly stats: ColumnStats;
}

export interface GalleryRow {
  readonly key: string;
  readonly image: ImageRef;
  /** The row's prompt; null when it has none or when the prompt is part of the variant (see promptVaries). */
  readonly prompt: string | null;
  /** The prompt is a matrix field here: each column says its own. */
  readonly promptVaries: boolean;
  /** Set when the batch has repeats. */
  readonly repeat: number | null;
  /** Fields that differ between rows but not within one (an image_tail per entry, say). */
  readonly details: Labels;
  /** Fields that differ between the clips of this row beyond their columns: each clip shows its value. */
  readonly clipFields: readonly string[];
  /** Jobs by column key; usually one, more when jobs differ only outside their variant (names, extras, entries). */
  readonly cells: ReadonlyMap<string, readonly GridJob[]>;
}

export interface GalleryGrid {
  readonly columns: readonly GalleryColumn[];
  readonly rows: readonly GalleryRow[];
  /** Fields with one value across the whole batch (shown once in the header). */
  readonly constants: Labels;
}

/**
 * The tasks a column's cost per second counts: those that made a video, or may have (timed out).
 * Failed ones are left out here, as the price of what a variant delivers; whether the provider
 * bills them is not documented, and the report's cost counts them as possible.
 */
const CHARGED: ReadonlySet<ReportStatus> = new Set(['succeeded', 'not_downloaded', 'timed_out', 'invalid_output']);

const imageText = (ref: ImageRef): string => (ref.kind === 'file' ? ref.path : ref.url);

/** A field's value as shown, with the provider's defaults filled in so "unset" and "default" match. */
export function fieldText(params: Params, field: ShownField): string {
  const value = params[field] ?? (field === 'model_name' || field === 'duration' ? API_DEFAULTS[field] : undefined);
  if (value === undefined) return '–';
  if (field === 'duration') return `${String(value)} s`;
  if (field === 'image_tail' || field === 'static_mask') return imageText(value as ImageRef);
  if (field === 'dynamic_masks') return (value as Params['dynamic_masks'] & object).map((m) => imageText(m.mask)).join(', ');
  return String(value);
}

const sourceOf = (job: GridJob): VariantSource => ({ request: job.params, variant: job.variant });
const promptVaries = (job: GridJob): boolean => 'prompt' in job.variant;

const rowKey = (job: GridJob, repeats: boolean): string =>
  JSON.stringify([imageText(job.params.image), promptVaries(job) ? null : (job.params.prompt ?? null), repeats ? job.repeat : null]);

/** The one value the jobs share, or undefined when they differ. */
function common(jobs: readonly GridJob[], field: ShownField): string | undefined {
  const values = new Set(jobs.map((job) => fieldText(job.params, field)));
  return values.size === 1 ? (values.values().next().value as string) : undefined;
}

export function buildGrid(reportJobs: readonly ReportJob[]): GalleryGrid {
  // Jobs no longer in the manifest belong to another plan: the header counts them, the grid does not.
  const jobs = reportJobs.filter((j): j is GridJob => j.params !== null && j.in_manifest);
  const repeats = jobs.some((j) => (j.repeat ?? 1) > 1);
  const groups = groupByVariant(jobs, sourceOf);

  // A column's value of a field: its jobs' common value ('–' when unset), or "mixed" when they differ.
  const columnText = (members: readonly GridJob[], field: ShownField): string => common(members, field) ?? 'mixed';
  const labelled = SHOWN_FIELDS.filter((field) => field !== 'prompt' || jobs.some(promptVaries)).filter(
    (field) => new Set(groups.map(({ items }) => columnText(items, field))).size > 1,
  );
  // The prompt is always shown with its row (or in the column labels when the matrix sweeps it).
  const constants = SHOWN_FIELDS.filter((field) => field !== 'prompt' && !labelled.includes(field) && common(jobs, field) !== undefined);
  const others = SHOWN_FIELDS.filter((field) => !labelled.includes(field) && !constants.includes(field) && field !== 'prompt');
  const shown = (pairs: readonly (readonly [string, string | undefined])[]): Labels =>
    pairs.filter((pair): pair is readonly [string, string] => pair[1] !== undefined && pair[1] !== '–');

  const columnOf = new Map<GridJob, string>();
  for (const { variant, items } of groups) for (const job of items) columnOf.set(job, variant.key);
  const rows = new Map<string, { first: GridJob; members: GridJob[]; cells: Map<string, GridJob[]> }>();
  for (const job of jobs) {
    const key = rowKey(job, repeats);
    const row = rows.get(key) ?? { first: job, members: [] as GridJob[], cells: new Map<string, GridJob[]>() };
    const column = columnOf.get(job) as string;
    row.members.push(job);
    row.cells.set(column, [...(row.cells.get(column) ?? []), job]);
    rows.set(key, row);
  }

  return {
    // '–' is kept in labels: "no sound field" is a value when other columns have one.
    columns: groups.map(({ variant, items }) => ({ key: variant.key, label: labelled.map((field) => [field, columnText(items, field)] as const), stats: columnStats(items) })),
    rows: [...rows].map(([key, { first, members, cells }]) => ({
      key,
      image: first.params.image,
      prompt: promptVaries(first) ? null : (first.params.prompt ?? null),
      promptVaries: promptVaries(first),
      repeat: repeats ? first.repeat : null,
      details: shown(others.map((field) => [field, common(members, field)] as const)),
      clipFields: others.filter((field) => common(members, field) === undefined),
      cells,
    })),
    constants: jobs[0] ? shown(constants.map((field) => [field, common(jobs, field)] as const)) : [],
  };
}

/** What a clip shows of the fields that differ within its row. */
export const clipLabels = (job: GridJob, fields: readonly string[]): Labels =>
  fields.map((field) => [field, fieldText(job.params, field as ShownField)] as const).filter(([, value]) => value !== '–');

const secondsOf = (job: GridJob): number => job.video?.duration_s ?? Number(job.params.duration ?? API_DEFAULTS.duration);

export function columnStats(jobs: readonly GridJob[]): ColumnStats {
  const { succeeded, failed, successRate, latencies } = outcomesOf(jobs);
  const charged = jobs.filter((j) => CHARGED.has(j.status));
  const seconds = succeeded.reduce((sum, j) => sum + secondsOf(j), 0);
  const priced = charged.every((j) => j.cost_usd !== null);
  const spend = charged.reduce((sum, j) => sum + (j.cost_usd ?? 0), 0);
  return {
    jobs: jobs.length,
    succeeded: succeeded.length,
    failed,
    success_rate: successRate,
    latency_p50: percentile(latencies, 50),
    latency_p95: percentile(latencies, 95),
    usd_per_second: priced && seconds > 0 ? spend / seconds : null,
  };
}
