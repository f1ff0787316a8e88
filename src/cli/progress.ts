// Showing a run as it goes. On a terminal: a cli-progress multibar (overall + one line per
// model × mode). Elsewhere (CI, pipes): one log line per state change and a periodic heartbeat.
import cliProgress from 'cli-progress';
import { type Plan, type PlannedJob, effectiveParams } from '../plan/schema.js';
import { statusOf } from '../report/build.js';
import type { ReportStatus } from '../report/schema.js';
import type { JobState } from '../runner/job-state.js';
import type { JournalEvent } from '../state/events.js';

interface Counts {
  total: number;
  queued: number;
  inFlight: number;
  succeeded: number;
  failed: number;
}

const bucketOf = (status: ReportStatus): keyof Omit<Counts, 'total'> => {
  switch (status) {
    case 'pending':
    case 'skipped_budget':
      return 'queued';
    case 'in_flight':
    case 'unconfirmed':
    case 'not_downloaded':
      return 'inFlight';
    case 'succeeded':
      return 'succeeded';
    default:
      return 'failed';
  }
};

/** What progress needs of a job (planned, or one from an earlier manifest). */
type ShownJob = Pick<PlannedJob, 'id' | 'external_task_id' | 'request' | 'cost_usd'>;

const groupOf = (job: ShownJob): string => {
  const p = effectiveParams(job.request);
  return `${p.model_name} ${p.mode ?? 'default'}`;
};

/** One plain log line per meaningful event (non-TTY output); status polls that change nothing stay quiet. */
function describe(event: JournalEvent, state: JobState): string | undefined {
  switch (event.ev) {
    case 'submitting':
      return event.attempt > 1 ? `submitting (attempt ${event.attempt})` : undefined;
    case 'submitted':
      return `submitted, task ${event.task_id}`;
    case 'adopted':
      return `found task ${event.task_id} of an earlier submit (by ${event.via}); not submitting again`;
    case 'rejected':
      return event.retryable ? `provider busy (${String(event.code)}), retrying` : undefined;
    case 'status':
      return event.task_status === 'processing' ? 'processing' : undefined;
    case 'succeeded':
      return state.phase === 'succeeded' ? 'succeeded, downloading' : undefined;
    case 'downloaded':
      return `downloaded ${event.path}${event.warnings?.length ? ` (warning: ${event.warnings.join('; ')})` : ''}`;
    case 'failed':
      return `failed: ${event.message}`;
    case 'timed_out':
      return 'timed out (checked again on the next run)';
    case 'orphaned':
      return `orphaned: ${event.message}`;
    case 'skipped_budget':
      return 'skipped: over the budget';
    default:
      return undefined;
  }
}

export interface ProgressOptions {
  readonly plan: Plan;
  readonly states: ReadonlyMap<string, JobState>;
  readonly isTTY: boolean;
  readonly write: (text: string) => void;
  readonly now?: () => number;
  readonly heartbeatMs?: number;
}

export class Progress {
  readonly #overall: Counts = { total: 0, queued: 0, inFlight: 0, succeeded: 0, failed: 0 };
  readonly #groups = new Map<string, Counts>();
  readonly #status = new Map<string, ReportStatus>();
  readonly #options: ProgressOptions;
  readonly #startedAt: number;
  #spentUsd = 0;
  #finishedThisRun = 0;
  #bars: cliProgress.MultiBar | undefined;
  readonly #barOf = new Map<string, cliProgress.SingleBar>();
  #heartbeat: NodeJS.Timeout | undefined;

  constructor(options: ProgressOptions) {
    this.#options = options;
    this.#startedAt = (options.now ?? Date.now)();
    for (const job of options.plan.jobs) {
      const group = this.#groups.get(groupOf(job)) ?? { total: 0, queued: 0, inFlight: 0, succeeded: 0, failed: 0 };
      this.#groups.set(groupOf(job), group);
      group.total += 1;
      this.#overall.total += 1;
      const status = statusOf(options.states.get(job.id));
      this.#move(job, status);
      if (status === 'succeeded' || status === 'not_downloaded') this.#spentUsd += job.cost_usd ?? 0;
    }
  }

  start(): void {
    if (this.#options.isTTY) {
      this.#bars = new cliProgress.MultiBar(
        {
          format: '{label} [{bar}] {value}/{total} | queued {queued} | in flight {inFlight} | ok {succeeded} | failed {failed}{extra}',
          hideCursor: true,
          clearOnComplete: false,
          barsize: 24,
        },
        cliProgress.Presets.shades_classic,
      );
      this.#barOf.set('', this.#bars.create(this.#overall.total, 0, this.#payload('all', this.#overall)));
      for (const [name, counts] of this.#groups) this.#barOf.set(name, this.#bars.create(counts.total, 0, this.#payload(name, counts)));
      this.#render();
    } else {
      this.#heartbeat = setInterval(() => this.#options.write(`${this.#line()}\n`), this.#options.heartbeatMs ?? 30_000);
      this.#heartbeat.unref();
    }
  }

  onEvent(event: JournalEvent, state: JobState, job: ShownJob | undefined): void {
    // Jobs from an earlier version of the manifest are finished quietly: the bars count the plan's.
    if (!job || event.ev === 'header' || event.ev === 'run' || !this.#status.has(job.id)) return;
    const before = this.#status.get(job.id);
    const after = statusOf(state);
    if (event.ev === 'succeeded' && before !== 'not_downloaded') this.#spentUsd += job.cost_usd ?? 0;
    if (before !== after) {
      this.#move(job, after);
      if (after === 'succeeded' || after === 'failed' || after === 'timed_out' || after === 'orphaned') this.#finishedThisRun += 1;
    }
    if (this.#bars) {
      if (before !== after) this.#render();
      return;
    }
    const line = describe(event, state);
    if (line) this.#options.write(`${job.external_task_id} ${groupOf(job)}: ${line}\n`);
  }

  stop(): void {
    if (this.#heartbeat) clearInterval(this.#heartbeat);
    this.#bars?.stop();
  }

  #move(job: ShownJob, status: ReportStatus): void {
    const group = this.#groups.get(groupOf(job));
    const previous = this.#status.get(job.id);
    for (const counts of [this.#overall, group]) {
      if (!counts) continue;
      const from = previous && bucketOf(previous);
      const to = bucketOf(status);
      if (from) counts[from] -= 1;
      if (to) counts[to] += 1;
    }
    this.#status.set(job.id, status);
  }

  #payload(label: string, counts: Counts): Record<string, string | number> {
    return { label: label.padEnd(24).slice(0, 24), ...counts, extra: '' };
  }

  #render(): void {
    const overall = this.#barOf.get('');
    overall?.update(this.#overall.succeeded + this.#overall.failed, { ...this.#payload('all', this.#overall), extra: ` | spent ~$${this.#spentUsd.toFixed(2)} | ETA ${this.#eta()}` });
    for (const [name, counts] of this.#groups) this.#barOf.get(name)?.update(counts.succeeded + counts.failed, this.#payload(name, counts));
  }

  #eta(): string {
    const elapsed = (this.#options.now ?? Date.now)() - this.#startedAt;
    const left = this.#overall.total - this.#overall.succeeded - this.#overall.failed;
    if (this.#finishedThisRun === 0 || left <= 0) return left <= 0 ? 'done' : '…';
    const seconds = Math.round(((elapsed / this.#finishedThisRun) * left) / 1000);
    return seconds >= 90 ? `${Math.round(seconds / 60)} min` : `${seconds} s`;
  }

  #line(): string {
    const c = this.#overall;
    return `progress: ${c.succeeded + c.failed}/${c.total} done | queued ${c.queued} | in flight ${c.inFlight} | ok ${c.succeeded} | failed ${c.failed} | spent ~$${this.#spentUsd.toFixed(2)} | ETA ${this.#eta()}`;
  }
}
