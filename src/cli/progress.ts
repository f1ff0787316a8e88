// Showing a run as it goes. On a terminal: a cli-progress multibar (overall + one line per
// variant). Elsewhere (CI, pipes): one log line per state change and a periodic heartbeat.
import cliProgress from 'cli-progress';
import type { Plan, PlannedJob } from '../plan/schema.js';
import { groupByVariant } from '../plan/variants.js';
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

/** Bar labels are cut to this width (a prompt sweep makes long ones). */
const MAX_LABEL = 40;

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
  /** Where the log lines, or on a terminal the bars, are written. */
  readonly write: (text: string) => void;
  /** Terminal width for the bars. @default process.stderr.columns, else 100 */
  readonly columns?: number;
  readonly now?: () => number;
  readonly heartbeatMs?: number;
}

export class Progress {
  readonly #overall: Counts = { total: 0, queued: 0, inFlight: 0, succeeded: 0, failed: 0 };
  /** Bar label and counts by variant key, and each job's variant key. */
  readonly #groups = new Map<string, { readonly label: string; readonly counts: Counts }>();
  readonly #groupOf = new Map<string, string>();
  readonly #labelWidth: number;
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
    for (const { variant, items } of groupByVariant(options.plan.jobs, (job) => job)) {
      const label = variant.label.length > MAX_LABEL ? `${variant.label.slice(0, MAX_LABEL - 1)}…` : variant.label;
      this.#groups.set(variant.key, { label, counts: { total: items.length, queued: 0, inFlight: 0, succeeded: 0, failed: 0 } });
      for (const job of items) this.#groupOf.set(job.id, variant.key);
    }
    this.#labelWidth = Math.max(3, ...[...this.#groups.values()].map((group) => group.label.length));
    for (const job of options.plan.jobs) {
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
          // Through `write` like every other line (and its redaction); cli-progress needs only these.
          stream: { isTTY: true, columns: this.#options.columns ?? process.stderr.columns ?? 100, write: (text: string) => (this.#options.write(text), true) } as unknown as NodeJS.WritableStream,
        },
        cliProgress.Presets.shades_classic,
      );
      this.#barOf.set('', this.#bars.create(this.#overall.total, 0, this.#payload('all', this.#overall)));
      for (const [key, { label, counts }] of this.#groups) this.#barOf.set(key, this.#bars.create(counts.total, 0, this.#payload(label, counts)));
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
    if (line) this.#options.write(`${job.external_task_id} ${this.#groups.get(this.#groupOf.get(job.id) ?? '')?.label ?? ''}: ${line}\n`);
  }

  stop(): void {
    if (this.#heartbeat) clearInterval(this.#heartbeat);
    this.#bars?.stop();
  }

  #move(job: ShownJob, status: ReportStatus): void {
    const group = this.#groups.get(this.#groupOf.get(job.id) ?? '')?.counts;
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
    return { label: label.padEnd(this.#labelWidth), ...counts, extra: '' };
  }

  #render(): void {
    const overall = this.#barOf.get('');
    overall?.update(this.#overall.succeeded + this.#overall.failed, { ...this.#payload('all', this.#overall), extra: ` | spent ~$${this.#spentUsd.toFixed(2)} | ETA ${this.#eta()}` });
    for (const [key, { label, counts }] of this.#groups) this.#barOf.get(key)?.update(counts.succeeded + counts.failed, this.#payload(label, counts));
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
