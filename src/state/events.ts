// The journal's records: one JSON object per line of state.jsonl. The journal is the only memory
// of a run; a job's state is whatever replaying its events says (see runner/job-state.ts).
import { z } from 'zod';
import { jobRequestSchema } from '../plan/schema.js';

const base = {
  /** Milliseconds since the epoch when the event was written. */
  t: z.number(),
};
const jobBase = { ...base, job: z.string().regex(/^[0-9a-f]{64}$/) };
const attempt = z.number().int().positive();
/** What the provider says an ended task cost, when it says. */
const taskCost = {
  /** Units taken off the account (`final_unit_deduction`); USD = units × the unit price. */
  units: z.number().nonnegative().optional(),
  /** Kling's list price of the task (`final_balance_deduction.list_price`). */
  list_price: z.number().nonnegative().optional(),
};

/** The journal format this klingrun writes and reads; a newer klingrun that changes it writes a higher one. */
export const JOURNAL_VERSION = 1;

export const journalEventSchema = z.discriminatedUnion('ev', [
  /** First line of every journal: which batch this folder belongs to, and the klingrun that began it. */
  z.strictObject({ ...base, ev: z.literal('header'), version: z.literal(JOURNAL_VERSION), name: z.string(), tool_version: z.string() }),
  /** Each `run` invocation appends one, so the report can tell runs apart. */
  z.strictObject({ ...base, ev: z.literal('run'), pid: z.number().int(), manifest_sha256: z.string(), argv: z.array(z.string()) }),
  /**
   * Written and fsynced BEFORE the POST: from here on a task may exist at the provider. It carries
   * what a later run needs to finish the job even if the manifest no longer has it: the request,
   * the estimate and where its video goes.
   */
  z.strictObject({
    ...jobBase,
    ev: z.literal('submitting'),
    attempt,
    external_task_id: z.string(),
    request: jobRequestSchema,
    path: z.string().optional(),
    cost_usd: z.number().nullable().optional(),
  }),
  /** The provider answered the POST with a task id. */
  z.strictObject({ ...jobBase, ev: z.literal('submitted'), attempt, task_id: z.string(), created_at: z.number().optional() }),
  /** The provider answered the POST with a refusal: no task was created by that attempt's POST. */
  z.strictObject({ ...jobBase, ev: z.literal('rejected'), attempt, code: z.union([z.number(), z.string()]), message: z.string(), retryable: z.boolean() }),
  /**
   * A task found by external_task_id (lookup or list scan): after a lost answer, after a duplicate
   * refusal, or before a first submit (a run from another folder or machine made it).
   */
  z.strictObject({
    ...jobBase,
    ev: z.literal('adopted'),
    attempt,
    task_id: z.string(),
    via: z.enum(['lookup', 'list', 'duplicate']),
    external_task_id: z.string().optional(),
    created_at: z.number().optional(),
  }),
  /** The provider's task may exist but could not be found, and its absence could not be proven: never resent automatically. */
  z.strictObject({
    ...jobBase,
    ev: z.literal('unconfirmed'),
    attempt,
    external_task_id: z.string(),
    message: z.string(),
    /** Whether its POST got no final answer and may still reach the provider (absent from older journals: unknown). */
    in_transit: z.boolean().optional(),
  }),
  /** A status change seen while polling. */
  z.strictObject({ ...jobBase, ev: z.literal('status'), task_id: z.string(), task_status: z.string() }),
  z.strictObject({
    ...jobBase,
    ev: z.literal('succeeded'),
    task_id: z.string(),
    videos: z.array(z.strictObject({ id: z.string().optional(), url: z.string(), duration: z.string().optional() })),
    finished_at: z.number().optional(),
    ...taskCost,
  }),
  z.strictObject({
    ...jobBase,
    ev: z.literal('downloaded'),
    path: z.string(),
    sha256: z.string(),
    bytes: z.number().int().nonnegative(),
    /** The file's mtime after it was written: an unchanged size and mtime spare re-hashing it on resume. */
    mtime_ms: z.number().optional(),
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
  /** A download gave up for this run (disk, URL, verification); a rerun tries again. */
  z.strictObject({ ...jobBase, ev: z.literal('download_failed'), message: z.string() }),
  z.strictObject({
    ...jobBase,
    ev: z.literal('failed'),
    attempt,
    code: z.union([z.number(), z.string()]),
    message: z.string(),
    /** Whether `--retry-failed` may start a new attempt (retryable or moderation reasons). */
    retriable: z.boolean(),
    /** Only for a task the provider ran and said what it cost (whether failed tasks are billed is not documented). */
    ...taskCost,
  }),
  z.strictObject({ ...jobBase, ev: z.literal('timed_out'), attempt, task_id: z.string().optional() }),
  /** A task id the provider gave us that it no longer knows, confirmed over a window. */
  z.strictObject({ ...jobBase, ev: z.literal('lost'), attempt, task_id: z.string(), message: z.string() }),
  /** A duplicate external_task_id was refused but the task could not be found: never pay twice. */
  z.strictObject({ ...jobBase, ev: z.literal('orphaned'), attempt, external_task_id: z.string(), message: z.string() }),
  /** Not submitted: it would have taken committed cost over --budget. `attempt` is the one it would have started. */
  z.strictObject({ ...jobBase, ev: z.literal('skipped_budget'), cost_usd: z.number().nullable(), attempt: attempt.optional() }),
]);
export type JournalEvent = z.infer<typeof journalEventSchema>;
export type JobEvent = Exclude<JournalEvent, { ev: 'header' } | { ev: 'run' }>;
