// Reading a report file back: report.json is user-visible and may come from another version, so it
// is validated, and a file that does not fit says how to get a good one.
import { readFileSync } from 'node:fs';
import { InputError } from '../errors.js';
import { type Report, reportSchema } from './schema.js';

/** A report file, validated; `fix` ends the message when it cannot be read or is not a report. */
export function readReportFile(file: string, fix: string): Report {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, 'utf8'));
  } catch (cause) {
    throw new InputError('input_invalid', `Cannot read ${file}: ${(cause as Error).message}. ${fix}`, { cause });
  }
  const parsed = reportSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InputError('input_invalid', `${file} is not a klingrun report (at \`${issue?.path.join('.') || '(top level)'}\`: ${issue?.message ?? 'invalid'}); it may come from another version. ${fix}`);
  }
  return parsed.data;
}
