// `export --format hf --copy-to DIR`: a folder Hugging Face `datasets` loads with its `videofolder`
// builder. Each split is a folder of clips with its own metadata.jsonl, whose `file_name` names a
// clip relative to that file (the builder resolves it from the metadata file's folder and loads it
// as the `video` column); the source images lie once under DIR/images/; README.md is the dataset
// card, its YAML header naming the splits' files (`configs`), the columns (`dataset_info`) and the
// license. Facts from huggingface.co/docs/datasets/video_dataset and
// huggingface.co/docs/hub/datasets-manual-configuration, as docs/datasets.md cites them.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { InputError } from '../errors.js';
import { type DatasetRows, type RowSelection, datasetRows, placeSources } from './dataset-folder.js';
import type { ExportRow, ExportValue } from './export.js';
import type { Report } from './schema.js';
import { type SplitRule, describeRule, splitsOf } from './splits.js';
import { writeFileAtomic } from './write.js';

/** Columns of the plain export that say how the batch ran, not what a clip is: left out of a dataset. */
const BOOKKEEPING = new Set(['video_path', 'status', 'external_task_id', 'attempts', 'error_code', 'error_message', 'submitted_at', 'finished_at', 'latency_s', 'callback_url']);

export type Dtype = 'string' | 'int64' | 'float64' | 'bool';

export interface TypedColumn {
  readonly name: string;
  readonly dtype: Dtype;
}

/** Measured numbers that happen to be whole in one export and not in another: always float64. */
const FLOAT_COLUMNS = new Set(['duration_s', 'fps', 'cfg_scale', 'cost_usd']);

function dtypeOf(name: string, values: readonly ExportValue[]): Dtype | undefined {
  const kinds = new Set(values.filter((v) => v !== null).map((v) => (typeof v === 'number' ? (Number.isInteger(v) ? 'int64' : 'float64') : typeof v === 'boolean' ? 'bool' : 'string')));
  if (kinds.size === 0) return undefined;
  if (kinds.size === 1) return kinds.has('int64') && FLOAT_COLUMNS.has(name) ? 'float64' : ([...kinds][0] as Dtype);
  return kinds.has('string') || kinds.has('bool') ? 'string' : 'float64';
}

/**
 * The dataset's columns, each with one type for every split: the metadata reader infers a type per
 * metadata file and the builder refuses splits whose types differ. So text is never null (empty
 * instead), and a number column without a value in some split is left out (it would read as null
 * there), as is a column with no value at all. Returns the columns kept and the numbers left out.
 */
export function typedColumns(rows: readonly ExportRow[], splits: ReadonlyMap<string, string>): { columns: TypedColumn[]; dropped: string[] } {
  const names = [...new Set(rows.flatMap((row) => Object.keys(row)))].filter((name) => !BOOKKEEPING.has(name));
  const splitNames = new Set(splits.values());
  const columns: TypedColumn[] = [];
  const dropped: string[] = [];
  for (const name of names) {
    const dtype = dtypeOf(name, rows.map((row) => row[name] ?? null));
    const inEverySplit = [...splitNames].every((split) => rows.some((row) => splits.get(String(row.job_id)) === split && (row[name] ?? null) !== null));
    if (dtype === undefined) continue; // no value anywhere: nothing to say
    if (dtype === 'string' || inEverySplit) columns.push({ name, dtype });
    else dropped.push(name);
  }
  return { columns, dropped };
}

/** A cell as its column's JSON: text never null, a float always with a point (so it never reads as an integer). */
function jsonCell(value: ExportValue | undefined, dtype: Dtype): string {
  if (dtype === 'string') return JSON.stringify(value === null || value === undefined ? '' : String(value));
  if (value === null || value === undefined) return 'null';
  if (dtype === 'float64' && Number.isInteger(value) && Math.abs(value as number) < 1e15) return `${String(value)}.0`;
  return JSON.stringify(value);
}

/** One JSON object line with the typed columns, in order. */
export function typedLine(row: ExportRow, columns: readonly TypedColumn[], override: Readonly<Record<string, ExportValue>> = {}): string {
  const cells = columns.map((c) => `${JSON.stringify(c.name)}:${jsonCell(c.name in override ? override[c.name] : row[c.name], c.dtype)}`);
  return `{${cells.join(',')}}\n`;
}

export interface HfOptions {
  readonly select?: RowSelection;
  readonly split?: SplitRule | undefined;
  /** The card's `license` (an SPDX-like id the Hub knows, or `other`). */
  readonly license: string;
  /** How the rows were chosen, for the card, e.g. `--where rating=keep`. */
  readonly selection?: readonly string[];
}

export interface HfResult {
  readonly rows: readonly ExportRow[];
  /** Clips per split, in first-seen order. */
  readonly splits: ReadonlyMap<string, number>;
  readonly images: number;
  readonly card: string;
  readonly dropped: readonly string[];
}

/** Clips per split, splits in the order of their first clip. */
export function countSplits(rows: readonly ExportRow[], splits: ReadonlyMap<string, string>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const row of rows) {
    const split = splits.get(String(row.job_id)) as string;
    counts.set(split, (counts.get(split) ?? 0) + 1);
  }
  return counts;
}

/** The rows to export, refusing an empty selection (a dataset without a clip loads as an error). */
export function nonEmptyRows(report: Report, select: RowSelection, imageBase: string): DatasetRows {
  const data = datasetRows(report, select, imageBase);
  if (data.rows.length === 0) {
    throw new InputError('input_missing', 'No downloaded clip matches this export (--status, --where), so there is no dataset to write. Check the filters with `klingrun export <folder> --where …` first, or finish the run.');
  }
  return data;
}

/** Writes the videofolder dataset into `destDir` (clips hard-linked or copied, each checked). */
export function writeHfFolder(report: Report, outputDir: string, destDir: string, options: HfOptions): HfResult {
  const data = nonEmptyRows(report, options.select ?? {}, '../');
  const splits = splitsOf(data.rows, options.split);
  const images = placeSources(report, outputDir, destDir, data, (jobId, name) => `${splits.get(jobId) as string}/${name}`);
  const { columns, dropped } = typedColumns(data.rows, splits);
  const counts = countSplits(data.rows, splits);
  for (const split of counts.keys()) {
    const lines = data.rows.filter((row) => splits.get(String(row.job_id)) === split).map((row) => typedLine(row, columns));
    mkdirSync(join(destDir, split), { recursive: true });
    writeFileAtomic(join(destDir, split, 'metadata.jsonl'), lines.join(''));
  }
  const card = join(destDir, 'README.md');
  writeFileAtomic(card, datasetCard(report, data.rows, columns, counts, options));
  return { rows: data.rows, splits: counts, images, card, dropped };
}

/** The Hub's size buckets, by number of examples. */
function sizeCategory(n: number): string {
  const buckets = ['n<1K', '1K<n<10K', '10K<n<100K', '100K<n<1M', '1M<n<10M'];
  return buckets[Math.min(buckets.length - 1, Math.max(0, Math.floor(Math.log10(Math.max(1, n))) - 2))] as string;
}

/** `a (3), b (1)`: a column's values with their counts, most first. */
function tally(rows: readonly ExportRow[], column: string): string {
  const counts = new Map<string, number>();
  for (const row of rows) if (row[column] !== null && row[column] !== undefined) counts.set(String(row[column]), (counts.get(String(row[column])) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1]).map(([value, n]) => `\`${value}\` (${n})`).join(', ') || 'none recorded';
}

/** README.md: the YAML header the Hub and `load_dataset` read, then how the set was made. */
export function datasetCard(report: Report, rows: readonly ExportRow[], columns: readonly TypedColumn[], counts: ReadonlyMap<string, number>, options: HfOptions): string {
  const header = {
    license: options.license,
    task_categories: ['image-to-video'],
    tags: ['video', 'synthetic', 'kling', 'klingrun'],
    size_categories: [sizeCategory(rows.length)],
    configs: [{ config_name: 'default', data_files: [...counts.keys()].map((split) => ({ split, path: `${split}/*` })) }],
    dataset_info: {
      // The builder loads `file_name` as the clip itself, in a column named `video`.
      features: columns.map((c) => (c.name === 'file_name' ? { name: 'video', dtype: 'video' } : { name: c.name, dtype: c.dtype })),
      splits: [...counts].map(([name, n]) => ({ name, num_examples: n })),
    },
  };
  const name = report.manifest.name;
  const body = [
    `# ${name}`,
    '',
    `Image-to-video clips made with klingrun ${report.tool.version} from the manifest \`${name}\` (\`${report.manifest.path}\`, sha256 \`${report.manifest.sha256.slice(0, 12)}…\`), exported by \`klingrun export --format hf\`.`,
    '',
    `- Clips: ${rows.length} (${[...counts].map(([split, n]) => `${split}: ${n}`).join(', ')})`,
    `- Splits: ${describeRule(options.split)}`,
    `- Models: ${tally(rows, 'model_name')}`,
    `- Modes: ${tally(rows, 'mode')}`,
    `- Durations (s): ${tally(rows, 'duration')}`,
    `- Selection: ${options.selection?.length ? options.selection.map((s) => `\`${s}\``).join(', ') : 'every downloaded clip'}`,
    ...(options.license === 'other' ? ['- License: not set (`other`); state the terms that apply to these clips and their source images.'] : []),
    '',
    '## Loading',
    '',
    '```python',
    'from datasets import load_dataset',
    '',
    'ds = load_dataset("path/to/this/folder")  # the splits above, from this card',
    '```',
    '',
    'Each split folder holds its clips and a `metadata.jsonl`; `file_name` is the clip (loaded as `video`), `image` is',
    'the source image the clip was made from, relative to the split folder (under `images/`). The other columns are',
    'described in klingrun\'s docs/export-columns.md.',
    '',
  ];
  return `---\n${stringify(header, { lineWidth: 0 })}---\n\n${body.join('\n')}`;
}
