// The dataset export: one flat row per clip, as JSON Lines or CSV (RFC 4180). Pure: rows come
// from the report alone. The columns are documented in docs/export-columns.md; keep the two in step.
import { resolve } from 'node:path';
import { API_DEFAULTS } from '../api/schemas.js';
import type { ImageRef } from '../plan/schema.js';
import { variantOf } from '../plan/variants.js';
import { MANIFEST_FIELDS, sourceOf } from '../request/fields.js';
import type { Rating } from './ratings.js';
import type { Report, ReportJob, ReportStatus } from './schema.js';
import { imageFromOutput } from './source-paths.js';
import { type WhereCondition, checkColumns, whereRows } from './where.js';

export const EXPORT_FORMATS = ['jsonl', 'csv'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export type ExportValue = string | number | boolean | null;
export type ExportRow = Readonly<Record<string, ExportValue>>;

/** Every column a row always has, in output order; a job's `extra` columns follow them. */
export const BASE_COLUMNS = [
  'video_path', 'video_sha256', 'video_bytes', 'duration_s', 'width', 'height', 'fps', 'codec', 'frames',
  'status', 'job_id', 'external_task_id', 'task_id',
  'model_name', 'mode', 'duration', 'prompt', 'negative_prompt', 'cfg_scale', 'sound', 'callback_url',
  'image', 'image_sha256', 'image_width', 'image_height',
  'image_tail', 'image_tail_sha256', 'static_mask', 'static_mask_sha256', 'dynamic_masks',
  'entry', 'repeat', 'name', 'attempts', 'cost_usd', 'latency_s', 'submitted_at', 'finished_at', 'error_code', 'error_message',
  'variant', 'rating',
] as const;

/** How rows name files: a job's clip and a source image (an image's URL stays its URL). */
export interface RowPaths {
  video(job: ReportJob): string | null;
  image(ref: ImageRef & { kind: 'file' }): string;
}

/** Paths relative to the output folder, or absolute when given the folder's absolute path. */
export function outputPaths(report: Pick<Report, 'manifest'>, absoluteDir?: string): RowPaths {
  const from = (path: string) => (absoluteDir === undefined ? path : resolve(absoluteDir, path));
  return {
    video: (job) => (job.video?.path ? from(job.video.path) : null),
    image: (ref) => from(imageFromOutput(report.manifest.path, ref)),
  };
}

export interface ExportOptions {
  /** Only jobs in these states. @default every job of the report */
  readonly statuses?: ReadonlySet<ReportStatus> | undefined;
  /** A `file_name` (first column) per job id, for a metadata file beside copied clips. */
  readonly fileNames?: ReadonlyMap<string, string> | undefined;
  /** How files are named. @default outputPaths(report): relative to the output folder */
  readonly paths?: RowPaths | undefined;
  /** The folder's verdicts (ratings.json), for the `rating` column. @default none: every clip unrated */
  readonly ratings?: ReadonlyMap<string, Rating> | undefined;
  /** Only rows meeting every condition (`--where`); a condition on an unknown column is a UsageError. */
  readonly where?: readonly WhereCondition[] | undefined;
}

const shaOf = (ref: ImageRef | undefined): string | null => (ref?.kind === 'file' ? ref.sha256 : null);

/**
 * The fields only Kling documents (camera_control, multi_prompt…): a column each when a job sets
 * it, after the base columns, so an export without them keeps the columns it has always had.
 */
const KLING_FIELDS = MANIFEST_FIELDS.filter((field) => sourceOf(field) === 'Kling');

/** An extra column named like a built-in one keeps its value under `extra_<name>`. */
const extraColumn = (key: string): string =>
  (BASE_COLUMNS as readonly string[]).includes(key) || (KLING_FIELDS as readonly string[]).includes(key) || key === 'file_name' ? `extra_${key}` : key;

/** A Kling-only field's cell: text as is, other values as JSON text (rows stay flat). */
function klingCells(p: ReportJob['params']): ExportRow {
  const set = KLING_FIELDS.flatMap((field) => (p?.[field] === undefined ? [] : [[field, p[field]] as const]));
  return Object.fromEntries(set.map(([field, value]) => [field, typeof value === 'string' ? value : JSON.stringify(value)]));
}

function rowOf(job: ReportJob, fileName: string | undefined, paths: RowPaths, rating: Rating | undefined): ExportRow {
  const p = job.params;
  const video = job.video;
  const imageOf = (ref: ImageRef | undefined): string | null => (ref === undefined ? null : ref.kind === 'file' ? paths.image(ref) : ref.url);
  const duration = p ? Number(p.duration ?? API_DEFAULTS.duration) : null;
  return {
    ...(fileName !== undefined ? { file_name: fileName } : {}),
    video_path: paths.video(job),
    video_sha256: video?.sha256 ?? null,
    video_bytes: video?.bytes ?? null,
    duration_s: video?.duration_s ?? null,
    width: video?.width ?? null,
    height: video?.height ?? null,
    fps: video?.fps ?? null,
    codec: video?.codec ?? null,
    frames: video?.frames ?? null,
    status: job.status,
    job_id: job.id,
    external_task_id: job.external_task_id,
    task_id: job.task_id,
    model_name: p ? (p.model_name ?? API_DEFAULTS.model_name) : null,
    mode: p?.mode ?? null,
    duration,
    prompt: p?.prompt ?? null,
    negative_prompt: p?.negative_prompt ?? null,
    cfg_scale: p?.cfg_scale ?? null,
    sound: p?.sound ?? null,
    callback_url: p?.callback_url ?? null,
    image: imageOf(p?.image),
    image_sha256: shaOf(p?.image),
    image_width: p?.image?.kind === 'file' ? p.image.width : null,
    image_height: p?.image?.kind === 'file' ? p.image.height : null,
    image_tail: imageOf(p?.image_tail),
    image_tail_sha256: shaOf(p?.image_tail),
    static_mask: imageOf(p?.static_mask),
    static_mask_sha256: shaOf(p?.static_mask),
    // Nested data as JSON text, so JSONL and CSV rows have the same flat shape.
    dynamic_masks: p?.dynamic_masks ? JSON.stringify(p.dynamic_masks.map((m) => ({ mask: imageOf(m.mask), trajectories: m.trajectories }))) : null,
    entry: job.entry,
    repeat: job.repeat,
    name: job.name ?? null,
    attempts: job.attempts,
    cost_usd: job.cost_usd,
    latency_s: job.latency_s,
    submitted_at: job.submitted_at,
    finished_at: job.finished_at,
    error_code: job.error ? String(job.error.code) : null,
    error_message: job.error?.message ?? null,
    // The videos folder's name: shell-safe, so `--where variant=…` is easy to type.
    variant: p ? variantOf({ request: p, variant: job.variant }).folder : null,
    rating: rating ?? null,
    ...klingCells(p),
    ...Object.fromEntries(Object.entries(job.extra ?? {}).map(([key, value]) => [extraColumn(key), value])),
  };
}

/** The rows of `jobs` (in their order), filtered by status, then by `where` (checked first: see checkWhere); made as they are read. */
export function* jobRows(jobs: Iterable<ReportJob>, options: ExportOptions, paths: RowPaths): Generator<ExportRow> {
  for (const job of jobs) {
    if (options.statuses && !options.statuses.has(job.status)) continue;
    const row = rowOf(job, options.fileNames?.get(job.id), paths, options.ratings?.get(job.id));
    if (!options.where?.length || whereRows([row], options.where).length) yield row;
  }
}

/** Throws a UsageError when a `where` condition names no column: a table's column is known even when the jobs carrying it were filtered out by status. */
export function checkWhere(jobs: Iterable<ReportJob>, options: ExportOptions, paths: RowPaths): void {
  if (!options.where?.length) return;
  const columns = new ColumnSet();
  for (const job of jobs) {
    for (const key of Object.keys(job.extra ?? {})) columns.add(extraColumn(key));
    if (!options.statuses || options.statuses.has(job.status)) columns.addRow(rowOf(job, options.fileNames?.get(job.id), paths, options.ratings?.get(job.id)));
  }
  checkColumns(options.where, columns.list());
}

/** One row per job of the report (in report order), filtered by status, then by `where`. */
export function exportRows(report: Report, options: ExportOptions = {}): ExportRow[] {
  const paths = options.paths ?? outputPaths(report);
  checkWhere(report.jobs, options, paths);
  return [...jobRows(report.jobs, options, paths)];
}

/** Columns as columnsOf orders them, gathered a row at a time. */
class ColumnSet {
  readonly #seen = new Set<string>();
  add(column: string): void {
    this.#seen.add(column);
  }
  addRow(row: ExportRow): void {
    for (const key of Object.keys(row)) this.#seen.add(key);
  }
  list(): string[] {
    return [...new Set([...(this.#seen.has('file_name') ? ['file_name'] : []), ...BASE_COLUMNS, ...this.#seen])];
  }
}

/** The columns of a set of rows: file_name when present, the base columns, then extras as first seen. */
export function columnsOf(rows: Iterable<ExportRow>): string[] {
  const columns = new ColumnSet();
  for (const row of rows) columns.addRow(row);
  return columns.list();
}

const jsonlLine = (row: ExportRow, columns: readonly string[]): string => `${JSON.stringify(Object.fromEntries(columns.map((c) => [c, row[c] ?? null])))}\n`;

/** JSON Lines: one object per line with every column (null when a row has no value). */
export function toJsonl(rows: readonly ExportRow[], columns = columnsOf(rows)): string {
  return rows.map((row) => jsonlLine(row, columns)).join('');
}

/**
 * A text cell starting with one of these is read as a formula by spreadsheet programs (Excel,
 * LibreOffice, Google Sheets), and a prompt or a table's column is text anyone may have written.
 */
const FORMULA_START = /^[=+\-@\t\r]/;

export interface CsvOptions {
  /**
   * Write text cells exactly. By default a text cell starting with `=`, `+`, `-`, `@`, a tab or a
   * carriage return gets a leading `'`, as OWASP advises against CSV injection; numbers, which the
   * export writes itself (e.g. `-1.5`), are never changed. @default false
   */
  readonly raw?: boolean;
}

/** A CSV field per RFC 4180: quoted when it holds a comma, a quote or a line break. */
export function csvField(value: ExportValue | undefined, options: CsvOptions = {}): string {
  if (value === null || value === undefined) return '';
  const text = typeof value === 'string' && !options.raw && FORMULA_START.test(value) ? `'${value}` : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

const csvLine = (values: readonly (ExportValue | undefined)[], options: CsvOptions): string => `${values.map((value) => csvField(value, options)).join(',')}\r\n`;

/** CSV with a header line and CRLF line ends (RFC 4180); null is an empty field. */
export function toCsv(rows: readonly ExportRow[], columns = columnsOf(rows), options: CsvOptions = {}): string {
  return [csvLine(columns, options), ...rows.map((row) => csvLine(columns.map((c) => row[c]), options))].join('');
}

/** The rows as `format`; `csv` applies to CSV only (JSON Lines keeps every value exactly). */
export function formatRows(rows: readonly ExportRow[], format: ExportFormat, csv: CsvOptions = {}): string {
  return format === 'csv' ? toCsv(rows, columnsOf(rows), csv) : toJsonl(rows);
}

/** Characters of rows per piece of streamed text: few writes, no text of the whole export. */
const PIECE = 1 << 16;

/**
 * The rows as `format`, in pieces, never all held: `rows` is read twice, once for the columns
 * (every row's own, as formatRows writes them) and once for the text.
 */
export function* formatRowStream(rows: () => Iterable<ExportRow>, format: ExportFormat, csv: CsvOptions = {}): Generator<string> {
  const columns = columnsOf(rows());
  let piece = format === 'csv' ? csvLine(columns, csv) : '';
  for (const row of rows()) {
    piece += format === 'csv' ? csvLine(columns.map((c) => row[c]), csv) : jsonlLine(row, columns);
    if (piece.length < PIECE) continue;
    yield piece;
    piece = '';
  }
  if (piece) yield piece;
}
