// The plan's canonical text: what `plan --json` prints and what the report's plan_sha256 hashes,
// i.e. `JSON.stringify(plan, null, 2)` and a newline, made a few hundred jobs at a time.
import { createHash } from 'node:crypto';
import { jsonFileChunks } from '../json-chunks.js';
import type { Plan } from './schema.js';

/** The plan's text in pieces whose concatenation is exactly `JSON.stringify(plan, null, 2) + '\n'`. */
export const planJsonChunks = (plan: Plan): Generator<string> => jsonFileChunks(plan, 'jobs');

/** The whole text, for library callers with small plans (the CLI writes the pieces). */
export const planJson = (plan: Plan): string => [...planJsonChunks(plan)].join('');

export function planSha256(plan: Plan): string {
  const hash = createHash('sha256');
  for (const chunk of planJsonChunks(plan)) hash.update(chunk);
  return hash.digest('hex');
}
