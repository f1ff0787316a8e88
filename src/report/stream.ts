// report.json written a few hundred jobs at a time: at 100,000 jobs its text is ~150 MB, which is
// never held as one string, and a streamed report's jobs are never held at all. The bytes are
// JSON.stringify(report, null, 2) and a newline, as before.
import { join } from 'node:path';
import { jsonFileChunks } from '../json-chunks.js';
import { REPORT_FILE } from '../state/output-folder.js';
import { type StreamedReport, asStream, inFileOrder } from './build.js';
import type { Report } from './schema.js';
import { writeFileAtomic } from './write.js';

/** The report's text in pieces; a streamed report's jobs are made as they are written. */
export function reportJsonChunks(report: Report | StreamedReport): Generator<string> {
  const { summary, jobs } = asStream(report);
  return jsonFileChunks(inFileOrder(summary, jobs()), 'jobs');
}

/** Writes report.json into the output folder (atomically); returns its path. */
export function writeReportJson(outputDir: string, report: Report | StreamedReport): string {
  const file = join(outputDir, REPORT_FILE);
  writeFileAtomic(file, reportJsonChunks(report));
  return file;
}
