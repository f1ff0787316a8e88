// `export --format webdataset --copy-to DIR`: the clips as WebDataset tar shards, for sets too
// large to keep as loose files. A sample is the consecutive entries sharing a key (the name up to
// its first dot): `<key>.mp4` (the clip), `<key>.png|jpg|…` (its source image, when it is a local
// file) and `<key>.json` (the dataset's columns). The key is the job id, which has no dot and is
// unique. Shards hold `--shard-size` samples each: `shard-000000.tar`, `shard-000001.tar`… in DIR,
// or in DIR/<split>/ when the export is split.
import { join, posix } from 'node:path';
import { type RowSelection, clipSource, imageSources } from './dataset-folder.js';
import { readChecked } from './copy-file.js';
import type { ExportRow } from './export.js';
import { type TypedColumn, countSplits, nonEmptyRows, typedColumns, typedLine } from './hf.js';
import type { Report, ReportJob } from './schema.js';
import { type SplitRule, splitsOf } from './splits.js';
import { type TarEntry, writeTar } from './tar.js';

export const DEFAULT_SHARD_SIZE = 1000;

export interface WebDatasetOptions {
  readonly select?: RowSelection;
  readonly split?: SplitRule | undefined;
  /** Samples per shard. */
  readonly shardSize: number;
}

export interface WebDatasetResult {
  readonly rows: readonly ExportRow[];
  /** The shards written, relative to DIR. */
  readonly shards: readonly string[];
  readonly splits: ReadonlyMap<string, number>;
}

const shardName = (index: number): string => `shard-${String(index).padStart(6, '0')}.tar`;

/** A source image's extension as WebDataset decoders expect it (`jpeg` is `jpg`). */
const imageExtension = (path: string): string => posix.extname(path).slice(1).toLowerCase().replace(/^jpeg$/, 'jpg') || 'img';

/** The entries of one sample: clip, source image, columns. */
function* sampleEntries(report: Report, job: ReportJob, row: ExportRow, columns: readonly TypedColumn[], outputDir: string): Generator<TarEntry> {
  const key = job.id;
  const mtime = job.finished_at ? Date.parse(job.finished_at) / 1000 : 0;
  const clip = clipSource(job, outputDir);
  yield { name: `${key}.mp4`, data: readChecked(clip.from, clip.file), mtime };
  const image = imageSources(report, job, outputDir).find(({ ref }) => ref === job.params?.image);
  const imageEntry = image ? `${key}.${imageExtension(image.ref.path)}` : null;
  if (image && imageEntry) yield { name: imageEntry, data: readChecked(image.from, image.file), mtime };
  const override = { file_name: `${key}.mp4`, ...(imageEntry ? { image: imageEntry } : {}) };
  yield { name: `${key}.json`, data: Buffer.from(typedLine(row, columns, override)), mtime };
}

/** Writes the shards into `destDir` (each checked clip and image read once, one shard at a time). */
export function writeWebDataset(report: Report, outputDir: string, destDir: string, options: WebDatasetOptions): WebDatasetResult {
  const data = nonEmptyRows(report, options.select ?? {}, '');
  const splits = splitsOf(data.rows, options.split);
  const { columns } = typedColumns(data.rows, splits);
  const jobs = new Map(report.jobs.map((job) => [job.id, job]));
  const counts = countSplits(data.rows, splits);
  const shards: string[] = [];
  for (const split of counts.keys()) {
    const rows = data.rows.filter((row) => splits.get(String(row.job_id)) === split);
    // At least one sample a shard, whatever a caller passes: a shard of none would never end.
    const size = Math.max(1, Math.floor(options.shardSize));
    for (let start = 0, index = 0; start < rows.length; start += size, index++) {
      const shard = posix.join(options.split ? split : '', shardName(index));
      const samples = rows.slice(start, start + size);
      writeTar(join(destDir, shard), (function* () {
        for (const row of samples) yield* sampleEntries(report, jobs.get(String(row.job_id)) as ReportJob, row, columns, outputDir);
      })(), 'Choose a folder you can write to, with room for the shards.');
      shards.push(shard);
    }
  }
  return { rows: data.rows, shards, splits: counts };
}
