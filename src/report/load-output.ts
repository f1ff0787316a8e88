// Finding a run's output folder and its current report, from either a manifest (plan + journal:
// the report is rebuilt) or an output folder (report.json, rebuilt too when the manifest it names
// is still there unchanged, so a killed run's stale report is refreshed from its journal).
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { unitPriceOf } from '../data/tables.js';
import { type Logger, silentLogger } from '../effects.js';
import type { JobRequest } from '../plan/schema.js';
import { InputError, UsageError } from '../errors.js';
import { type LoadPlanOptions, loadPlan } from '../plan/index.js';
import { sha256Hex } from '../plan/ids.js';
import { checkDownloads } from '../runner/clip-check.js';
import { type JobState, JournalState } from '../runner/job-state.js';
import { readJournal } from '../state/journal.js';
import { JOURNAL_FILE, REPORT_FILE, defaultOutputDir } from '../state/output-folder.js';
import { VERSION } from '../version.js';
import { type ReportSummary, type StreamedReport, asStream, repriced, streamReport, wholeReport } from './build.js';
import { readReportFile } from './read.js';
import { type ReportFile, streamReportFile, validated } from './read-stream.js';
import type { Report } from './schema.js';


export interface LoadOutputOptions {
  /** Folder relative paths are resolved against. */
  readonly cwd: string;
  /** With a manifest only: the folder its run wrote (`run --output`), relative to `cwd`. @default the manifest's default output folder */
  readonly outputDir?: string | undefined;
  /** Told about a torn journal line (a run still writing, or one that was killed). @default silentLogger */
  readonly logger?: Logger;
  /** Model and price tables for planning. */
  readonly plan?: Pick<LoadPlanOptions, 'modelsFile' | 'pricesFile'>;
  /** `--unit-price`: USD per unit of the provider's `final_unit_deduction`. @default the price table's `usd_per_unit`, else $0.14 */
  readonly unitPrice?: number | undefined;
  /** A manifest that never ran: an error (the default), or a report of pending jobs (`hasJournal: false`). */
  readonly notRunYet?: 'error' | 'report';
  /**
   * Keep the reproduce block of the folder's report.json in a rebuilt report (for writing it again).
   * Off, a manifest's report.json is not read at all (at 100,000 jobs it is ~150 MB). @default true
   */
  readonly keepReproduce?: boolean;
}

export interface LoadedOutput {
  /** Absolute output folder. */
  readonly dir: string;
  /** The report, its jobs made one at a time: what `status` and `report` use, holding none of them all. */
  readonly stream: StreamedReport;
  /** The whole report, made from `stream` when first read. */
  readonly report: Report;
  /** The journal, replayed; empty without one. */
  readonly states: ReadonlyMap<string, JobState>;
  readonly hasJournal: boolean;
  /** Whether the report was rebuilt from plan + journal (else it is report.json as written). */
  readonly rebuilt: boolean;
}

const rebuildIt = (dir: string) => `Rebuild it from the manifest with \`klingrun report <manifest> --output ${dir}\`.`;

/** report.json of a folder, validated; undefined when there is none. */
export function readReport(dir: string): Report | undefined {
  const file = join(dir, REPORT_FILE);
  if (!existsSync(file)) return undefined;
  return readReportFile(file, rebuildIt(dir));
}

/** report.json of a folder, validated a job at a time and never held whole; undefined when there is none. */
function reportFileOf(dir: string): ReportFile | undefined {
  const file = join(dir, REPORT_FILE);
  return existsSync(file) ? streamReportFile(file, rebuildIt(dir)) : undefined;
}

/** A folder's journal folded into job states; empty when there is none. */
function foldJournal(dir: string, name: string, logger: Logger | undefined, requestOf?: (id: string) => JobRequest | undefined): JournalState & { exists: boolean } {
  const folded = new JournalState(requestOf);
  const file = join(dir, JOURNAL_FILE);
  const exists = existsSync(file);
  if (exists) readJournal(file, { name, logger: logger ?? silentLogger, onEvent: folded.add });
  return Object.assign(folded, { exists });
}

/** The output with both views of its report: the whole one is made only if it is read. */
function withReport(output: Omit<LoadedOutput, 'stream' | 'report'>, report: Report | StreamedReport): LoadedOutput {
  const stream = asStream(report);
  let whole = 'summary' in report ? undefined : report;
  return {
    ...output,
    stream,
    get report() {
      return (whole ??= wholeReport(stream));
    },
  };
}

/** What the folder holds of each downloaded clip, so the report says what is on disk. */
function clipsOf(dir: string, states: ReadonlyMap<string, JobState>) {
  return checkDownloads(dir, [...states].flatMap(([id, state]) => (state.phase === 'downloaded' && state.download ? [[id, state.download] as const] : [])));
}

/**
 * The report from plan + journal. Given the folder's own report (`scope`), only its jobs are
 * reported: a `run --shard` folder stays the report of its slice, not of the whole batch.
 */
async function rebuild(manifestPath: string, options: LoadOutputOptions, scope?: ReportFile): Promise<LoadedOutput> {
  const loaded = await loadPlan(manifestPath, { cwd: options.cwd, ...options.plan });
  // A folder's report of every planned job (not a `run --shard` slice) names no fewer: no need to read its ids.
  const whole = scope && scope.stream.summary.totals.jobs - scope.stream.summary.totals.not_in_manifest === loaded.plan.jobs.length;
  const ids = scope && !whole ? scope.plannedIds() : undefined;
  const plan = ids ? { ...loaded.plan, jobs: loaded.plan.jobs.filter((job) => ids.has(job.id)) } : loaded.plan;
  const manifestAbsolute = resolve(options.cwd, manifestPath);
  const dirAbs = options.outputDir === undefined ? defaultOutputDir(manifestAbsolute, loaded.plan.name, options.cwd) : resolve(options.cwd, options.outputDir);
  const planned = new Map(loaded.plan.jobs.map((job) => [job.id, job.request]));
  const journal = foldJournal(dirAbs, loaded.plan.name, options.logger, (id) => planned.get(id));
  if (!journal.exists && options.notRunYet !== 'report') {
    throw new InputError(
      'input_missing',
      `No run of ${manifestPath} found in ${relative(options.cwd, dirAbs) || '.'}: it has no ${JOURNAL_FILE}. Run the manifest first (\`klingrun run ${manifestPath}\`), or give the folder its run wrote with --output.`,
    );
  }
  let old: ReportSummary | undefined = scope?.stream.summary;
  try {
    if (options.keepReproduce !== false) old ??= reportFileOf(dirAbs)?.stream.summary;
  } catch {
    // A damaged report.json is about to be replaced; only its reproduce block is lost.
  }
  const report = streamReport({
    plan,
    states: journal.states,
    clips: await clipsOf(dirAbs, journal.states),
    manifest: { path: relative(dirAbs, manifestAbsolute), sha256: loaded.manifestSha256 },
    toolVersion: VERSION,
    startedAt: journal.lastRunAt ?? null,
    finishedAt: journal.lastRunAt === undefined ? null : (journal.lastEventAt ?? null),
    // The command line and limits are not in the journal: keep them while they describe this manifest.
    reproduce: old?.manifest.sha256 === loaded.manifestSha256 ? old.reproduce : null,
    unitPrice: unitPriceOf(options.unitPrice, options.plan?.pricesFile === undefined ? undefined : { path: options.plan.pricesFile, cwd: options.cwd }),
  });
  return withReport({ dir: dirAbs, states: journal.states, hasJournal: journal.exists, rebuilt: true }, report);
}

/**
 * The output folder and its current report, from a manifest or an output folder. Throws
 * InputError when neither a report nor a run can be found.
 */
export async function loadOutput(target: string, options: LoadOutputOptions): Promise<LoadedOutput> {
  const path = resolve(options.cwd, target);
  let isDir: boolean;
  try {
    isDir = statSync(path).isDirectory();
  } catch (cause) {
    throw new InputError('input_missing', `Cannot find ${target}: give a manifest (e.g. jobs/example.yaml) or the output folder of a run (e.g. output/example).`, { cause });
  }
  if (!isDir) return rebuild(target, options);
  if (options.outputDir) throw new UsageError(`--output names the folder a manifest's run wrote, and ${target} is already an output folder: drop --output.`);

  const file = reportFileOf(path);
  if (!file) {
    throw new InputError(
      'input_missing',
      existsSync(join(path, JOURNAL_FILE))
        ? `${target} has no ${REPORT_FILE}. If it is the output folder of a run that was stopped before writing one, build it from the manifest: \`klingrun report <manifest> --output ${target}\`.`
        : `${target} is not the output folder of a run: it has neither ${REPORT_FILE} nor ${JOURNAL_FILE}. Give a manifest (e.g. jobs/example.yaml) or the folder a run wrote (e.g. output/example).`,
    );
  }
  const previous = file.stream.summary;
  const manifest = resolve(path, previous.manifest.path);
  if (existsSync(manifest) && sha256Hex(readFileSync(manifest)) === previous.manifest.sha256 && existsSync(join(path, JOURNAL_FILE))) {
    return rebuild(manifest, { ...options, outputDir: path }, file);
  }
  const journal = foldJournal(path, previous.manifest.name, options.logger);
  const stream = validated(file.stream);
  const priced = options.unitPrice === undefined ? stream : repriced(stream, { usd_per_unit: options.unitPrice, from: 'option' });
  return withReport({ dir: path, states: journal.states, hasJournal: journal.exists, rebuilt: false }, priced);
}
