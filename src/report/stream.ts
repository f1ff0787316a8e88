// report.json written a few hundred jobs at a time: at 100,000 jobs its text is ~150 MB, which is
// never held as one string. The bytes are JSON.stringify(report, null, 2) and a newline, as before.
import { join } from 'node:path';
import { jsonFileChunks } from '../json-chunks.js';
import { REPORT_FILE } from '../state/output-folder.js';
import type { Report } from './schema.js';
import { writeFileAtomic } from './write.js';

export const reportJsonChunks = (report: Report): Generator<string> => jsonFileChunks(report, 'jobs');

/** Writes report.json into the output folder (atomically); returns its path. */
export function writeReportJson(outputDir: string, report: Report): string {
  const file = join(outputDir, REPORT_FILE);
  writeFileAtomic(file, reportJsonChunks(report));
  return file;
}
