// The report as a pure function of plan + journal: no second source of truth.
import { type Plan, type PlannedJob, effectiveParams } from '../plan/schema.js';
import { groupByVariant } from '../plan/variants.js';
import type { JournalEvent } from '../state/events.js';
import { type JobState, replay } from '../runner/job-state.js';
import { outcomesOf, percentile } from './outcomes.js';
import { imageFromOutput } from './source-paths.js';
import { type Report, type ReportJob, type ReportStatus, REPORT_STATUSES, type Reproduce, type VariantSummary } from './schema.js';

export interface ReportInput {
  readonly plan: Plan;
  readonly events: readonly JournalEvent[];
  /** The manifest's path relative to the output folder (source images' paths are given from there). */
  readonly manifest: { readonly path: string; readonly sha256: string };
  readonly toolVersion: string;
  /** When the reported run started and ended (ms); null for `status` views. */
  readonly startedAt?: number | null;
  readonly finishedAt?: number | null;
  /** Written by `run`; absent for views that ran nothing. */
  readonly reproduce?: Reproduce | null;
}

export function statusOf(state: JobState | undefined): ReportStatus {
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
      return state.download?.invalid ? 'invalid_output' : 'succeeded';
    default:
      return state.phase;
  }
}

const iso = (ms: number | null | undefined): string | null => (ms == null ? null : new Date(ms).toISOString());
const round = (n: number, digits = 3): number => Math.round(n * 10 ** digits) / 10 ** digits;

function latencyOf(state: JobState | undefined): number | null {
  if (!state?.submittedAt || !state.finishedAt || state.phase === 'failed') return null;
  return round((state.finishedAt - state.submittedAt) / 1000);
}

type DownloadedEvent = Extract<JournalEvent, { ev: 'downloaded' }>;

/** What the report's paths and clip details are read from beside each job's state. */
interface Sources {
  /** The manifest relative to the output folder: the base of the source images' paths. */
  readonly manifestPath: string;
  /** Each job's latest `downloaded` event, for the clip details its replayed state does not keep (fps, codec, frames). */
  readonly downloads: ReadonlyMap<string, DownloadedEvent>;
}

function sourcesOf(input: ReportInput): Sources {
  const downloads = new Map<string, DownloadedEvent>();
  for (const event of input.events) if (event.ev === 'downloaded') downloads.set(event.job, event);
  return { manifestPath: input.manifest.path, downloads };
}

function reportJob(job: PlannedJob | undefined, id: string, state: JobState | undefined, status: ReportStatus, request: PlannedJob['request'] | null, sources: Sources): ReportJob {
  const video = state?.videos?.[0];
  const download = state?.download;
  // Only while it is the event the state's download came from (a new attempt drops the download).
  const clip = download && sources.downloads.get(id);
  const header = clip?.sha256 === download?.sha256 && clip?.path === download?.path ? clip : undefined;
  return {
    id,
    external_task_id: state?.externalTaskId ?? job?.external_task_id ?? null,
    task_id: state?.taskId ?? null,
    entry: job?.entry ?? null,
    repeat: job?.repeat ?? null,
    variant: job?.variant ?? {},
    params: request,
    image_path: request ? imageFromOutput(sources.manifestPath, request.image) : null,
    status,
    attempts: state?.attempt ?? 0,
    error: state?.error && (status === 'failed' || status === 'orphaned' || status === 'pending') ? { code: state.error.code, message: state.error.message } : null,
    video:
      video || download
        ? {
            path: download?.path ?? null,
            url: video?.url ?? null,
            sha256: download?.sha256 ?? null,
            bytes: download?.bytes ?? null,
            duration_s: download?.duration_s ?? (video ? Number(video.duration) : null),
            width: download?.width ?? null,
            height: download?.height ?? null,
            fps: header?.fps ?? null,
            codec: header?.codec ?? null,
            frames: header?.frames ?? null,
          }
        : null,
    warnings: [...(download?.warnings ?? [])],
    cost_usd: job?.cost_usd ?? null,
    submitted_at: iso(state?.submittedAt),
    finished_at: iso(state?.finishedAt),
    latency_s: latencyOf(state),
    ...(job?.name !== undefined ? { name: job.name } : {}),
    ...(job?.extra !== undefined ? { extra: job.extra } : {}),
  };
}


export function buildReport(input: ReportInput): Report {
  const states = replay(input.events);
  const planned = new Set(input.plan.jobs.map((j) => j.id));
  const sources = sourcesOf(input);
  const jobs: ReportJob[] = input.plan.jobs.map((job) => reportJob(job, job.id, states.get(job.id), statusOf(states.get(job.id)), job.request, sources));

  // Jobs the journal knows and the manifest no longer has: left alone, but listed.
  const requests = new Map<string, PlannedJob['request']>();
  for (const event of input.events) if (event.ev === 'submitting') requests.set(event.job, event.request);
  for (const [id, state] of states) {
    if (!planned.has(id)) jobs.push(reportJob(undefined, id, state, 'not_in_manifest', requests.get(id) ?? null, sources));
  }

  const totals = Object.fromEntries(REPORT_STATUSES.map((s) => [s, 0])) as Record<ReportStatus, number>;
  let cost = 0;
  let costUnknown = 0;
  const holdsTask: ReadonlySet<ReportStatus> = new Set(['succeeded', 'invalid_output', 'not_downloaded', 'in_flight', 'unconfirmed', 'timed_out', 'orphaned']);
  for (const job of jobs) {
    totals[job.status] += 1;
    if (holdsTask.has(job.status) && job.status !== 'orphaned') {
      if (job.cost_usd === null) costUnknown += 1;
      else cost += job.cost_usd;
    }
  }

  return {
    tool: { name: 'klingrun', version: input.toolVersion },
    manifest: { path: input.manifest.path, sha256: input.manifest.sha256, name: input.plan.name },
    started_at: iso(input.startedAt),
    finished_at: iso(input.finishedAt),
    totals: { jobs: jobs.length, ...totals, cost_usd_estimated: round(cost, 4), cost_unknown_jobs: costUnknown },
    by_variant: summarizeVariants(input.plan.jobs, jobs),
    jobs,
    reproduce: input.reproduce ?? null,
  };
}

function summarizeVariants(planJobs: readonly PlannedJob[], reportJobs: readonly ReportJob[]): VariantSummary[] {
  // Report jobs are in plan order for the planned ones: the index pairs each with its plan job.
  const groups = groupByVariant(planJobs.map((job, index) => ({ job, reported: reportJobs[index] as ReportJob })), ({ job }) => job);
  return groups.map(({ variant, items }) => {
    const jobs = items.map(({ reported }) => reported);
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
