// `export --copy-to DIR`: a dataset folder that travels on its own. The clips lie flat with a
// metadata file beside them, the layout Hugging Face's videofolder loader reads (a `file_name`
// column naming each clip); the source images they were made from are under `images/`; every
// path in the metadata is relative to DIR, so DIR can be moved or uploaded as it is.
import { mkdirSync } from 'node:fs';
import { join, posix } from 'node:path';
import type { ImageRef } from '../plan/schema.js';
import { writeFileAtomic } from './write.js';
import { type PlacedFile, placeFile } from './copy-file.js';
import { type CsvOptions, type ExportFormat, type ExportOptions, type ExportRow, exportRows, formatRows } from './export.js';
import type { Report, ReportJob } from './schema.js';
import { imageFromOutput } from './source-paths.js';

export const RERUN_HINT = 'Rerun `klingrun run <manifest>` with this output folder: it downloads missing or damaged videos again.';
const IMAGE_HINT =
  'Source images are read where the run found them, relative to its manifest; put the image back as it was, or export without --copy-to.';
export const IMAGES_FOLDER = 'images';

type FileRef = ImageRef & { kind: 'file' };

/** Flat, unique file names: the video's own name, prefixed with its variant folder if two collide. */
export function flatFileNames(report: Report): Map<string, string> {
  const names = new Map<string, string>();
  const taken = new Set<string>();
  for (const job of report.jobs) {
    const path = job.status === 'succeeded' ? job.video?.path : undefined;
    if (!path) continue;
    let name = posix.basename(path);
    if (taken.has(name)) name = `${posix.basename(posix.dirname(path))}__${name}`;
    taken.add(name);
    names.set(job.id, name);
  }
  return names;
}

/** Every local image a job was made from: its image, end frame and masks. */
function localImages(job: ReportJob): FileRef[] {
  const p = job.params;
  if (!p) return [];
  const refs = [p.image, p.image_tail, p.static_mask, ...(p.dynamic_masks ?? []).map((m) => m.mask)];
  return refs.filter((ref): ref is FileRef => ref?.kind === 'file');
}

/**
 * `images/<file name>` per image content (sha256). A name two different images share gets the
 * content's hash, for both, so a name never depends on which jobs are exported.
 */
export function imageNames(report: Report): Map<string, string> {
  const byName = new Map<string, Set<string>>();
  const nameOf = new Map<string, string>();
  for (const ref of report.jobs.flatMap(localImages)) {
    const name = posix.basename(ref.path);
    byName.set(name, (byName.get(name) ?? new Set()).add(ref.sha256));
    if (!nameOf.has(ref.sha256)) nameOf.set(ref.sha256, name);
  }
  const names = new Map<string, string>();
  for (const [sha256, name] of nameOf) {
    const unique = (byName.get(name)?.size ?? 0) === 1 ? name : name.replace(/(\.[^.]*)?$/, (ext) => `__${sha256.slice(0, 12)}${ext}`);
    names.set(sha256, posix.join(IMAGES_FOLDER, unique));
  }
  return names;
}

/** Which jobs become rows: by state, by `--where`, with the folder's ratings for the `rating` column. */
export type RowSelection = Pick<ExportOptions, 'statuses' | 'where' | 'ratings'>;

export interface DatasetRows {
  /** One row per selected downloaded clip, `file_name` first. */
  readonly rows: ExportRow[];
  /** The clip's file name per job id. */
  readonly fileNames: ReadonlyMap<string, string>;
  /** `images/<file>` per source image sha256. */
  readonly images: ReadonlyMap<string, string>;
}

/**
 * The rows of a dataset folder: the selected jobs whose clip was downloaded, each clip named by its
 * flat file name and each source image `<imageBase>images/<file>` (the metadata file's way there).
 */
export function datasetRows(report: Report, select: RowSelection, imageBase = ''): DatasetRows {
  const fileNames = flatFileNames(report);
  const images = imageNames(report);
  const paths = { video: (job: ReportJob) => fileNames.get(job.id) ?? null, image: (ref: FileRef) => imageBase + (images.get(ref.sha256) as string) };
  const rows = exportRows(report, { ...select, fileNames, paths }).filter((row) => typeof row.file_name === 'string');
  return { rows, fileNames, images };
}

/** A job's clip in its output folder, and what to check it against. */
export function clipSource(job: ReportJob, outputDir: string): { from: string; file: PlacedFile } {
  return { from: join(outputDir, job.video?.path as string), file: { what: 'video', sha256: job.video?.sha256 ?? null, hint: RERUN_HINT } };
}

/** A job's local source images in the output folder's terms, and what to check each against. */
export function imageSources(report: Report, job: ReportJob, outputDir: string): { ref: FileRef; from: string; file: PlacedFile }[] {
  return localImages(job).map((ref) => ({ ref, from: join(outputDir, imageFromOutput(report.manifest.path, ref)), file: { what: 'source image', sha256: ref.sha256, hint: IMAGE_HINT } }));
}

/**
 * Places the clip of every row at `clipAt(job id, file name)` under `destDir`, and their source
 * images under `destDir/images/`; returns how many images it placed.
 */
export function placeSources(report: Report, outputDir: string, destDir: string, data: DatasetRows, clipAt: (jobId: string, fileName: string) => string = (_, name) => name): number {
  const selected = new Set(data.rows.map((row) => row.job_id));
  const placed = new Set<string>();
  for (const job of report.jobs) {
    const name = data.fileNames.get(job.id);
    if (name === undefined || !selected.has(job.id)) continue;
    const clip = clipSource(job, outputDir);
    placeFile(clip.from, join(destDir, clipAt(job.id, name)), clip.file);
    for (const { ref, from, file } of imageSources(report, job, outputDir)) {
      if (placed.has(ref.sha256)) continue;
      placed.add(ref.sha256);
      placeFile(from, join(destDir, data.images.get(ref.sha256) as string), file);
    }
  }
  return placed.size;
}

export interface DatasetFolderResult {
  /** The metadata file written. */
  readonly metadata: string;
  readonly rows: readonly ExportRow[];
  /** Source images placed under images/. */
  readonly images: number;
}

/**
 * Copies (or hard-links) every downloaded clip of the report's selected jobs from `outputDir` into
 * `destDir`, and the source images of those clips into `destDir/images/`, and writes
 * `metadata.jsonl|csv` beside them (a CSV as `csv` says). Jobs without a clip on disk are left out.
 */
export function writeDatasetFolder(report: Report, outputDir: string, destDir: string, format: ExportFormat, select: RowSelection = {}, csv: CsvOptions = {}): DatasetFolderResult {
  const data = datasetRows(report, select);
  const images = placeSources(report, outputDir, destDir, data);
  mkdirSync(destDir, { recursive: true });
  const metadata = join(destDir, `metadata.${format}`);
  writeFileAtomic(metadata, formatRows(data.rows, format, csv));
  return { metadata, rows: data.rows, images };
}
