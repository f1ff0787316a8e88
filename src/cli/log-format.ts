// What a run prints while it goes, for a person or a program: `--log-format text` (a line per job
// event that matters, and a heartbeat), `--log-format json` (JSON lines on stdout, one record each,
// docs/log-format.md) or `--quiet` (only errors, warnings and the final summary). On a terminal
// `text` draws the progress bars instead.
import { UsageError } from '../errors.js';
import type { ReportSummary } from '../report/build.js';
import type { JournalEvent } from '../state/events.js';
import { type CliIO, ioWith } from './io.js';
import type { BooleanOptionSpec, StringOptionSpec } from './options.js';

export const LOG_FORMATS = ['text', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number] | 'quiet';

/** The version of the JSON records: a change that renames or removes a field raises it. */
export const LOG_FORMAT_VERSION = 1;

export const LOG_FORMAT_OPTION: StringOptionSpec = {
  type: 'string',
  value: 'FORMAT',
  description: 'what a run prints as it goes: text (a line per job event, or progress bars on a terminal) or json (JSON lines on stdout, one per event and progress summary; see docs/log-format.md)',
  defaultText: 'text',
  rule: { kind: 'choice', values: LOG_FORMATS },
};

export const QUIET_OPTION: BooleanOptionSpec = { type: 'boolean', short: 'q', description: 'print only errors, warnings and the final summary' };

/** The format asked for: `--quiet` wins over a text format, and is refused beside json (which is quiet on its own terms). */
export function logFormatOf(format: string | undefined, quiet: boolean): LogFormat {
  // The option's rule refuses other words as the line is parsed; a command run without parsing (a test) still gets one.
  if (format !== undefined && !(LOG_FORMATS as readonly string[]).includes(format)) {
    throw new UsageError(`Expected \`--log-format\` to be one of ${LOG_FORMATS.join(', ')}, got \`${format}\`.`);
  }
  if (quiet && format === 'json') throw new UsageError('`--quiet` and `--log-format json` do not go together: json prints records for programs; leave one out.');
  return quiet ? 'quiet' : (format as LogFormat | undefined) ?? 'text';
}

/** One JSON line. */
const line = (record: Readonly<Record<string, unknown>>): string => `${JSON.stringify({ v: LOG_FORMAT_VERSION, ...record })}\n`;

/** The run begins: how many jobs, each variant's label and jobs, and what every variant shares. */
export function startRecord(t: number, jobs: number, variants: readonly { readonly variant: string; readonly jobs: number }[], same: string): string {
  return line({ type: 'start', t, jobs, variants, same_for_every_job: same });
}

/**
 * A journal event as it was written (state/events.ts names and fields), with the job's
 * external_task_id, its variant's label and where the job stands after it (`phase`). The request
 * of a `submitting` event is left out: it is the plan's (plan --json).
 */
export function eventRecord(event: JournalEvent, job: { readonly external_task_id: string }, variant: string, phase: string): string {
  const { ev, t, ...rest } = event;
  const fields: Record<string, unknown> = { ...rest };
  delete fields.request;
  return line({ type: 'event', t, ev, ...fields, external_task_id: job.external_task_id, variant, phase });
}

/** Every count of a moment, as the progress display shows it. */
export interface ProgressCounts {
  readonly total: number;
  readonly queued: number;
  readonly inFlight: number;
  readonly downloading: number;
  readonly unconfirmed: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly skipped: number;
}

export function progressRecord(t: number, c: ProgressCounts, money: { readonly spentUsd: number; readonly adoptedUsd: number }, etaS: number | null, waitingFor: readonly string[]): string {
  return line({
    type: 'progress',
    t,
    jobs: c.total,
    done: c.succeeded + c.failed + c.skipped,
    queued: c.queued,
    in_flight: c.inFlight,
    downloading: c.downloading,
    unconfirmed: c.unconfirmed,
    succeeded: c.succeeded,
    failed: c.failed,
    skipped: c.skipped,
    spent_usd: round(money.spentUsd),
    adopted_usd: round(money.adoptedUsd),
    eta_s: etaS,
    waiting_for: waitingFor,
  });
}

/** The run's end: report.json's totals and cost, and whether it was interrupted. */
export function summaryRecord(t: number, report: Pick<ReportSummary, 'totals' | 'cost'>, interrupted: boolean): string {
  return line({ type: 'summary', t, interrupted, totals: report.totals, cost: report.cost });
}

const round = (usd: number): number => Math.round(usd * 1e6) / 1e6;

/** Where a run's text goes under a format, and how its end is told. */
export interface RunOutputs {
  readonly format: LogFormat;
  /** The io the run prints through: under json its stdout is stderr; under quiet its stdout is held until the end. */
  readonly io: CliIO;
  /** Where JSON lines go: the real stdout. */
  readonly json: (text: string) => void;
  /** The run is over: quiet lets the final summary through; json writes its summary record. */
  end(report: Pick<ReportSummary, 'totals' | 'cost'>, interrupted: boolean): void;
}

/** A run's outputs: JSON lines alone on stdout under json; under quiet, nothing on stdout before the final summary. */
export function runOutputs(io: CliIO, format: LogFormat, now: () => number = Date.now): RunOutputs {
  let held = format === 'quiet';
  const stdout = format === 'json' ? io.stderr : (text: string): void => void (held || io.stdout(text));
  return {
    format,
    io: ioWith(io, { stdout }),
    json: io.stdout,
    end: (report, interrupted) => {
      held = false;
      if (format === 'json') io.stdout(summaryRecord(now(), report, interrupted));
    },
  };
}
