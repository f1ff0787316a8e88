// The journal's records: one JSON object per line of state.jsonl. The journal is the only memory
// of a run; a job's state is whatever replaying its events says (see runner/actions.ts).
import { z } from 'zod';
import { jobRequestSchema } from '../plan/schema.js';

const base = {
  /** Milliseconds since the epoch when the event was written. */
  t: z.number(),
};
const jobBase = { ...base, job: z.string().regex(/^[0-9a-f]{64}$/) };
const attempt = z.number().int().positive();

export const journalEventSchema = z.discriminatedUnion('ev', [
  /** First line of every journal: which batch this folder belongs to. */
  z.strictObject({ ...base, ev: z.literal('header'), version: z.literal(1), name: z.string(), tool_version: z.string() }),
  /** Each `run` invocation appends one, so the report can tell runs apart. */
  z.strictObject({ ...base, ev: z.literal('run'), pid: z.number().int(), manifest_sha256: z.string(), argv: z.array(z.string()) }),
  /** Written and fsynced BEFORE the POST: from here on a task may exist at the provider. */
  z.strictObject({ ...jobBase, ev: z.literal('submitting'), attempt, external_task_id: z.string(), request: jobRequestSchema }),
  /** The provider answered the POST with a task id. */
  z.strictObject({ ...jobBase, ev: z.literal('submitted'), attempt, task_id: z.string(), created_at: z.number().optional() }),
  /** The provider answered the POST with a refusal: no task was created by that attempt's POST. */
  z.strictObject({ ...jobBase, ev: z.literal('rejected'), attempt, code: z.union([z.number(), z.string()]), message: z.string(), retryable: z.boolean() }),
  /** A task found by external_task_id (lookup or list scan) after a lost answer. */
  z.strictObject({ ...jobBase, ev: z.literal('adopted'), attempt, task_id: z.string(), via: z.enum(['lookup', 'list', 'duplicate']) }),
  /** A status change seen while polling. */
  z.strictObject({ ...jobBase, ev: z.literal('status'), task_id: z.string(), task_status: z.string() }),
  z.strictObject({
    ...jobBase,
    ev: z.literal('succeeded'),
    task_id: z.string(),
    videos: z.array(z.strictObject({ id: z.string(), url: z.string(), duration: z.string() })),
    finished_at: z.number().optional(),
  }),
  z.strictObject({
    ...jobBase,
    ev: z.literal('downloaded'),
    path: z.string(),
    sha256: z.string(),
    bytes: z.number().int().nonnegative(),
    duration_s: z.number().optional(),
    width: z.number().int().optional(),
    height: z.number().int().optional(),
    /** Read from the clip's header like the above; absent in journals written before they were recorded. */
    fps: z.number().optional(),
    codec: z.string().optional(),
    frames: z.number().int().optional(),
    warnings: z.array(z.string()).optional(),
    /** The file is not a playable MP4 (the provider charged for it: the user must see it). */
    invalid: z.boolean().optional(),
  }),
  z.strictObject({
    ...jobBase,
    ev: z.literal('failed'),
    attempt,
    code: z.union([z.number(), z.string()]),
    message: z.string(),
    /** Whether `--retry-failed` may start a new attempt (retryable or moderation reasons). */
    retriable: z.boolean(),
  }),
  z.strictObject({ ...jobBase, ev: z.literal('timed_out'), attempt, task_id: z.string().optional() }),
  /** A duplicate external_task_id was refused but the task could not be found: never pay twice. */
  z.strictObject({ ...jobBase, ev: z.literal('orphaned'), attempt, external_task_id: z.string(), message: z.string() }),
  z.strictObject({ ...jobBase, ev: z.literal('skipped_budget'), cost_usd: z.number().nullable() }),
]);
export type JournalEvent = z.infer<typeof journalEventSchema>;
export type JournalEventType = JournalEvent['ev'];
export type JobEvent = Exclude<JournalEvent, { ev: 'header' } | { ev: 'run' }>;
