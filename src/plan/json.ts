// The plan's canonical text: what `plan --json` prints and what the report's plan_sha256 hashes,
// i.e. `JSON.stringify(plan, null, 2)` and a newline. Made a few hundred jobs at a time: a
// 100,000-job plan is about 100 MB of text, which is never held as one string.
import { createHash } from 'node:crypto';
import type { Plan } from './schema.js';

/** Jobs per piece: big enough that writing costs few calls, small enough to stay a few hundred kB. */
const JOBS_PER_CHUNK = 256;

/**
 * `text` one level further in JSON.stringify's two-space layout. A raw newline only ever
 * separates tokens (inside strings it is escaped), so prefixing each line is exact.
 */
const nested = (text: string, pad: string): string => text.replaceAll('\n', `\n${pad}`);

/** What JSON.stringify puts around the jobs of `{ jobs }`, which sit as deep as in the plan. */
const OPEN = '{\n  "jobs": [\n';
const CLOSE = '\n  ]\n}';

/** The jobs array's inside, a slice at a time: each job four spaces in, as in the whole text. */
function* jobsText(jobs: Plan['jobs']): Generator<string> {
  for (let start = 0; start < jobs.length; start += JOBS_PER_CHUNK) {
    const wrapped = JSON.stringify({ jobs: jobs.slice(start, start + JOBS_PER_CHUNK) }, null, 2);
    yield `${start === 0 ? '' : ',\n'}${wrapped.slice(OPEN.length, -CLOSE.length)}`;
  }
}

/** The plan's text in pieces whose concatenation is exactly `JSON.stringify(plan, null, 2) + '\n'`. */
export function* planJsonChunks(plan: Plan): Generator<string> {
  // JSON.stringify leaves out undefined members and keeps the object's own key order.
  const entries = Object.entries(plan).filter(([, value]) => value !== undefined);
  yield '{\n';
  for (const [k, [key, value]] of entries.entries()) {
    const name = `${k ? ',\n' : ''}  ${JSON.stringify(key)}: `;
    if (key === 'jobs' && Array.isArray(value) && value.length > 0) {
      yield `${name}[\n`;
      yield* jobsText(value as Plan['jobs']);
      yield '\n  ]';
    } else {
      yield `${name}${nested(JSON.stringify(value, null, 2), '  ')}`;
    }
  }
  yield '\n}\n';
}

export function planSha256(plan: Plan): string {
  const hash = createHash('sha256');
  for (const chunk of planJsonChunks(plan)) hash.update(chunk);
  return hash.digest('hex');
}
