// `export --copy-to DIR`: a dataset folder that travels on its own. The clips lie flat with a
// metadata file beside them, the layout Hugging Face's videofolder loader reads (a `file_name`
// column naming each clip); the source images they were made from are under `images/`; every
// path in the metadata is relative to DIR, so DIR can be moved or uploaded as it is.
import { mkdirSync } from 'node:fs';
import { join, posix } from 'node:path';
import type { ImageRef } from '../plan/schema.js';
import { writeFileAtomic } from './write.js';
import { placeFile } from './copy-file.js';
import { type CsvOptions, type ExportFormat, type ExportRow, exportRows, formatRows } from './export.js';
import type { Report, ReportJob, ReportStatus } from './schema.js';
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

export interface DatasetFolderResult {
  /** The metadata file written. */
  readonly metadata: string;
  readonly rows: readonly ExportRow[];
  /** Source images placed under images/. */
  readonly images: number;
}

/**
 * Copies (or hard-links) every downloaded clip of the report from `outputDir` into `destDir`, and
 * the source images of those clips into `destDir/images/`, and writes `metadata.jsonl|csv` beside
 * them (a CSV as `csv` says). Jobs without a clip on disk are left out.
 */
export function writeDatasetFolder(report: Report, outputDir: string, destDir: string, format: ExportFormat, statuses?: ReadonlySet<ReportStatus>, csv: CsvOptions = {}): DatasetFolderResult {
  const fileNames = flatFileNames(report);
  const images = imageNames(report);
  const paths = { video: (job: ReportJob) => fileNames.get(job.id) ?? null, image: (ref: FileRef) => images.get(ref.sha256) as string };
  const rows = exportRows(report, { statuses, fileNames, paths }).filter((row) => typeof row.file_name === 'string');
  const placed = new Set<string>();
  for (const job of report.jobs) {
    const name = fileNames.get(job.id);
    if (name === undefined || (statuses && !statuses.has(job.status))) continue;
    placeFile(join(outputDir, job.video?.path as string), join(destDir, name), { what: 'video', sha256: job.video?.sha256 ?? null, hint: RERUN_HINT });
    for (const ref of localImages(job)) {
      if (placed.has(ref.sha256)) continue;
      placed.add(ref.sha256);
      const from = join(outputDir, imageFromOutput(report.manifest.path, ref));
      placeFile(from, join(destDir, images.get(ref.sha256) as string), { what: 'source image', sha256: ref.sha256, hint: IMAGE_HINT });
    }
  }
  mkdirSync(destDir, { recursive: true });
  const metadata = join(destDir, `metadata.${format}`);
  writeFileAtomic(metadata, formatRows(rows, format, csv));
  return { metadata, rows, images: placed.size };
}
