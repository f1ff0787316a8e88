// The plan: what `klingrun plan --json` prints and what the runner executes. Pure data, no base64,
// no absolute paths, no timestamps, so the same manifest and images give the same bytes anywhere.
import { z } from 'zod';
import { API_DEFAULTS, trajectoryPointSchema } from '../api/schemas.js';
import { effectiveMode } from '../data/capabilities.js';
import type { ModelTable } from '../data/tables.js';
import { FIELD_NAMES, FIELDS, planValueSchema, type FieldName } from '../request/fields.js';

/** A local image is referenced by its path relative to the manifest's folder and its content hash. */
export const imageRefSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('file'),
    /** POSIX path relative to the manifest's folder. */
    path: z.string(),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    bytes: z.number().int().nonnegative(),
    width: z.number().int().positive(),
    height: z.number().int().positive(),
  }),
  z.strictObject({ kind: z.literal('url'), url: z.string() }),
]);
export type ImageRef = z.infer<typeof imageRefSchema>;

/** How the plan holds a field of each kind: values as sent, images as references. */
function planSchemaOf(name: FieldName): z.ZodType {
  const kind = FIELDS[name].kind;
  if (kind === 'image') return imageRefSchema;
  if (kind === 'masks') return z.array(z.strictObject({ mask: imageRefSchema, trajectories: z.array(trajectoryPointSchema) }));
  return planValueSchema(name);
}

type Field<K extends FieldName> = (typeof FIELDS)[K];
type PlanValue<K extends FieldName> = Field<K> extends { plan: infer P extends z.ZodType } ? P : Field<K>['wire'];
type PlanSchema<K extends FieldName> = Field<K>['kind'] extends 'image' ? typeof imageRefSchema : Field<K>['kind'] extends 'masks' ? z.ZodArray<z.ZodObject<{ mask: typeof imageRefSchema; trajectories: z.ZodArray<typeof trajectoryPointSchema> }, z.core.$strict>> : PlanValue<K>;
type PlanShape = { [K in FieldName]: K extends 'image' ? PlanSchema<K> : z.ZodOptional<PlanSchema<K>> };

const planShape = Object.fromEntries(FIELD_NAMES.map((name) => [name, name === 'image' ? planSchemaOf(name) : planSchemaOf(name).optional()])) as PlanShape;
type TailOnlyShape = Omit<PlanShape, 'image' | 'image_tail'> & { image: z.ZodOptional<typeof imageRefSchema>; image_tail: typeof imageRefSchema };

/**
 * The create-call fields of one job, with images as references (the runner inlines base64 at send
 * time), in the registry's order, which is the order of a plan's request keys. Models, modes and
 * durations are whatever the model table allowed when the plan was made. `image` is required but
 * in an end-frame-only job, which has `image_tail` instead: two strict shapes, not a refinement,
 * so the journal's fast replay check still compiles it (state/fast-check.ts), as it would not
 * zod's .required() or a refine.
 */
export const jobRequestSchema = z.union([
  z.strictObject(planShape),
  z.strictObject({ ...planShape, image: imageRefSchema.optional(), image_tail: imageRefSchema } as TailOnlyShape),
]);
export type JobRequest = z.infer<typeof jobRequestSchema>;

/** The frame a job starts from: its `image`, or the end frame of an end-frame-only job (which has no other). */
export function frameOf(request: JobRequest): ImageRef {
  // The schema's second shape: no `image` means `image_tail` is there.
  return request.image ?? (request.image_tail as ImageRef);
}

/** Whether a job is end-frame-only: `image_tail` without `image`. */
export const isEndFrameOnly = (request: JobRequest): boolean => request.image === undefined;

/** A matrix value: a scalar, or the object or list of a structured field (camera_control, multi_prompt…). */
export const variantValueSchema = z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(z.unknown()).readonly(), z.record(z.string(), z.unknown()).readonly()]);

export const plannedJobSchema = z.strictObject({
  /** sha256 (hex) of the canonical request, the repeat index and id_salt. */
  id: z.string().regex(/^[0-9a-f]{64}$/),
  /** `kr-` + the first 24 hex chars of the id: what the provider sees for attempt 1. */
  external_task_id: z.string(),
  /** Index of the manifest's `jobs[]` entry this job came from. */
  entry: z.number().int().nonnegative(),
  /** 1-based repeat index, and how many repeats the entry asked for. */
  repeat: z.number().int().positive(),
  repeats: z.number().int().positive(),
  /** The matrix combination that produced this job ({} without a matrix). */
  variant: z.record(z.string(), variantValueSchema),
  request: jobRequestSchema,
  /** Output file stem override (tables' `name` column); else derived from the image. */
  name: z.string().optional(),
  /** Table columns carried through untouched to the report and the export. */
  extra: z.record(z.string(), z.string()).optional(),
  /** Estimated USD, null when the price table has no row for this model/mode/sound. */
  cost_usd: z.number().nullable(),
});
export type PlannedJob = z.infer<typeof plannedJobSchema>;

export const planSchema = z.strictObject({
  version: z.literal(1),
  name: z.string(),
  /** The manifest path as given on the command line's folder-relative form (its basename). */
  manifest: z.string(),
  id_salt: z.string(),
  jobs: z.array(plannedJobSchema),
  warnings: z.array(z.string()),
});
export type Plan = z.infer<typeof planSchema>;

/**
 * The values the provider will actually use (its defaults filled in), for pricing and grouping.
 * With the model table, a model with a single quality level gets no mode and the others default
 * to std; without it, `mode` is reported as written.
 */
export function effectiveParams(
  request: JobRequest,
  models?: ModelTable,
): { model_name: string; mode: string | undefined; duration: string } {
  const model_name = request.model_name ?? API_DEFAULTS.model_name;
  return { model_name, mode: effectiveMode(models?.models[model_name], request.mode), duration: request.duration ?? API_DEFAULTS.duration };
}
