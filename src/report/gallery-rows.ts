// The clips of a big gallery as data files beside its page (gallery/rows-0000.js, …): a page of
// 100,000 clips' markup would be ~100 MB, so past GALLERY_MAX_CLIPS the page holds its tools and
// loads compact records, which it filters and sorts in memory and renders only as they scroll
// into view. Script files, not JSON: a page opened from file:// may not fetch() its folder in
// Chromium, while <script src> works everywhere.
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { frameOf } from '../plan/schema.js';
import { clipLabels, type GridJob } from './gallery-grid.js';
import { hrefOf } from './html.js';
import type { ReportStatus } from './schema.js';
import { imageFromOutput } from './source-paths.js';

/** The folder of the data files, beside gallery.html. */
export const ROWS_DIR = 'gallery';
/** Clips per data file: small enough that the first one paints at once, few enough files for 100,000. */
export const ROWS_PER_FILE = 2_000;

export const rowsFileName = (n: number): string => `rows-${String(n).padStart(4, '0')}.js`;

/** The page's callback that each data file calls with its number and its clips. */
export const ROWS_CALLBACK = 'klingrunRows';

/**
 * One clip as the page holds it, short as an array: id, status, column (the grid's variant index),
 * latency s, cost $, video href, source image href, image as written, prompt, name, problem
 * (error or warnings), labels (repeat, a table's extra columns), aspect ratio "w / h".
 */
export type ClipRecord = readonly [
  id: string,
  status: ReportStatus,
  column: number,
  latency: number | null,
  cost: number | null,
  video: string | null,
  image: string | null,
  file: string,
  prompt: string,
  name: string,
  problem: string,
  labels: string,
  aspect: string | null,
];

/** Cut long texts (a job's whole error body): a record is read by eye in a small card. */
const cut = (text: string, max = 300): string => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

export function clipRecord(job: GridJob, column: number, manifestPath: string): ClipRecord {
  const video = job.status === 'succeeded' && job.video?.path ? hrefOf(job.video.path) : null;
  const frame = frameOf(job.params);
  const size = job.video?.width && job.video.height ? job.video : frame.kind === 'file' ? frame : null;
  const problem = job.error ? `${String(job.error.code)}: ${job.error.message}` : job.warnings.join('\n');
  const labels = [...((job.repeat ?? 1) > 1 ? [['repeat', String(job.repeat)] as const] : []), ...clipLabels(job, [], Object.keys(job.extra ?? {}))];
  return [
    job.id,
    job.status,
    column,
    job.latency_s,
    job.measured_usd ?? job.cost_usd,
    video,
    hrefOf(imageFromOutput(manifestPath, frame)),
    frame.kind === 'file' ? frame.path : frame.url,
    job.params.prompt ?? '',
    job.name ?? '',
    cut(problem),
    labels.map(([field, value]) => `${field} ${cut(value, 80)}`).join(' · '),
    size?.width && size.height ? `${size.width} / ${size.height}` : null,
  ];
}

/** What the page needs to know of the data files it loads. */
export interface RowFilesInfo {
  readonly dir: string;
  readonly files: number;
  readonly clips: number;
  readonly perFile: number;
  /** Clips by status, for the status filter's counts. */
  readonly statuses: Readonly<Partial<Record<ReportStatus, number>>>;
}

/**
 * Writes clip records as they come, ROWS_PER_FILE to a file, into a staging folder: it holds one
 * file's records at most, never the report. `commit` puts the folder in place of the last one;
 * `discard` removes it (a small batch's page holds its clips, and needs no data files).
 */
export class RowFiles {
  readonly #staging: string;
  readonly #final: string;
  readonly #perFile: number;
  readonly #manifestPath: string;
  #buffer: ClipRecord[] = [];
  #files = 0;
  #clips = 0;
  readonly #statuses: Partial<Record<ReportStatus, number>> = {};

  constructor(outputDir: string, manifestPath: string, perFile = ROWS_PER_FILE) {
    this.#final = join(outputDir, ROWS_DIR);
    this.#staging = `${this.#final}.${process.pid}.tmp`;
    this.#perFile = perFile;
    this.#manifestPath = manifestPath;
  }

  readonly add = (job: GridJob, column: number): void => {
    this.#buffer.push(clipRecord(job, column, this.#manifestPath));
    this.#clips += 1;
    this.#statuses[job.status] = (this.#statuses[job.status] ?? 0) + 1;
    if (this.#buffer.length >= this.#perFile) this.#flush();
  };

  #flush(): void {
    if (this.#files === 0) {
      rmSync(this.#staging, { recursive: true, force: true });
      mkdirSync(this.#staging, { recursive: true });
    }
    // JSON is a JavaScript expression; the file is a script, so no `</script>` concern.
    writeFileSync(join(this.#staging, rowsFileName(this.#files)), `${ROWS_CALLBACK}(${this.#files}, ${JSON.stringify(this.#buffer)});\n`);
    this.#files += 1;
    this.#buffer = [];
  }

  /** Writes the last file and puts the folder in place; returns what the page loads. */
  commit(): RowFilesInfo {
    if (this.#buffer.length > 0 || this.#files === 0) this.#flush();
    rmSync(this.#final, { recursive: true, force: true });
    renameSync(this.#staging, this.#final);
    return { dir: ROWS_DIR, files: this.#files, clips: this.#clips, perFile: this.#perFile, statuses: { ...this.#statuses } };
  }

  /** Removes the staging folder and any data files an earlier, bigger page of the folder left. */
  discard(): void {
    rmSync(this.#staging, { recursive: true, force: true });
    rmSync(this.#final, { recursive: true, force: true });
  }
}
