// zod schemas for everything that crosses the wire: the create-call body (from the provider's
// OpenAPI page, schemas/provider/), the task object, both response envelopes and gateway errors.
// Shared by the client, the emulator and the manifest validator, so the three cannot disagree.
import { z } from 'zod';
import { FIELD_NAMES, shapeOf } from '../request/fields.js';
import { LIMITS } from '../request/values.js';

// The provider's vocabulary lives with the field registry (src/request/); re-exported for the
// modules that have always read it here.
export { API_DEFAULTS, LIMITS, SOUNDS, trajectoryPointSchema } from '../request/values.js';
export const TASK_STATUSES = ['submitted', 'processing', 'succeed', 'failed'] as const;

export type TaskStatus = (typeof TASK_STATUSES)[number];

/**
 * The JSON body of POST /kling/v1/videos/image2video, exactly as received: every field of the
 * registry (src/request/fields.ts) and the generated `external_task_id`, each optional. `image` is
 * required but for an end-frame-only job (`image_tail` alone), which only some models take: the
 * model table says which, as it says which models, modes, durations and features go together and
 * how long a prompt may be (data/capabilities.ts, checked by the emulator after this schema).
 */
const fieldShape = shapeOf(FIELD_NAMES, 'wire');
export const createTaskBodySchema = z
  .strictObject(fieldShape)
  .partial()
  .extend({ external_task_id: z.string().min(1).max(LIMITS.externalTaskIdMax).optional() });

/** A body klingrun sends: `image`, or for an end-frame-only job `image_tail` alone. */
export type CreateTaskBody = z.infer<typeof createTaskBodySchema>;

// Answers are read leniently wherever klingrun can do without a value: the live service sends
// `null` for every field its OpenAPI marks nullable, adds fields of its own, and sends ids,
// durations and timestamps as numbers or strings. Strict only where a decision rests on the
// value (task id, status, the URL of any video a task lists), and then the message names the field.

/** `` `done` (string) ``: the value that did not fit, short, for a message that names its field. */
function got(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value) ?? String(value);
  return `\`${text.length > 40 ? `${text.slice(0, 39)}…` : text}\` (${value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value})`;
}

/** A field klingrun can do without: null, absent or unusable all read as absent. */
const optional = <T extends z.ZodType>(schema: T) => schema.optional().catch(undefined);
/** null reads as absent; any other value must fit. */
const nullable = <T extends z.ZodType>(schema: T) => z.preprocess((value) => (value === null ? undefined : value), schema.optional());

/** A number, or a string holding one. */
const looseNumber = z.union([z.number(), z.string().regex(/^\s*-?\d+(\.\d+)?\s*$/).transform(Number)]);
/**
 * Milliseconds since the epoch. A value below 10^12 cannot be one (that is September 2001) and is
 * read as seconds, which some gateways send.
 */
const timestamp = looseNumber.transform((value) => (Math.abs(value) < 1e12 ? value * 1000 : value));
/** A string, or a number sent for it. */
const looseString = z.union([z.string(), z.number().transform(String)]);
/** Units of a task's cost (or a price): a number or numeric string, never below 0. */
const units = looseNumber.pipe(z.number().nonnegative());

/** Keys whose value read as absent are dropped, so `null` and absent are the same object. */
function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as T;
}

/** Polled and downloaded by: a non-empty string, or a number small enough to be exact. */
const taskIdSchema = z.union([z.string(), z.number()], { error: (issue) => `expected a task id (a string), got ${got(issue.input)}` }).transform((id, ctx) => {
  if (typeof id === 'string' && id.trim() !== '') return id;
  if (typeof id === 'number' && Number.isSafeInteger(id) && id >= 0) return String(id);
  // parse.ts hands a 19-digit id sent as a JSON number over as its digits; a number that still is
  // not an exact integer here (1.5, 1e30) would poll another task.
  const problem = typeof id === 'number' ? `a number that cannot be an exact id, ${got(id)}` : 'an empty string';
  ctx.addIssue({ code: 'custom', message: `expected a task id (a string), got ${problem}` });
  return z.NEVER;
});

const isHttpUrl = (value: unknown): boolean => typeof value === 'string' && URL.canParse(value) && /^https?:$/.test(new URL(value).protocol);

export const videoSchema = z
  .looseObject({
    id: optional(looseString),
    url: z.custom<string>(isHttpUrl, { error: (issue) => `expected the video's http(s) URL, got ${got(issue.input)}` }),
    /** Seconds, as a string ("5"). */
    duration: optional(looseString),
    /** Read here too, then moved to the task (see taskResultSchema). */
    final_unit_deduction: optional(units),
  })
  .transform(withoutUndefined);

export interface Video {
  readonly [field: string]: unknown;
  readonly id?: string;
  readonly url: string;
  /** Seconds, as a string ("5"). */
  readonly duration?: string;
}

export interface TaskResult {
  readonly [field: string]: unknown;
  readonly videos?: readonly Video[];
}

/**
 * The service puts the units a task cost beside `task_status` (taskSchema). Earlier versions read
 * them on the result or on each video, and some gateways may still send them there: read, added
 * up, and handed to the task.
 */
const taskResultSchema = z
  .looseObject({ videos: nullable(z.array(videoSchema)), final_unit_deduction: optional(units) })
  .transform(({ videos, final_unit_deduction: onResult, ...rest }): { result: TaskResult; units: number | undefined } => {
    const onVideos = videos?.flatMap((video) => (video.final_unit_deduction === undefined ? [] : [video.final_unit_deduction])) ?? [];
    const plainVideos = videos?.map(({ final_unit_deduction: _moved, ...video }) => video);
    return { result: withoutUndefined({ ...rest, videos: plainVideos }), units: onResult ?? (onVideos.length > 0 ? onVideos.reduce((sum, n) => sum + n, 0) : undefined) };
  });

/**
 * `final_balance_deduction`: what the task took off the account's balance. `list_price` is what
 * Kling's price list says the task cost; `quota` is not documented, kept as sent.
 */
const balanceDeductionSchema = z.looseObject({ quota: optional(looseNumber), list_price: optional(units) }).transform(withoutUndefined);

/** A task object, as the query returns it (and as the create call returns it, without a result). */
export const taskSchema = z
  .looseObject({
    task_id: taskIdSchema,
    // Any word: one the runner does not know (`queued`, `running`…) means "not finished yet".
    task_status: z.string({ error: (issue) => `expected a status such as ${TASK_STATUSES.join(', ')}, got ${got(issue.input)}` }).min(1, { error: 'expected a status, got an empty string' }),
    /** The failure reason; on other tasks null, empty or absent. */
    task_status_msg: optional(looseString),
    // Not `optional`: an external id that is present but unreadable must not pass for "none",
    // or a lookup answering another task would be taken for ours.
    task_info: nullable(z.looseObject({ external_task_id: nullable(looseString) }).transform(withoutUndefined)),
    /** Milliseconds since the epoch (seconds are converted), on the provider's clock. */
    created_at: optional(timestamp),
    updated_at: optional(timestamp),
    task_result: nullable(taskResultSchema),
    /** Units the task cost, once it has ended (a string such as "2.5"); their USD depend on the account's resource pack. */
    final_unit_deduction: optional(units),
    final_balance_deduction: optional(balanceDeductionSchema),
  })
  .transform(({ task_result: read, final_unit_deduction, ...task }) => {
    // The task's own figure wins over one read in the older places.
    const units = final_unit_deduction ?? read?.units;
    return { ...withoutUndefined(task), ...(read ? { task_result: read.result } : {}), ...(units !== undefined ? { final_unit_deduction: units } : {}) };
  });
export type Task = z.infer<typeof taskSchema>;

/** The list call's data; an account without tasks may answer `null`. */
export const taskListSchema = nullable(z.array(taskSchema)).transform((tasks) => tasks ?? []);

/** Kling's envelope: `{ code, message, request_id, data }`; `code != 0` is an error even on HTTP 200. */
export const envelopeSchema = z.looseObject({
  code: looseNumber,
  message: optional(looseString),
  request_id: optional(looseString),
  data: z.unknown().optional(),
});
export type Envelope = z.infer<typeof envelopeSchema>;

/** The older CometAPI wrapper: `data.status`, `data.progress`, the task one level deeper in `data.data`. */
export const legacyDataSchema = z.looseObject({
  status: optional(z.string()),
  progress: optional(z.union([z.string(), z.number()])),
  data: z.unknown(),
});

/** CometAPI's own gateway errors. */
export const gatewayErrorSchema = z.looseObject({
  error: z.looseObject({
    message: optional(looseString),
    type: optional(z.string()),
    code: optional(z.union([z.string(), z.number()])),
  }),
});
