// The report as a pure function of plan + journal (replayed into job states) + what is on disk:
// no second source of truth.
import { type Plan, type PlannedJob, effectiveParams } from '../plan/schema.js';
import { groupByVariant } from '../plan/variants.js';
import { type ClipCheck, describeClipProblem } from '../runner/clip-check.js';
import type { JobState } from '../runner/job-state.js';
import { USD_PER_UNIT, type UnitPrice } from '../data/tables.js';
import { measuredUsd, tasksOf } from '../runner/spend.js';
import { outcomesOf, percentile } from './outcomes.js';
import { imageFromOutput } from './source-paths.js';
import { type Report, type ReportJob, type ReportStatus, REPORT_STATUSES, type Reproduce, type VariantSummary } from './schema.js';

export interface ReportInput {
  readonly plan: Plan;
  /** The journal replayed: job states by id. */
  readonly states: ReadonlyMap<string, JobState>;
  /**
   * What the output folder holds of each downloaded clip (runner/clip-check.ts). A clip found
   * missing or changed is not reported as succeeded. Without it, the journal is believed.
   */
  readonly clips?: ReadonlyMap<string, ClipCheck>;
  /** The manifest's path relative to the output folder (source images' paths are given from there). */
  readonly manifest: { readonly path: string; readonly sha256: string };
  readonly toolVersion: string;
  /** When the reported run started and ended (ms); null for `status` views. */
  readonly startedAt?: number | null;
  readonly finishedAt?: number | null;
  /** Written by `run`; absent for views that ran nothing. */
  readonly reproduce?: Reproduce | null;
  /** The USD per unit of the provider's `final_unit_deduction`. @default Kling's standard packs' (USD_PER_UNIT) */
  readonly unitPrice?: UnitPrice;
}

export function statusOf(state: JobState | undefined, clip?: ClipCheck): ReportStatus {
  if (!state) return 'pending';
  switch (state.phase) {
    case 'pending':
      return 'pending';
    case 'submitting':
      return 'unconfirmed';
    case 'submitted':
      return 'in_flight';
    case 'succeeded':
      return 'not_downloaded';
    case 'downloaded':
      if (clip === 'missing' || clip === 'changed') return 'not_downloaded';
      return state.download?.invalid ? 'invalid_output' : 'succeeded';
    default:
      return state.phase;
  }
}

const iso = (ms: number | null | undefined): string | null => (ms == null ? null : new Date(ms).toISOString());
const round = (n: number, digits = 3): number => Math.round(n * 10 ** digits) / 10 ** digits;

function latencyOf(state: JobState | undefined): number | null {
  if (!state?.submittedAt || !state.finishedAt || state.phase === 'failed' || state.phase === 'lost_at_provider') return null;
  return round((state.finishedAt - state.submittedAt) / 1000);
}

/** Why a job did not (yet) succeed, in the words the user acts on; null when there is nothing to say. */
function errorOf(state: JobState | undefined, status: ReportStatus, clip: ClipCheck | undefined): ReportJob['error'] {
  if (!state) return null;
  if (status === 'unconfirmed' && state.unconfirmed) return { code: 'unconfirmed', message: state.unconfirmed };
  if (status === 'not_downloaded' && (clip === 'missing' || clip === 'changed') && state.download) {
    const retry = state.downloadError ? ` (the last try to download it again failed: ${state.downloadError})` : '';
    return { code: `video_${clip}`, message: `${describeClipProblem(clip, state.download.path)}${retry}` };
  }
  if (status === 'not_downloaded' && state.downloadError) return { code: 'download_failed', message: state.downloadError };
  const shown: ReadonlySet<ReportStatus> = new Set(['failed', 'orphaned', 'lost_at_provider', 'pending', 'skipped_budget']);
  return state.error && shown.has(status) ? { code: state.error.code, message: state.error.message } : null;
}

/** What every job of a report is made with. */
interface JobContext {
  readonly manifestPath: string;
  readonly usdPerUnit: number;
  /** False when the reported run had no budget: a job an earlier run's budget skipped was then simply not sent yet. */
  readonly budgeted: boolean;
}

function reportJob(job: PlannedJob | undefined, id: string, state: JobState | undefined, clip: ClipCheck | undefined, { manifestPath, usdPerUnit, budgeted }: JobContext): ReportJob {
  const skipped = statusOf(state, clip);
  const status = skipped === 'skipped_budget' && !budgeted ? 'pending' : skipped;
  const request = job?.request ?? state?.request ?? null;
  const video = state?.video;
  const download = state?.download;
  const tasks = tasksOf(state);
  return {
    id,
    external_task_id: state?.externalTaskId ?? job?.external_task_id ?? null,
    task_id: state?.taskId ?? null,
    entry: job?.entry ?? null,
    repeat: job?.repeat ?? null,
    variant: job?.variant ?? {},
    params: request,
    image_path: request?.image ? imageFromOutput(manifestPath, request.image) : null,
    status,
    attempts: state?.attempt ?? 0,
    error: errorOf(state, status, clip),
    video:
      video || download
        ? {
            path: download?.path ?? null,
            url: video?.url ?? null,
            sha256: download?.sha256 ?? null,
            bytes: download?.bytes ?? null,
            duration_s: download?.duration_s ?? (video?.duration ? Number(video.duration) : null),
            width: download?.width ?? null,
            height: download?.height ?? null,
            fps: download?.fps ?? null,
            codec: download?.codec ?? null,
            frames: download?.frames ?? null,
          }
        : null,
    warnings: [...(download?.warnings ?? [])],
    cost_usd: job ? job.cost_usd : (state?.estimateUsd ?? null),
    tasks,
    units: state?.units ?? null,
    measured_usd: measuredUsd(state, usdPerUnit) ?? null,
    list_price: state?.listPrice ?? null,
    submitted_at: iso(state?.submittedAt),
    finished_at: iso(state?.finishedAt),
    latency_s: latencyOf(state),
    ...(job?.name !== undefined ? { name: job.name } : {}),
    ...(job?.extra !== undefined ? { extra: job.extra } : {}),
    in_manifest: job !== undefined,
  };
}

const DEFAULT_UNIT_PRICE: UnitPrice = { usd_per_unit: USD_PER_UNIT, from: 'default' };

/** The batch's spend, split by how sure it is, added up one job at a time. */
class CostTotals {
  #certain = 0;
  #adopted = 0;
  #possible = 0;
  #unknown = 0;
  #measured = 0;
  #measuredJobs = 0;

  add(job: ReportJob): void {
    const tasks = job.tasks.certain + job.tasks.possible;
    if (tasks > 0 && job.cost_usd === null) this.#unknown += tasks;
    this.#certain += (job.cost_usd ?? 0) * job.tasks.certain;
    if (job.tasks.adopted) this.#adopted += (job.cost_usd ?? 0) * job.tasks.certain;
    this.#possible += (job.cost_usd ?? 0) * job.tasks.possible;
    if (job.measured_usd !== null) {
      this.#measured += job.measured_usd;
      this.#measuredJobs += 1;
    }
  }

  result(): Report['cost'] {
    return { certain_usd: round(this.#certain, 4), certain_adopted_usd: round(this.#adopted, 4), possible_usd: round(this.#possible, 4), unknown_price_tasks: this.#unknown, measured_usd: round(this.#measured, 4), measured_jobs: this.#measuredJobs };
  }
}

/** Everything in report.json but its jobs, in the file's key order (`jobs` goes before `reproduce`). */
export type ReportSummary = Omit<Report, 'jobs'>;

/**
 * A report whose jobs are made again each time they are read, from the plan and the job states:
 * a 100,000-job report is never held whole (report.json, the gallery and the run's summary each
 * read it job by job).
 */
export interface StreamedReport {
  readonly summary: ReportSummary;
  jobs(): Generator<ReportJob>;
}

/** What the per-variant table needs of a job. */
type Outcome = Pick<ReportJob, 'status' | 'latency_s' | 'cost_usd'>;

export function streamReport(input: ReportInput): StreamedReport {
  const { states, clips } = input;
  const unitPrice = input.unitPrice ?? DEFAULT_UNIT_PRICE;
  // A view of the folder (no run) keeps the last run's word on a skip.
  const budgeted = input.reproduce ? input.reproduce.limits.budget_usd !== null : true;
  const context: JobContext = { manifestPath: input.manifest.path, usdPerUnit: unitPrice.usd_per_unit, budgeted };
  const jobs = function* (): Generator<ReportJob> {
    const planned = new Set<string>();
    for (const job of input.plan.jobs) {
      planned.add(job.id);
      yield reportJob(job, job.id, states.get(job.id), clips?.get(job.id), context);
    }
    // Jobs the journal knows and the manifest no longer has: listed with what became of them.
    for (const [id, state] of states) if (!planned.has(id)) yield reportJob(undefined, id, state, clips?.get(id), context);
  };

  const totals = Object.fromEntries(REPORT_STATUSES.map((s) => [s, 0])) as Record<ReportStatus, number>;
  const cost = new CostTotals();
  // In plan order, the planned jobs come first: outcomes[k] is plan.jobs[k]'s.
  const outcomes: Outcome[] = [];
  let count = 0;
  for (const job of jobs()) {
    totals[job.status] += 1;
    cost.add(job);
    if (count < input.plan.jobs.length) outcomes.push({ status: job.status, latency_s: job.latency_s, cost_usd: job.cost_usd });
    count += 1;
  }
  const summary: ReportSummary = {
    tool: { name: 'klingrun', version: input.toolVersion },
    manifest: { path: input.manifest.path, sha256: input.manifest.sha256, name: input.plan.name },
    started_at: iso(input.startedAt),
    finished_at: iso(input.finishedAt),
    totals: { jobs: count, ...totals, not_in_manifest: count - input.plan.jobs.length },
    cost: { ...cost.result(), unit_price: unitPrice },
    by_variant: summarizeVariants(input.plan.jobs, outcomes),
    reproduce: input.reproduce ?? null,
  };
  return { summary, jobs };
}

/**
 * A report as written, priced again at another unit price (`--unit-price` on a report that cannot
 * be rebuilt): each job that states its units, and the total (one pass over the jobs).
 */
export function repriced({ summary, jobs }: StreamedReport, unitPrice: UnitPrice): StreamedReport {
  const priced = function* (): Generator<ReportJob> {
    for (const job of jobs()) yield job.units === null ? job : { ...job, measured_usd: round(job.units * unitPrice.usd_per_unit, 4) };
  };
  let measured = 0;
  for (const job of priced()) measured += job.measured_usd ?? 0;
  return { summary: { ...summary, cost: { ...summary.cost, measured_usd: round(measured, 4), unit_price: unitPrice } }, jobs: priced };
}

/** A report held whole, read as a streamed one. */
export function asStream(report: Report | StreamedReport): StreamedReport {
  if ('summary' in report) return report;
  const { jobs, ...summary } = report;
  return {
    summary,
    *jobs() {
      yield* jobs;
    },
  };
}

/** A summary and its jobs (an array, or made as they are read) in report.json's key order: `jobs` before `reproduce`. */
export function inFileOrder<J>({ reproduce, ...head }: ReportSummary, jobs: J): Omit<Report, 'jobs'> & { jobs: J } {
  return { ...head, jobs, reproduce };
}

/** A streamed report held whole. */
export const wholeReport = ({ summary, jobs }: StreamedReport): Report => inFileOrder(summary, [...jobs()]);

/** The whole report in memory: fine for a small batch or a test, not for 100,000 jobs (see streamReport). */
export const buildReport = (input: ReportInput): Report => wholeReport(streamReport(input));

function summarizeVariants(planJobs: readonly PlannedJob[], outcomes: readonly Outcome[]): VariantSummary[] {
  const groups = groupByVariant(planJobs.map((job, index) => ({ job, outcome: outcomes[index] as Outcome })), ({ job }) => job);
  return groups.map(({ variant, items }) => {
    const jobs = items.map(({ outcome }) => outcome);
    const { succeeded, failed, successRate, latencies } = outcomesOf(jobs);
    const prices = succeeded.map((j) => j.cost_usd);
    const params = effectiveParams((items[0] as (typeof items)[number]).job.request);
    return {
      label: variant.label,
      fields: Object.fromEntries(variant.fields),
      folder: variant.folder,
      model_name: params.model_name,
      mode: params.mode ?? null,
      duration: params.duration,
      jobs: jobs.length,
      succeeded: succeeded.length,
      failed,
      success_rate: successRate === null ? null : round(successRate, 4),
      latency_s: { p50: percentile(latencies, 50), p95: percentile(latencies, 95), max: latencies.at(-1) ?? null },
      cost_usd: prices.some((p) => p === null) ? null : round(prices.reduce<number>((a, p) => a + (p ?? 0), 0), 4),
    };
  });
}
