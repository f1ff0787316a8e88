// The comparison grid of the gallery as plain data: rows are source images (+ prompt, + repeat),
// columns are variants. A field makes columns only when it differs between jobs of the same row,
// so a per-image field (an image_tail per entry, say) labels its row instead of scattering the
// grid into a diagonal.
import { API_DEFAULTS } from '../api/schemas.js';
import type { ImageRef } from '../plan/schema.js';
import { outcomesOf, percentile } from './outcomes.js';
import type { ReportJob, ReportStatus } from './schema.js';

/** Request fields that may tell variants apart (image and prompt make the rows). */
const VARIANT_FIELDS = ['model_name', 'mode', 'duration', 'negative_prompt', 'cfg_scale', 'sound', 'callback_url', 'image_tail', 'static_mask', 'dynamic_masks'] as const;
type VariantField = (typeof VARIANT_FIELDS)[number];

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
  readonly key: string;
  /** The varied fields and this column's value of each, in VARIANT_FIELDS order. */
  readonly label: readonly (readonly [field: string, value: string])[];
  readonly stats: ColumnStats;
}

export interface GalleryRow {
  readonly key: string;
  readonly image: ImageRef;
  readonly prompt: string | null;
  /** Set when the batch has repeats. */
  readonly repeat: number | null;
  /** Fields that differ between rows but not within one (an image_tail per entry, say). */
  readonly details: readonly (readonly [field: string, value: string])[];
  /** Jobs by column key; usually one, more when jobs differ only outside the request (names, extras). */
  readonly cells: ReadonlyMap<string, readonly GridJob[]>;
}

export interface GalleryGrid {
  readonly columns: readonly GalleryColumn[];
  readonly rows: readonly GalleryRow[];
  /** Fields with one value across the whole batch (shown once in the header). */
  readonly constants: readonly (readonly [field: string, value: string])[];
}

/** Finished tasks the provider charges for (failed tasks are not charged). */
const CHARGED: ReadonlySet<ReportStatus> = new Set(['succeeded', 'not_downloaded', 'timed_out', 'invalid_output']);

const imageText = (ref: ImageRef): string => (ref.kind === 'file' ? ref.path : ref.url);

/** A field's value as shown, with the provider's defaults filled in so "unset" and "default" match. */
function fieldText(params: Params, field: VariantField): string {
  const value = params[field] ?? (field === 'model_name' || field === 'duration' ? API_DEFAULTS[field] : undefined);
  if (value === undefined) return '–';
  if (field === 'duration') return `${String(value)} s`;
  if (field === 'image_tail' || field === 'static_mask') return imageText(value as ImageRef);
  if (field === 'dynamic_masks') return (value as Params['dynamic_masks'] & object).map((m) => imageText(m.mask)).join(', ');
  return String(value);
}

const rowKey = (job: GridJob, repeats: boolean): string =>
  JSON.stringify([imageText(job.params.image), job.params.prompt ?? null, repeats ? job.repeat : null]);

export function buildGrid(reportJobs: readonly ReportJob[]): GalleryGrid {
  // Jobs no longer in the manifest belong to another plan: the header counts them, the grid does not.
  const jobs = reportJobs.filter((j): j is GridJob => j.params !== null && j.in_manifest);
  const repeats = jobs.some((j) => (j.repeat ?? 1) > 1);

  const byRow = new Map<string, GridJob[]>();
  for (const job of jobs) {
    const key = rowKey(job, repeats);
    const group = byRow.get(key);
    if (group) group.push(job);
    else byRow.set(key, [job]);
  }
  const varied = VARIANT_FIELDS.filter((field) => [...byRow.values()].some((group) => new Set(group.map((j) => fieldText(j.params, field))).size > 1));
  const steady = VARIANT_FIELDS.filter((field) => !varied.includes(field));
  // Decided once, not once per row: a 100,000-job batch has tens of thousands of rows.
  const constants = steady.filter((field) => new Set(jobs.map((j) => fieldText(j.params, field))).size <= 1);
  const rowFields = steady.filter((field) => !constants.includes(field));
  const valuesOf = (job: GridJob, fields: readonly VariantField[]) =>
    fields.map((field) => [field, fieldText(job.params, field)] as const).filter(([, value]) => value !== '–');

  const columnJobs = new Map<string, { label: GalleryColumn['label']; jobs: GridJob[] }>();
  const rows = new Map<string, { first: GridJob; cells: Map<string, GridJob[]> }>();
  for (const job of jobs) {
    const label = varied.map((field) => [field, fieldText(job.params, field)] as const); // '–' kept: it is a value here
    const column = JSON.stringify(label);
    const entry = columnJobs.get(column) ?? { label, jobs: [] };
    entry.jobs.push(job);
    columnJobs.set(column, entry);
    const key = rowKey(job, repeats);
    const row = rows.get(key) ?? { first: job, cells: new Map() };
    const cell = row.cells.get(column);
    if (cell) cell.push(job);
    else row.cells.set(column, [job]);
    rows.set(key, row);
  }

  return {
    columns: [...columnJobs].map(([key, { label, jobs: members }]) => ({ key, label, stats: columnStats(members) })),
    rows: [...rows].map(([key, { first, cells }]) => ({
      key,
      image: first.params.image,
      prompt: first.params.prompt ?? null,
      repeat: repeats ? first.repeat : null,
      details: valuesOf(first, rowFields),
      cells,
    })),
    constants: jobs[0] ? valuesOf(jobs[0], constants) : [],
  };
}

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
