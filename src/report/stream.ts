// report.json written a few hundred jobs at a time: at 100,000 jobs its text is ~150 MB, which is
// never held as one string, and a streamed report's jobs are never held at all. The bytes are
// JSON.stringify(report, null, 2) and a newline, as before.
import { join } from 'node:path';
import { jsonFileChunks } from '../json-chunks.js';
import { REPORT_FILE } from '../state/output-folder.js';
import type { StreamedReport } from './build.js';
import type { Report } from './schema.js';
import { writeFileAtomic } from './write.js';

/** The report's members in report.json's order, its jobs made as they are written when streamed. */
function members(report: Report | StreamedReport): object {
  if (!('summary' in report)) return report;
  const { reproduce, ...head } = report.summary;
  return { ...head, jobs: report.jobs(), reproduce };
}

export const reportJsonChunks = (report: Report | StreamedReport): Generator<string> => jsonFileChunks(members(report), 'jobs');

/** Writes report.json into the output folder (atomically); returns its path. */
export function writeReportJson(outputDir: string, report: Report | StreamedReport): string {
  const file = join(outputDir, REPORT_FILE);
  writeFileAtomic(file, reportJsonChunks(report));
  return file;
}
