// Showing a run as it goes. On a terminal: a cli-progress multibar (overall + one line per
// variant + a status line), fitted to the terminal's width as it is now (a resized window re-lays
// it). Elsewhere (CI, pipes): one log line per state change and a periodic heartbeat, or the same as
// JSON lines (`--log-format json`, log-format.ts), or nothing (`--quiet`). Each says what the run is
// waiting for when nothing has finished for a while. Variants are labelled by what tells them
// apart; what they all share is said once, first.
import cliProgress from 'cli-progress';
import type { Plan, PlannedJob } from '../plan/schema.js';
import { groupByVariant, variantLabels } from '../plan/variants.js';
import type { JobState } from '../runner/job-state.js';
import { adoptedFromElsewhere } from '../runner/spend.js';
import type { WaitSnapshot } from '../runner/run.js';
import type { JournalEvent } from '../state/events.js';
import { cutText } from './fit.js';
import { type LogFormat, eventRecord, progressRecord, startRecord } from './log-format.js';

/**
 * Where each job stands, counted so that "in flight" is the truth: tasks holding an account slot
 * (being submitted, or at the provider), never more than the concurrency. A finished task waiting
 * for its download, and a job whose task may exist but could not be found, are counted apart.
 */
interface Counts {
  total: number;
  queued: number;
  inFlight: number;
  downloading: number;
  unconfirmed: number;
  succeeded: number;
  failed: number;
  skipped: number;
}
type Bucket = keyof Omit<Counts, 'total'>;

const emptyCounts = (total: number): Counts => ({ total, queued: 0, inFlight: 0, downloading: 0, unconfirmed: 0, succeeded: 0, failed: 0, skipped: 0 });

function bucketOf(state: JobState | undefined): Bucket {
  switch (state?.phase) {
    case undefined:
    case 'pending':
      return 'queued';
    case 'submitting':
      // Left by an earlier try: its task may exist, it is only looked for, never sent again.
      return state.unconfirmed ? 'unconfirmed' : 'inFlight';
    case 'submitted':
      return 'inFlight';
    case 'succeeded':
      return 'downloading';
    case 'downloaded':
      return state.download?.invalid ? 'failed' : 'succeeded';
    case 'skipped_budget':
      return 'skipped';
    default:
      return 'failed';
  }
}

const BUCKETS: readonly Bucket[] = ['queued', 'inFlight', 'downloading', 'unconfirmed', 'succeeded', 'failed', 'skipped'];
/** A job's place, BUCKETS.length numbers per variant: the last of them means "not counted yet". */
const PLACES = BUCKETS.length + 1;
const bucketAt = (place: number): Bucket | undefined => BUCKETS[place % PLACES];

const isDone = (bucket: Bucket): boolean => bucket === 'succeeded' || bucket === 'failed' || bucket === 'skipped';

/** What progress needs of a job (planned, or one from an earlier manifest). */
type ShownJob = Pick<PlannedJob, 'id' | 'external_task_id' | 'request' | 'cost_usd'>;

/** Bar labels are cut to this width (a prompt sweep makes long ones), and to less on a narrow terminal. */
const MAX_LABEL = 40;
const MIN_LABEL = 8;
const MIN_BAR = 10;
const MAX_BAR = 24;

interface Layout {
  readonly at: number;
  readonly width: number;
  /** Every count on the bars, or only the finished ones (the rest on the status line). */
  readonly wide: boolean;
  readonly labelWidth: number;
  readonly bar: number;
}

/** After this long without a job finishing, the display says what the run is waiting for. */
export const QUIET_MS = 10_000;

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

/** The counts a line shows: all of them, or (narrow terminal) the finished ones, the rest moving to the status line. */
function statsText(c: Counts, wide: boolean): string {
  const done = `${c.succeeded + c.failed + c.skipped}/${c.total}`;
  if (!wide) return `${done} ok ${c.succeeded} failed ${c.failed}${c.skipped ? ` skipped ${c.skipped}` : ''}`;
  return [done, ...activityParts(c), `ok ${c.succeeded}`, `failed ${c.failed}`, ...(c.skipped ? [`skipped ${c.skipped}`] : [])].join(' | ');
}

/** Jobs not finished, by where they stand; the optional ones only when there are any. */
function activityParts(c: Counts): string[] {
  return [`queued ${c.queued}`, `in flight ${c.inFlight}`, ...(c.downloading ? [`downloading ${c.downloading}`] : []), ...(c.unconfirmed ? [`unconfirmed ${c.unconfirmed}`] : [])];
}

/**
 * What the run is waiting for, most binding first, from the runner's snapshot (when there is one),
 * the counts and the provider's refusals since a job last finished.
 */
export function waitingFor(counts: Counts, snapshot: WaitSnapshot | undefined, refusals: { readonly slots: number; readonly rate: number }): string[] {
  const parts: string[] = [];
  const refused = (n: number, code: number) => (n ? `; ${n} refused with ${code}` : '');
  if ((snapshot?.waitingForRate ?? 0) > 0 || refusals.rate > 0) {
    const queued = snapshot?.waitingForRate ? `${snapshot.waitingForRate} request(s) queued` : 'backing off';
    parts.push(`the rate limit (${queued}${refused(refusals.rate, 1302)})`);
  }
  if ((snapshot?.waitingForSlot ?? 0) > 0 || refusals.slots > 0) {
    const held = snapshot ? `${snapshot.slotsHeld} of ${snapshot.slotsUsable} in use` : `${counts.inFlight} in use`;
    parts.push(`account slots (${held}${refused(refusals.slots, 1303)})`);
  }
  if (counts.inFlight > 0) parts.push(`the provider's answer on ${counts.inFlight} task(s) in flight`);
  const downloads = snapshot?.downloads ?? counts.downloading;
  if (downloads > 0) parts.push(`${downloads} download(s)`);
  return parts;
}

export interface ProgressOptions {
  readonly plan: Plan;
  readonly states: ReadonlyMap<string, JobState>;
  readonly isTTY: boolean;
  /** Where the log lines, or on a terminal the bars, are written. */
  readonly write: (text: string) => void;
  /** Terminal width for the bars, or how to read it as it is now (the window may be resized). @default process.stderr.columns, else 100 */
  readonly columns?: number | (() => number | undefined);
  /** What is printed as the run goes (log-format.ts). @default 'text' */
  readonly format?: LogFormat;
  /** Where the JSON lines go. @default write */
  readonly writeJson?: (text: string) => void;
  readonly now?: () => number;
  readonly heartbeatMs?: number;
}

/** A variant's line: its label in the terminal (what tells it apart), its whole label, its counts. */
interface Group {
  readonly label: string;
  readonly full: string;
  readonly counts: Counts;
}

export class Progress {
  readonly #overall: Counts = emptyCounts(0);
  /** Bar label and counts by variant key, the same in order, and each job's variant and bucket as one number (see PLACES). */
  readonly #groups = new Map<string, Group>();
  readonly #groupList: Group[] = [];
  readonly #place = new Map<string, number>();
  readonly #options: ProgressOptions;
  readonly #now: () => number;
  readonly #startedAt: number;
  #spentUsd = 0;
  /** Succeeded tasks adopted from another folder's or machine's run: paid there, not spent here. */
  #adoptedUsd = 0;
  #finishedThisRun = 0;
  #lastFinishAt: number;
  /** Provider refusals since a job last finished: 1303 (account slots) and 1302 (rate). */
  #refusals = { slots: 0, rate: 0 };
  #snapshot: (() => WaitSnapshot) | undefined;
  #bars: cliProgress.MultiBar | undefined;
  readonly #barOf = new Map<string, cliProgress.SingleBar>();
  #heartbeat: NodeJS.Timeout | undefined;
  #layoutCache: Layout | undefined;
  /** The fields every variant shares (said once), '' when there is one variant. */
  readonly #common: string;

  constructor(options: ProgressOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#startedAt = this.#now();
    this.#lastFinishAt = this.#startedAt;
    const groups = groupByVariant(options.plan.jobs, (job) => job);
    const labels = variantLabels(groups.map(({ variant }) => variant));
    this.#common = labels.common;
    for (const { variant, items } of groups) {
      const group = { label: cutText(labels.label(variant), MAX_LABEL), full: variant.label, counts: emptyCounts(items.length) };
      for (const job of items) this.#place.set(job.id, this.#groupList.length * PLACES + BUCKETS.length);
      this.#groups.set(variant.key, group);
      this.#groupList.push(group);
    }
    for (const job of options.plan.jobs) {
      this.#overall.total += 1;
      const state = options.states.get(job.id);
      // An earlier run's budget skip is work left: this run submits it, unless its own budget skips it again.
      const bucket = state?.phase === 'skipped_budget' ? 'queued' : bucketOf(state);
      this.#move(job, bucket);
      if (bucket === 'succeeded' || bucket === 'downloading') this.#addSucceeded(job, state);
    }
  }

  /** The runner's reading of what it waits on (RunInput.watch). */
  watch(snapshot: () => WaitSnapshot): void {
    this.#snapshot = snapshot;
  }

  get #format(): LogFormat {
    return this.#options.format ?? 'text';
  }

  /** The terminal's width now. */
  #columns(): number {
    const { columns } = this.#options;
    return (typeof columns === 'function' ? columns() : columns) ?? process.stderr.columns ?? 100;
  }

  start(): void {
    const format = this.#format;
    const every = this.#options.heartbeatMs ?? 30_000;
    if (format === 'quiet') return;
    if (format === 'json') {
      const variants = [...this.#groups.values()].map(({ full, counts }) => ({ variant: full, jobs: counts.total }));
      this.#json(startRecord(this.#now(), this.#overall.total, variants, this.#common));
      this.#heartbeat = setInterval(() => this.#json(this.#progressRecord()), every);
    } else {
      if (this.#common) this.#options.write(`${cutText(`same for every job: ${this.#common}`, this.#options.isTTY ? this.#columns() - 1 : Infinity)}\n`);
      if (this.#options.isTTY) return this.#startBars();
      this.#heartbeat = setInterval(() => this.#options.write(`${this.heartbeatLine()}\n`), every);
    }
    this.#heartbeat.unref();
  }

  #startBars(): void {
    const columns = (): number => this.#columns();
    this.#bars = new cliProgress.MultiBar(
      {
        // Each line is laid out here, to the width of the moment: cli-progress only draws it, and
        // redraws it when it changes (a resized window).
        format: (_options, params, payload: { key: string }) => this.#lineOf(payload.key, params.progress, columns()),
        hideCursor: true,
        clearOnComplete: false,
        // Through `write` like every other line (and its redaction); cli-progress needs only these.
        stream: {
          isTTY: true,
          get columns() {
            return columns();
          },
          write: (text: string) => (this.#options.write(text), true),
        } as unknown as NodeJS.WritableStream,
      },
      cliProgress.Presets.shades_classic,
    );
    this.#barOf.set('', this.#bars.create(this.#overall.total, 0, { key: '' }));
    for (const [key, { counts }] of this.#groups) this.#barOf.set(key, this.#bars.create(counts.total, 0, { key }));
    this.#bars.create(1, 0, { key: STATUS });
    this.#render();
  }

  #json(text: string): void {
    (this.#options.writeJson ?? this.#options.write)(text);
  }

  #progressRecord(): string {
    const left = this.#left();
    return progressRecord(this.#now(), this.#overall, { spentUsd: this.#spentUsd, adoptedUsd: this.#adoptedUsd }, this.#etaS(left), this.#waitingParts());
  }

  onEvent(event: JournalEvent, state: JobState, job: ShownJob | undefined): void {
    if (event.ev === 'rejected' && event.retryable) {
      if (event.code === 1303) this.#refusals.slots += 1;
      if (event.code === 1302) this.#refusals.rate += 1;
    }
    // Jobs from an earlier version of the manifest are finished quietly: the bars count the plan's.
    if (!job || event.ev === 'header' || event.ev === 'run' || !this.#place.has(job.id)) return;
    const before = this.#bucketOf(job.id);
    const after = bucketOf(state);
    if (event.ev === 'succeeded' && before !== 'downloading') this.#addSucceeded(job, state);
    if (before !== after) {
      this.#move(job, after);
      if (isDone(after)) {
        this.#finishedThisRun += 1;
        this.#lastFinishAt = this.#now();
        this.#refusals = { slots: 0, rate: 0 };
      }
    }
    if (this.#bars) {
      if (before !== after) this.#render();
      return;
    }
    if (this.#format === 'json') return this.#json(eventRecord(event, job, this.#groupOf(job.id)?.full ?? '', state.phase));
    if (this.#format === 'quiet') return;
    const line = describe(event, state);
    if (line) this.#options.write(`${job.external_task_id} ${this.#groupOf(job.id)?.label ?? ''}: ${line}\n`);
  }

  /** A line of its own (e.g. "Interrupted: …"): above the bars on a terminal. */
  note(text: string): void {
    this.log(`${text}\n`);
  }

  /**
   * Text of the run's log (the logger's warnings), whole lines: above the bars while they are
   * drawn, so a warning does not tear them; as it is before start and after stop.
   */
  log(text: string): void {
    if (this.#bars?.isActive) this.#bars.log(text);
    else this.#options.write(text);
  }

  stop(): void {
    if (this.#heartbeat) clearInterval(this.#heartbeat);
    // The last counts, once: a program reading the lines sees where the run ended.
    if (this.#heartbeat && this.#format === 'json') this.#json(this.#progressRecord());
    this.#heartbeat = undefined;
    // cli-progress writes logged lines on its next redraw, and stop() does not redraw: one now, or the last warnings are lost.
    if (this.#bars?.isActive) this.#bars.update();
    this.#bars?.stop();
  }

  /** The heartbeat's line (non-TTY): every count, and what the run waits for when nothing finished for a while. */
  heartbeatLine(): string {
    const waiting = this.#waiting();
    return `progress: ${this.#statsOf('', true).replace(' | ', ' done | ')}${waiting ? ` | ${waiting}` : ''}`;
  }

  #waiting(): string {
    const parts = this.#waitingParts();
    return parts.length ? `waiting for ${parts.join('; ')}` : '';
  }

  #waitingParts(): string[] {
    if (this.#now() - this.#lastFinishAt < QUIET_MS) return [];
    return waitingFor(this.#overall, this.#snapshot?.(), this.#refusals);
  }

  #groupAt(place: number): Group | undefined {
    return this.#groupList[Math.floor(place / PLACES)];
  }

  #groupOf(id: string): Group | undefined {
    const place = this.#place.get(id);
    return place === undefined ? undefined : this.#groupAt(place);
  }

  #bucketOf(id: string): Bucket | undefined {
    const place = this.#place.get(id);
    return place === undefined ? undefined : bucketAt(place);
  }

  #move(job: ShownJob, bucket: Bucket): void {
    const place = this.#place.get(job.id);
    if (place === undefined) return;
    const previous = bucketAt(place);
    for (const counts of [this.#overall, this.#groupAt(place)?.counts]) {
      if (!counts) continue;
      if (previous) counts[previous] -= 1;
      counts[bucket] += 1;
    }
    this.#place.set(job.id, place - (place % PLACES) + BUCKETS.indexOf(bucket));
  }

  #addSucceeded(job: ShownJob, state: JobState | undefined): void {
    if (adoptedFromElsewhere(state)) this.#adoptedUsd += job.cost_usd ?? 0;
    else this.#spentUsd += job.cost_usd ?? 0;
  }

  #render(): void {
    this.#barOf.get('')?.update(this.#overall.succeeded + this.#overall.failed + this.#overall.skipped);
    for (const [key, { counts }] of this.#groups) this.#barOf.get(key)?.update(counts.succeeded + counts.failed + counts.skipped);
  }

  /** The counts and label of a line, by its bar's key. */
  #lineParts(key: string): { label: string; counts: Counts; extra: string } {
    if (key === '') {
      const adopted = this.#adoptedUsd > 0 ? ` | adopted ~$${this.#adoptedUsd.toFixed(2)}` : '';
      return { label: 'all', counts: this.#overall, extra: ` | spent ~$${this.#spentUsd.toFixed(2)}${adopted} | ETA ${this.#eta()}` };
    }
    const group = this.#groups.get(key);
    return { label: group?.label ?? '', counts: group?.counts ?? emptyCounts(0), extra: '' };
  }

  /** The stats of a line: wide (every count) or narrow (the finished ones, spend and ETA). */
  #statsOf(key: string, wide: boolean): string {
    const { counts, extra } = this.#lineParts(key);
    return `${statsText(counts, wide)}${wide ? extra : extra.replaceAll(' | ', ' ').replace('spent ', '')}`;
  }

  /**
   * How lines share the width, computed once per moment (cli-progress draws the lines one by one):
   * every count if they fit beside a bar of MIN_BAR, else the narrow stats; labels are shortened
   * before the bar shrinks, and the numbers are never cut.
   */
  #layout(width: number): Layout {
    const at = this.#now();
    if (this.#layoutCache?.at === at && this.#layoutCache.width === width) return this.#layoutCache;
    const keys = ['', ...this.#groups.keys()];
    const longest = (wide: boolean) => Math.max(...keys.map((k) => this.#statsOf(k, wide).length));
    const fullLabel = Math.max(3, ...keys.map((k) => this.#lineParts(k).label.length));
    const wide = fullLabel + 4 + MIN_BAR + longest(true) <= width;
    const stats = longest(wide);
    const labelWidth = Math.min(fullLabel, Math.max(MIN_LABEL, width - 4 - MIN_BAR - stats));
    this.#layoutCache = { at, width, wide, labelWidth, bar: Math.max(0, Math.min(MAX_BAR, width - labelWidth - 4 - stats)) };
    return this.#layoutCache;
  }

  /** One line of the display at `columns`. */
  #lineOf(key: string, progress: number, columns: number): string {
    const width = columns - 1; // writing the last column makes some terminals wrap
    const layout = this.#layout(width);
    if (key === STATUS) {
      // On a narrow terminal the bars leave out the unfinished jobs: they are told here.
      const parts = [...(layout.wide ? [] : [activityParts(this.#overall).join(' · ')]), this.#waiting()].filter(Boolean);
      return cutText(parts.join(' · '), width);
    }
    const stats = this.#statsOf(key, layout.wide);
    const bar = Math.max(0, Math.min(layout.bar, width - layout.labelWidth - 4 - stats.length));
    const labelRoom = Math.min(layout.labelWidth, width - 4 - bar - stats.length);
    if (labelRoom < 1) return stats;
    const filled = Math.round(progress * bar);
    return `${cutText(this.#lineParts(key).label, labelRoom).padEnd(labelRoom)} [${'█'.repeat(filled)}${'░'.repeat(bar - filled)}] ${stats}`;
  }

  #left(): number {
    return this.#overall.total - this.#overall.succeeded - this.#overall.failed - this.#overall.skipped;
  }

  /** Seconds left at this run's pace; 0 when done, null before anything finished. */
  #etaS(left: number): number | null {
    if (left <= 0) return 0;
    if (this.#finishedThisRun === 0) return null;
    return Math.round((((this.#now() - this.#startedAt) / this.#finishedThisRun) * left) / 1000);
  }

  #eta(): string {
    const left = this.#left();
    const seconds = this.#etaS(left);
    if (seconds === null || left <= 0) return left <= 0 ? 'done' : '…';
    return seconds >= 90 ? `${Math.round(seconds / 60)} min` : `${seconds} s`;
  }
}

/** The key of the status line under the bars. */
const STATUS = '\0status';
