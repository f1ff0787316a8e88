// `export --copy-to DIR`: the clips laid out flat with a metadata file beside them, the layout
// Hugging Face's videofolder/imagefolder loaders read (a `file_name` column naming each clip).
import { mkdirSync } from 'node:fs';
import { join, posix } from 'node:path';
import { writeFileAtomic } from './write.js';
import { placeFile } from './copy-file.js';
import { type ExportFormat, type ExportRow, exportRows, formatRows } from './export.js';
import type { Report, ReportStatus } from './schema.js';

export const RERUN_HINT = 'Rerun `klingrun run <manifest>` with this output folder: it downloads missing or damaged videos again.';

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

export interface DatasetFolderResult {
  /** The metadata file written. */
  readonly metadata: string;
  readonly rows: readonly ExportRow[];
}

/**
 * Copies (or hard-links) every downloaded clip of the report from `outputDir` into `destDir`
 * and writes `metadata.jsonl|csv` beside them. Jobs without a clip on disk are left out.
 */
export function writeDatasetFolder(report: Report, outputDir: string, destDir: string, format: ExportFormat, statuses?: ReadonlySet<ReportStatus>): DatasetFolderResult {
  const fileNames = flatFileNames(report);
  const rows = exportRows(report, { statuses, fileNames }).filter((row) => typeof row.file_name === 'string');
  for (const job of report.jobs) {
    const name = fileNames.get(job.id);
    if (name === undefined || (statuses && !statuses.has(job.status))) continue;
    placeFile(join(outputDir, job.video?.path as string), join(destDir, name), job.video?.sha256 ?? null, RERUN_HINT);
  }
  mkdirSync(destDir, { recursive: true });
  const metadata = join(destDir, `metadata.${format}`);
  writeFileAtomic(metadata, formatRows(rows, format));
  return { metadata, rows };
}
