// The comparison grid of the gallery as plain data: rows are source images (+ prompt, + repeat),
// columns are variants (plan/variants.ts, the one definition the plan, the run and report.json
// use). A column is labelled by the fields whose value differs between columns; fields with one
// value across the batch are shown once; the rest label their row, or, when they differ within a
// row (jobs of hand-written entries side by side), each clip.
import { API_DEFAULTS } from '../api/schemas.js';
import { frameOf, isEndFrameOnly, type ImageRef } from '../plan/schema.js';
import { type Variant, type VariantSource, differingFields, variantKey, variantOf } from '../plan/variants.js';
import { FIELDS, MANIFEST_FIELDS, fieldText as requestFieldText, type ManifestFieldName } from '../request/fields.js';
import { FAILED, SUCCEEDED, percentile } from './outcomes.js';
import type { ReportJob, ReportStatus } from './schema.js';

/** Request fields shown about a job, besides its image and prompt (which make the rows). */
/** Every request field but `image`, which makes the rows: from the registry, in its order. */
const SHOWN_FIELDS = MANIFEST_FIELDS;
type ShownField = ManifestFieldName;
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
  /** The row's source image: its jobs' `image`, or the end frame of end-frame-only jobs (then labelled so in `details`). */
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
  /** The table's own columns (a CSV row's `category`, say) the row's jobs share, with their values. */
  readonly extra: Labels;
  /** The table's columns whose value differs between the row's jobs: each clip shows its own. */
  readonly clipExtra: readonly string[];
  /** Jobs by column key; usually one, more when jobs differ only outside their variant (names, extras, entries). */
  readonly cells: ReadonlyMap<string, readonly GridJob[]>;
}

export interface GalleryGrid {
  readonly columns: readonly GalleryColumn[];
  /** The first rows (all of them unless a cap was given: see buildGrid), with their clips. */
  readonly rows: readonly GalleryRow[];
  /** Rows and clips of the whole grid, the ones past the cap included. */
  readonly rowCount: number;
  readonly clipCount: number;
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
  if (FIELDS[field].kind === 'image') return imageText(value as ImageRef);
  if (FIELDS[field].kind === 'masks') return (value as Params['dynamic_masks'] & object).map((m) => imageText(m.mask)).join(', ');
  return requestFieldText(field, value);
}

const sourceOf = (job: GridJob): VariantSource => ({ request: job.params, variant: job.variant });
const promptVaries = (job: GridJob): boolean => 'prompt' in job.variant;

/** An end-frame-only job never shares a row with jobs that start from the same picture. */
const rowKey = (job: GridJob): string =>
  JSON.stringify([imageText(frameOf(job.params)), promptVaries(job) ? null : (job.params.prompt ?? null), job.repeat, ...(isEndFrameOnly(job.params) ? ['end frame'] : [])]);

/** The label of a row whose image is the end frame of end-frame-only jobs. */
export const END_FRAME_LABEL = ['image', 'end frame only (image_tail, no start image)'] as const;

/** A job's value of each shown field, in SHOWN_FIELDS order: worked out once, added to several Commons. */
const textsOf = (job: GridJob): string[] => SHOWN_FIELDS.map((field) => fieldText(job.params, field));

/** The one value a set of jobs shares of each shown field, followed as jobs are added. */
class Common {
  readonly #values = new Map<ShownField, string | null>(); // null: they differ

  /** Adds a job by its textsOf. */
  add(texts: readonly string[]): void {
    SHOWN_FIELDS.forEach((field, k) => {
      const seen = this.#values.get(field);
      if (seen === undefined) this.#values.set(field, texts[k] as string);
      else if (seen !== texts[k]) this.#values.set(field, null);
    });
  }

  /** The jobs' common value, or undefined when they differ (or there are none). */
  of(field: ShownField): string | undefined {
    return this.#values.get(field) ?? undefined;
  }
}

/** A column's figures, added up job by job. */
class ColumnTotals {
  #jobs = 0;
  #succeeded = 0;
  #failed = 0;
  readonly #latencies: number[] = [];
  #seconds = 0;
  #spend = 0;
  #priced = true;

  add(job: GridJob): void {
    this.#jobs += 1;
    if (SUCCEEDED.has(job.status)) {
      this.#succeeded += 1;
      this.#seconds += secondsOf(job);
      if (job.latency_s !== null) this.#latencies.push(job.latency_s);
    } else if (FAILED.has(job.status)) {
      this.#failed += 1;
    }
    if (CHARGED.has(job.status)) {
      this.#spend += job.cost_usd ?? 0;
      this.#priced &&= job.cost_usd !== null;
    }
  }

  stats(): ColumnStats {
    const finished = this.#succeeded + this.#failed;
    const latencies = [...this.#latencies].sort((a, b) => a - b);
    return {
      jobs: this.#jobs,
      succeeded: this.#succeeded,
      failed: this.#failed,
      success_rate: finished === 0 ? null : this.#succeeded / finished,
      latency_p50: percentile(latencies, 50),
      latency_p95: percentile(latencies, 95),
      usd_per_second: this.#priced && this.#seconds > 0 ? this.#spend / this.#seconds : null,
    };
  }
}

/**
 * The extra columns a set of jobs carries (a table row's own), followed as jobs are added: a column
 * is shared when every job has it with one value.
 */
class CommonExtra {
  #jobs = 0;
  readonly #values = new Map<string, { value: string | null; jobs: number }>(); // value null: they differ

  add(extra: Readonly<Record<string, string>> | undefined): void {
    this.#jobs += 1;
    for (const [name, value] of Object.entries(extra ?? {})) {
      const seen = this.#values.get(name);
      if (!seen) this.#values.set(name, { value, jobs: 1 });
      else this.#values.set(name, { value: seen.value === value ? value : null, jobs: seen.jobs + 1 });
    }
  }

  get shared(): Labels {
    return [...this.#values].flatMap(([name, { value, jobs }]) => (value !== null && jobs === this.#jobs ? [[name, value] as const] : []));
  }

  get differing(): readonly string[] {
    return [...this.#values].flatMap(([name, { value, jobs }]) => (value === null || jobs < this.#jobs ? [name] : []));
  }
}

/** A row as it fills: its first job, and, when it is shown, its clips and their common values. */
interface RowDraft {
  readonly first: GridJob;
  readonly common: Common;
  readonly extra: CommonExtra;
  readonly cells: Map<string, GridJob[]>;
}

/** Told of every clip of the grid as it is read, with its column's index (columns in the order they first appear). */
export type ClipSink = (job: GridJob, column: number) => void;

/**
 * The grid, from the report's jobs read once. A row is kept, with all its clips, when fewer than
 * `maxClips` clips are kept as it first appears (the first row always); later rows are counted,
 * not kept. Plans list each image's jobs together, so a page holds about `maxClips` clips, in
 * whole rows: a 100,000-job report is never held, and the columns still count every job.
 */
export function buildGrid(reportJobs: Iterable<ReportJob>, maxClips = Number.POSITIVE_INFINITY, onClip?: ClipSink): GalleryGrid {
  const columns = new Map<string, { index: number; variant: Variant; common: Common; totals: ColumnTotals }>();
  const all = new Common();
  // A row's key holds its repeat whether or not the batch has repeats: without them, every
  // repeat is 1 and the rows are the same.
  const rows = new Map<string, RowDraft | undefined>();
  let anyRepeat = false;
  let anyPromptVaries = false;
  let clipCount = 0;
  let keptClips = 0;
  for (const job of reportJobs) {
    // Jobs no longer in the manifest belong to another plan: the header counts them, the grid does not.
    if (job.params === null || !job.in_manifest) continue;
    const gridJob = job as GridJob;
    clipCount += 1;
    anyRepeat ||= (job.repeat ?? 1) > 1;
    anyPromptVaries ||= promptVaries(gridJob);
    const texts = textsOf(gridJob);
    all.add(texts);
    const source = sourceOf(gridJob);
    const columnKey = variantKey(source);
    let column = columns.get(columnKey);
    if (!column) columns.set(columnKey, (column = { index: columns.size, variant: variantOf(source), common: new Common(), totals: new ColumnTotals() }));
    column.common.add(texts);
    column.totals.add(gridJob);
    onClip?.(gridJob, column.index);
    const key = rowKey(gridJob);
    let row = rows.get(key);
    if (!rows.has(key)) rows.set(key, (row = rows.size === 0 || keptClips < maxClips ? { first: gridJob, common: new Common(), extra: new CommonExtra(), cells: new Map() } : undefined));
    if (!row) continue;
    keptClips += 1;
    row.common.add(texts);
    row.extra.add(job.extra);
    row.cells.set(columnKey, [...(row.cells.get(columnKey) ?? []), gridJob]);
  }

  // A column's value of a field: its jobs' common value ('–' when unset), or "mixed" when they differ.
  const groups = [...columns.values()];
  const columnText = (common: Common, field: ShownField): string => common.of(field) ?? 'mixed';
  const labelled = differingFields(SHOWN_FIELDS.filter((field) => field !== 'prompt' || anyPromptVaries), groups, ({ common }, field) => columnText(common, field));
  // The prompt is always shown with its row (or in the column labels when the matrix sweeps it).
  const constants = SHOWN_FIELDS.filter((field) => field !== 'prompt' && !labelled.includes(field) && all.of(field) !== undefined);
  const others = SHOWN_FIELDS.filter((field) => !labelled.includes(field) && !constants.includes(field) && field !== 'prompt');
  const shown = (pairs: readonly (readonly [string, string | undefined])[]): Labels =>
    pairs.filter((pair): pair is readonly [string, string] => pair[1] !== undefined && pair[1] !== '–');

  const drafts = [...rows].flatMap(([key, row]) => (row ? [[key, row] as const] : []));
  return {
    // '–' is kept in labels: "no sound field" is a value when other columns have one.
    // A template variable of the matrix (`motion`) is no request field: its column says it from the variant.
    columns: groups.map(({ variant, common, totals }) => ({ key: variant.key, label: [...labelled.map((field) => [field, columnText(common, field)] as const), ...variant.fields.filter(([field]) => !(field in FIELDS)).map(([field, value]) => [field, String(value)] as const)], stats: totals.stats() })),
    rows: drafts.map(([key, { first, common, extra, cells }]) => ({
      key,
      image: frameOf(first.params),
      prompt: promptVaries(first) ? null : (first.params.prompt ?? null),
      promptVaries: promptVaries(first),
      repeat: anyRepeat ? first.repeat : null,
      details: [...(isEndFrameOnly(first.params) ? [END_FRAME_LABEL] : []), ...shown(others.map((field) => [field, common.of(field)] as const))],
      clipFields: others.filter((field) => common.of(field) === undefined),
      extra: extra.shared,
      clipExtra: extra.differing,
      cells,
    })),
    rowCount: rows.size,
    clipCount,
    constants: clipCount > 0 ? shown(constants.map((field) => [field, all.of(field)] as const)) : [],
  };
}

/** What a clip shows of the fields, and of the table's columns, that differ within its row. */
export const clipLabels = (job: GridJob, fields: readonly string[], extra: readonly string[] = []): Labels => [
  ...fields.map((field) => [field, fieldText(job.params, field as ShownField)] as const).filter(([, value]) => value !== '–'),
  ...extra.flatMap((name) => (job.extra?.[name] === undefined ? [] : [[name, job.extra[name]] as const])),
];

const secondsOf = (job: GridJob): number => job.video?.duration_s ?? Number(job.params.duration ?? API_DEFAULTS.duration);

/** The figures of one column's jobs. */
export function columnStats(jobs: Iterable<GridJob>): ColumnStats {
  const totals = new ColumnTotals();
  for (const job of jobs) totals.add(job);
  return totals.stats();
}
