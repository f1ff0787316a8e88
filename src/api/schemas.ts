// zod schemas for everything that crosses the wire: the create-call body (from the provider's
// OpenAPI page, schemas/provider/), the task object, both response envelopes and gateway errors.
// Shared by the client, the emulator and the manifest validator, so the three cannot disagree.
import { z } from 'zod';

export const MODEL_NAMES = [
  'kling-v1',
  'kling-v1-5',
  'kling-v1-6',
  'kling-v2-master',
  'kling-v2-1',
  'kling-v2-1-master',
  'kling-v2-5-turbo',
  'kling-v2-6',
  'kling-v3',
] as const;
export const MODES = ['std', 'pro'] as const;
export const DURATIONS = ['5', '10'] as const;
export const SOUNDS = ['on', 'off'] as const;
export const TASK_STATUSES = ['submitted', 'processing', 'succeed', 'failed'] as const;

/** API defaults for fields a request leaves out (from the OpenAPI document). */
export const API_DEFAULTS = { model_name: 'kling-v1', mode: 'std', duration: '5' } as const;

/** Input limits (docs/api.md). */
export const LIMITS = {
  promptMax: 500,
  negativePromptMax: 200,
  dynamicMasksMax: 6,
  trajectoryMin: 2,
  trajectoryMax: 77,
  imageMaxBytes: 10 * 1024 * 1024,
  imageMinSide: 300,
  aspectMax: 2.5,
  externalTaskIdMax: 32,
} as const;

export type ModelName = (typeof MODEL_NAMES)[number];
export type Mode = (typeof MODES)[number];
export type Duration = (typeof DURATIONS)[number];
export type TaskStatus = (typeof TASK_STATUSES)[number];

export const trajectoryPointSchema = z.strictObject({ x: z.number().int(), y: z.number().int() });

/** The JSON body of POST /kling/v1/videos/image2video, exactly as sent. */
export const createTaskBodySchema = z.strictObject({
  image: z.string().min(1),
  image_tail: z.string().min(1).optional(),
  prompt: z.string().max(LIMITS.promptMax).optional(),
  negative_prompt: z.string().max(LIMITS.negativePromptMax).optional(),
  callback_url: z.string().optional(),
  mode: z.enum(MODES).optional(),
  model_name: z.enum(MODEL_NAMES).optional(),
  cfg_scale: z.number().min(0).max(1).optional(),
  duration: z.enum(DURATIONS).optional(),
  static_mask: z.string().min(1).optional(),
  dynamic_masks: z
    .array(
      z.strictObject({
        mask: z.string().min(1),
        trajectories: z.array(trajectoryPointSchema).min(LIMITS.trajectoryMin).max(LIMITS.trajectoryMax),
      }),
    )
    .max(LIMITS.dynamicMasksMax)
    .optional(),
  external_task_id: z.string().min(1).max(LIMITS.externalTaskIdMax).optional(),
  sound: z.enum(SOUNDS).optional(),
});
export type CreateTaskBody = z.infer<typeof createTaskBodySchema>;

export const videoSchema = z.looseObject({
  id: z.string(),
  url: z.string().min(1),
  duration: z.union([z.string(), z.number()]).transform(String),
});

/** A task object, as the query returns it (and as the create call returns it, without a result). */
export const taskSchema = z.looseObject({
  task_id: z.string().min(1),
  task_status: z.enum(TASK_STATUSES),
  task_status_msg: z.string().optional(),
  task_info: z.looseObject({ external_task_id: z.string().optional() }).optional(),
  created_at: z.number(),
  updated_at: z.number(),
  task_result: z.looseObject({ videos: z.array(videoSchema).optional() }).optional(),
});
export type Task = z.infer<typeof taskSchema>;

/** Kling's envelope: `{ code, message, request_id, data }`; `code != 0` is an error even on HTTP 200. */
export const envelopeSchema = z.looseObject({
  code: z.number(),
  message: z.string().optional(),
  request_id: z.string().optional(),
  data: z.unknown().optional(),
});
export type Envelope = z.infer<typeof envelopeSchema>;

/** The older CometAPI wrapper: `data.status`, `data.progress`, the task one level deeper in `data.data`. */
export const legacyDataSchema = z.looseObject({
  status: z.string().optional(),
  progress: z.union([z.string(), z.number()]).optional(),
  data: z.unknown(),
});

/** CometAPI's own gateway errors. */
export const gatewayErrorSchema = z.looseObject({
  error: z.looseObject({
    message: z.string(),
    type: z.string().optional(),
    code: z.union([z.string(), z.number(), z.null()]).optional(),
  }),
});
