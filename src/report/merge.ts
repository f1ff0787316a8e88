// `report --merge`: the output folders of one batch split across machines (`run --shard i/n`),
// merged into one report. The journals are merged, not the reports: each job's state is replayed
// from the folder that got it furthest. The plan is taken back from the folders' report.json
// (every planned field of a job is there), so the merge needs neither the manifest nor its images:
// CI artifacts downloaded anywhere merge as they are.
import { existsSync, mkdirSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { InputError } from '../errors.js';
import { externalTaskId } from '../plan/ids.js';
import type { Plan, PlannedJob } from '../plan/schema.js';
import type { JobState } from '../runner/job-state.js';
import { VERSION } from '../version.js';
import { buildReport, statusOf } from './build.js';
import { placeFile } from './copy-file.js';
import { RERUN_HINT } from './dataset-folder.js';
import { JOURNAL_FILE } from '../state/output-folder.js';
import { type Rating, readRatings, writeRatings } from './ratings.js';
import type { Report, ReportStatus } from './schema.js';
import { writeReportJson } from './stream.js';

export interface MergeSource {
  /** Absolute output folder. */
  readonly dir: string;
  readonly report: Report;
  /** Its journal, replayed; empty when the folder has none. */
  readonly states: ReadonlyMap<string, JobState>;
  readonly hasJournal: boolean;
}

export interface MergedOutput {
  readonly report: Report;
  /** Videos to place in the merged folder, at the same relative path they have in their source. */
  readonly videos: readonly { readonly from: string; readonly path: string; readonly sha256: string }[];
  readonly warnings: readonly string[];
}

/**
 * How far a job got: the folder ranking highest gives the merged state. Between folders where it
 * got equally far, the one named first on the command line wins, whatever the timing of the runs.
 */
const RANK: Record<ReportStatus, number> = {
  succeeded: 9, invalid_output: 8, not_downloaded: 7, in_flight: 6, unconfirmed: 5, timed_out: 4, failed: 3, orphaned: 3, lost_at_provider: 3, skipped_budget: 1, pending: 0,
};

/** The plan, rebuilt from the planned jobs of the reports (first seen wins; order kept). */
function planOf(sources: readonly MergeSource[]): Plan {
  const jobs = new Map<string, Omit<PlannedJob, 'repeats'>>();
  const repeats = new Map<number, number>();
  for (const { report } of sources) {
    for (const job of report.jobs) {
      if (job.entry === null || job.repeat === null || job.params === null || jobs.has(job.id)) continue;
      repeats.set(job.entry, Math.max(repeats.get(job.entry) ?? 1, job.repeat));
      jobs.set(job.id, {
        id: job.id,
        external_task_id: externalTaskId(job.id),
        entry: job.entry,
        repeat: job.repeat,
        variant: job.variant,
        request: job.params,
        ...(job.name !== undefined ? { name: job.name } : {}),
        ...(job.extra !== undefined ? { extra: job.extra } : {}),
        cost_usd: job.cost_usd,
      });
    }
  }
  const first = (sources[0] as MergeSource).report;
  return {
    version: 1,
    name: first.manifest.name,
    manifest: first.manifest.path.replace(/^.*[\\/]/, ''),
    id_salt: first.reproduce?.id_salt ?? '',
    // Every job of an entry shares its repeat count, so the highest repeat seen is that count.
    jobs: [...jobs.values()].map((job) => ({ ...job, repeats: repeats.get(job.entry) ?? 1 })),
    warnings: [],
  };
}

const sameManifest = (sources: readonly MergeSource[]): boolean => new Set(sources.map((s) => s.report.manifest.sha256)).size === 1;

function checkSources(sources: readonly MergeSource[]): string[] {
  if (sources.length === 0) throw new InputError('input_missing', 'Name the output folders to merge: `klingrun report --merge <folder>… --output DIR`.');
  const names = new Set(sources.map((s) => s.report.manifest.name));
  if (names.size > 1) {
    throw new InputError(
      'input_invalid',
      `Only folders of the same batch can be merged, but these belong to different manifests: ${sources.map((s) => `${s.dir} ("${s.report.manifest.name}")`).join(', ')}. Merge the folders of one manifest name at a time.`,
    );
  }
  const noJournal = sources.find((s) => !s.hasJournal);
  if (noJournal) throw new InputError('input_missing', `${noJournal.dir} has no ${JOURNAL_FILE}, which the merge reads. Copy the whole output folder of that run, journal included.`);
  return sameManifest(sources) ? [] : ['the folders were run from different versions of the manifest; the jobs planned by any of them are merged'];
}

/**
 * One warning per job submitted from two folders or more, in plan order (then the jobs no report
 * planned, by id): the same folders give the same warnings, in the same order, however the runs went.
 */
function paidTwiceWarnings(plan: Plan, sources: readonly MergeSource[], owner: ReadonlyMap<string, number>): string[] {
  const planned = plan.jobs.map((job) => job.id);
  const known = new Set(planned);
  const order = [...planned, ...[...owner.keys()].filter((job) => !known.has(job)).sort()];
  const warnings: string[] = [];
  for (const job of order) {
    const at = sources.flatMap((source, i) => ((source.states.get(job)?.attempt ?? 0) > 0 ? [i] : []));
    if (at.length < 2) continue;
    const kept = sources[owner.get(job) as number]?.dir;
    const tasks = at.map((i) => `${sources[i]?.dir}: task ${sources[i]?.states.get(job)?.taskId ?? 'unknown'}`).join(', ');
    warnings.push(`job ${job.slice(0, 12)} was submitted from ${at.length} folders (${tasks}); each may have been paid for. The report keeps the one from ${kept}`);
  }
  return warnings;
}

/** Merges the folders' journals into one report for `destDir` (pure: reads nothing, writes nothing). */
/** `unitPrice`: `--unit-price`; without it, the first folder's report says which. */
export function mergeOutputs(sources: readonly MergeSource[], destDir: string, unitPrice?: number): MergedOutput {
  const warnings = checkSources(sources);
  const plan = planOf(sources);
  const states = sources.map((s) => s.states);
  const owner = new Map<string, number>();
  states.forEach((byJob, i) => {
    for (const [job, state] of byJob) {
      const current = owner.get(job);
      if (current === undefined || RANK[statusOf(state)] > RANK[statusOf(states[current]?.get(job))]) owner.set(job, i);
    }
  });
  warnings.push(...paidTwiceWarnings(plan, sources, owner));

  const merged = new Map<string, JobState>();
  for (const [job, i] of owner) merged.set(job, states[i]?.get(job) as JobState);

  const first = sources[0] as MergeSource;
  const times = (pick: (r: Report) => string | null) => sources.map((s) => pick(s.report)).filter((t): t is string => t !== null).map(Date.parse);
  const started = times((r) => r.started_at);
  const finished = times((r) => r.finished_at);
  const report = buildReport({
    plan,
    states: merged,
    manifest: { path: relative(destDir, resolve(first.dir, first.report.manifest.path)), sha256: first.report.manifest.sha256 },
    toolVersion: VERSION,
    startedAt: started.length ? Math.min(...started) : null,
    finishedAt: finished.length ? Math.max(...finished) : null,
    // How to rerun is the same for every shard of one manifest, so the first one's says it.
    reproduce: sameManifest(sources) ? first.report.reproduce : null,
    unitPrice: unitPrice === undefined ? first.report.cost.unit_price : { usd_per_unit: unitPrice, from: 'option' },
  });

  const videos: { from: string; path: string; sha256: string }[] = [];
  states.forEach((byJob, i) => {
    for (const [job, state] of byJob) {
      if (owner.get(job) === i && state.phase === 'downloaded' && state.download) {
        videos.push({ from: join((sources[i] as MergeSource).dir, state.download.path), path: state.download.path, sha256: state.download.sha256 });
      }
    }
  });
  return { report, videos, warnings };
}

/** Writes the merged folder: the videos (hard-linked or copied) and report.json. */
export function writeMerged(merged: MergedOutput, sources: readonly MergeSource[], destDir: string): void {
  if (sources.some((s) => resolve(s.dir) === resolve(destDir)) || existsSync(join(destDir, JOURNAL_FILE))) {
    throw new InputError('input_invalid', `${destDir} is the output folder of a run (it has a ${JOURNAL_FILE}); merging into it would mix two records. Give --output a new folder.`);
  }
  mkdirSync(destDir, { recursive: true });
  for (const video of merged.videos) placeFile(video.from, join(destDir, video.path), { what: 'video', sha256: video.sha256, hint: RERUN_HINT });
  writeReportJson(destDir, merged.report);
  const ratings = mergedRatings(sources);
  if (ratings.size > 0) writeRatings(destDir, ratings);
}

/** The shards' ratings of the merged jobs; where two folders rate one job, the one named first wins, as for states. */
function mergedRatings(sources: readonly MergeSource[]): Map<string, Rating> {
  const ratings = new Map<string, Rating>();
  for (const source of sources) {
    for (const [job, rating] of readRatings(source.dir)) if (!ratings.has(job)) ratings.set(job, rating);
  }
  return ratings;
}
