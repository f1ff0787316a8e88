// report.json read a job at a time: at 100,000 jobs the file is ~150 MB (~700 MB parsed whole).
// The jobs are found by the layout klingrun writes (JSON.stringify with two-space indents); a file
// laid out otherwise is read whole, as read.ts does.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { type ReportSummary, type StreamedReport, asStream } from './build.js';
import { parseReportText, readReportFile, unreadable } from './read.js';
import { type ReportJob, reportJobSchema, reportSchema } from './schema.js';

const CHUNK = 1 << 20;

/** A file's text in pieces, read through one reused buffer. */
function* fileText(file: string): Generator<string> {
  const fd = openSync(file, 'r');
  try {
    const buffer = Buffer.allocUnsafe(CHUNK);
    const decoder = new StringDecoder('utf8');
    for (let read = readSync(fd, buffer, 0, CHUNK, null); read > 0; read = readSync(fd, buffer, 0, CHUNK, null)) yield decoder.write(buffer.subarray(0, read));
    yield decoder.end();
  } finally {
    closeSync(fd);
  }
}

const JOBS_OPEN = '\n  "jobs": [\n';
const ITEM_OPEN = '    {\n';
const ITEM_CLOSE = '\n    }';

/**
 * The jobs' texts of report.json as klingrun writes it (JSON.stringify(report, null, 2)): each job
 * is the text from `    {` to `    }` inside `  "jobs": [`, lines no other member has at that
 * indent (a raw newline only ever separates tokens).
 */
function* reportFileParts(file: string): Generator<string> {
  let text = '';
  let inJobs = false;
  for (const piece of fileText(file)) {
    text += piece;
    if (!inJobs) {
      const open = text.indexOf(JOBS_OPEN);
      if (open < 0) continue;
      text = text.slice(open + JOBS_OPEN.length);
      inJobs = true;
    }
    for (;;) {
      const close = text.indexOf(ITEM_CLOSE);
      // The item's end and what follows it: `,\n` and the next item, or `\n  ]`.
      if (close < 0 || text.length < close + ITEM_CLOSE.length + 4) break;
      if (!text.startsWith(ITEM_OPEN)) throw new Error('a job does not start as klingrun writes it');
      yield text.slice(0, close + ITEM_CLOSE.length);
      const after = text.slice(close + ITEM_CLOSE.length, close + ITEM_CLOSE.length + 4);
      if (after === '\n  ]') return;
      if (!after.startsWith(',\n')) throw new Error('a job does not end as klingrun writes it');
      text = text.slice(close + ITEM_CLOSE.length + 2);
    }
  }
  throw new Error('its jobs end before the list of jobs does');
}

/** One job's text, parsed and validated (`index` names it in the message). */
const jobOf = (text: string, index: number, file: string, fix: string): ReportJob => parseReportText(text, reportJobSchema, file, fix, ['jobs', index]);

export interface ReportFile {
  /** The report; a file read a job at a time is read (and validated) again each time its jobs are. */
  readonly stream: StreamedReport;
  /** The ids of its jobs that come from the manifest (`entry` set): a `run --shard` folder's slice. Read when asked. */
  plannedIds(): ReadonlySet<string>;
}

/** The summary part of a report file's text (its `jobs` empty), validated. */
function summaryOf(head: string, file: string, fix: string): ReportSummary {
  const { jobs: _empty, ...summary } = parseReportText(head, reportSchema, file, fix);
  return summary;
}

/** How much of each end of the file holds what is not its jobs (the summary, the reproduce block). */
const END = 1 << 20;

/**
 * The file's text with its jobs left out, from its two ends alone: a
 * 100,000-job report.json is ~150 MB, all but a few kB of it jobs. Undefined when the ends are
 * not those klingrun writes.
 */
function endsOf(file: string): string | undefined {
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    const read = (position: number, length: number): string => {
      const buffer = Buffer.allocUnsafe(length);
      return buffer.toString('utf8', 0, readSync(fd, buffer, 0, length, position));
    };
    const start = read(0, Math.min(size, END));
    const open = start.indexOf(JOBS_OPEN);
    if (!start.startsWith('{') || open < 0) return undefined;
    const end = read(Math.max(0, size - END), Math.min(size, END));
    const close = end.lastIndexOf(`${ITEM_CLOSE}\n  ]`);
    // Both ends cut at ASCII: a multi-byte character split by a read is never in what is kept.
    if (close < 0) return undefined;
    return `${start.slice(0, open)}\n  "jobs": []${end.slice(close + ITEM_CLOSE.length + 4)}`;
  } finally {
    closeSync(fd);
  }
}

/**
 * A report file, validated and never held whole: its summary from the file's ends, its jobs read
 * a job at a time (a file laid out otherwise than klingrun writes it is read whole); `fix` ends
 * the message when it cannot be read or is not a report.
 */
export function streamReportFile(file: string, fix: string): ReportFile {
  let head: string | undefined;
  try {
    head = endsOf(file);
  } catch (cause) {
    throw unreadable(file, fix, cause);
  }
  if (head === undefined) {
    const whole = readReportFile(file, fix);
    return { stream: asStream(whole), plannedIds: () => new Set(whole.jobs.filter((job) => job.entry !== null).map((job) => job.id)) };
  }
  const summary = summaryOf(head, file, fix);
  const texts = function* (): Generator<string> {
    try {
      yield* reportFileParts(file);
    } catch (cause) {
      throw unreadable(file, fix, cause);
    }
  };
  const jobs = function* (): Generator<ReportJob> {
    let index = 0;
    for (const text of texts()) yield jobOf(text, index++, file, fix);
  };
  // Only what a rebuild keeps of the jobs (it replaces them): not validated, just parsed.
  const plannedIds = (): ReadonlySet<string> => {
    const ids = new Set<string>();
    for (const text of texts()) {
      let job: { id?: unknown; entry?: unknown };
      try {
        job = JSON.parse(text) as typeof job;
      } catch (cause) {
        throw unreadable(file, fix, cause);
      }
      if (typeof job.id === 'string' && job.entry !== null) ids.add(job.id);
    }
    return ids;
  };
  return { stream: { summary, jobs }, plannedIds };
}

/** The report once every job has been read and validated: a damaged entry is found before anything is written. */
export function validated(stream: StreamedReport): StreamedReport {
  for (const _job of stream.jobs()) {
    // jobs() validates each as it is read.
  }
  return stream;
}
