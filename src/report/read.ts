// Reading a report file back: report.json is user-visible and may come from another version, so it
// is validated, and a file that does not fit says how to get a good one. This reads it whole (what
// `plan --check` needs, loading nothing of the report writers); read-stream.ts reads a big one a
// job at a time.
import { readFileSync } from 'node:fs';
import type { z } from 'zod';
import { InputError } from '../errors.js';
import { type Report, reportSchema } from './schema.js';

export function unreadable(file: string, fix: string, cause: unknown): InputError {
  return new InputError('input_invalid', `Cannot read ${file}: ${(cause as Error).message}. ${fix}`, { cause });
}

function notAReport(file: string, fix: string, error: z.ZodError, at: readonly (string | number)[]): InputError {
  const issue = error.issues[0];
  const path = [...at, ...(issue?.path ?? [])].join('.');
  return new InputError('input_invalid', `${file} is not a klingrun report (at \`${path || '(top level)'}\`: ${issue?.message ?? 'invalid'}); it may come from another version. ${fix}`);
}

/**
 * Text of a report file (the whole report, or a part: its summary, one job at `at`) parsed and
 * checked against `schema`; `fix` ends the message when it is not JSON or does not fit.
 */
export function parseReportText<S extends z.ZodType>(text: string, schema: S, file: string, fix: string, at: readonly (string | number)[] = []): z.infer<S> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw unreadable(file, fix, cause);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw notAReport(file, fix, parsed.error, at);
  return parsed.data;
}

/** A report file, validated; `fix` ends the message when it cannot be read or is not a report. */
export function readReportFile(file: string, fix: string): Report {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw unreadable(file, fix, cause);
  }
  return parseReportText(text, reportSchema, file, fix);
}
