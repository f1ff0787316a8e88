// A person's verdict on each clip, kept in the output folder as ratings.json: the gallery shows and
// saves it, `klingrun rate` edits it, `export --where rating=keep` reads it. It is the one file of a
// folder that klingrun never derives from the journal, so it is written whole (temp file, rename)
// and a file that does not fit is an error that says how to fix it, never silently replaced.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { InputError } from '../errors.js';

export const RATINGS_FILE = 'ratings.json';

export const ratingSchema = z.enum(['keep', 'reject']);
export type Rating = z.infer<typeof ratingSchema>;

/** Keyed by job id (the 64-hex id of report.json); a job without a verdict is absent. */
export const ratingsFileSchema = z.strictObject({
  version: z.literal(1),
  ratings: z.record(z.string().regex(/^[0-9a-f]{64}$/, 'a job id (64 hex digits, as in report.json)'), ratingSchema),
});
export type RatingsFile = z.infer<typeof ratingsFileSchema>;

export function ratingsPath(outputDir: string): string {
  return join(outputDir, RATINGS_FILE);
}

/** Parses a ratings file's text; `file` names it in the error. */
export function parseRatings(text: string, file: string): Map<string, Rating> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new InputError('input_invalid', `${file} is not JSON (${(cause as Error).message}). Save the ratings again from the gallery, or fix the file by hand: {"version": 1, "ratings": {"<job id>": "keep"}}.`, { cause });
  }
  const parsed = ratingsFileSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const at = issue?.path.join('.') || '(top level)';
    throw new InputError('input_invalid', `${file}: \`${at}\`: ${issue?.message ?? 'invalid'}. A ratings file is {"version": 1, "ratings": {"<job id>": "keep" | "reject"}}; save it again from the gallery or fix that entry.`);
  }
  return new Map(Object.entries(parsed.data.ratings));
}

/** The folder's ratings; none when it has no ratings.json. */
export function readRatings(outputDir: string): Map<string, Rating> {
  const file = ratingsPath(outputDir);
  if (!existsSync(file)) return new Map();
  return parseRatings(readFileSync(file, 'utf8'), file);
}

/** Writes the folder's ratings whole, sorted by job id so the file diffs well. */
export function writeRatings(outputDir: string, ratings: ReadonlyMap<string, Rating>): void {
  const file = ratingsPath(outputDir);
  const body: RatingsFile = { version: 1, ratings: Object.fromEntries([...ratings].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) };
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, `${JSON.stringify(body, null, 2)}\n`);
  renameSync(temp, file);
}
