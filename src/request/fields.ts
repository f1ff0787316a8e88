// The request fields, as data: every list of create-call fields in klingrun derives from FIELDS
// (the manifest schema, the create-body schema, the plan's request, its key order, the matrix
// axes, variants, the gallery, table cells, the export and the model table's features). A field
// the provider adds is one entry here, a row key in the model table and a line in
// docs/request-fields.md; nothing in the runner changes.
//
// The order of FIELDS is the order of a plan's request keys: it must never change for the fields
// that exist (plan bytes and plan_sha256 depend on it), and new fields go at the end.
import { z } from 'zod';
import { CAMERA_AXES, CAMERA_TYPES, LIMITS, SHOT_TYPES, SOUNDS, trajectoryPointSchema } from './values.js';

/** How a field's value is held: a plain value, an image file or URL, or the motion-brush masks. */
export type FieldKind = 'value' | 'image' | 'masks';
/** How a table (CSV) cell's text becomes the value: as is, a number, or JSON. */
export type CellKind = 'text' | 'number' | 'json';

/**
 * The model table's features: each names where a group of fields works per model (a row key of
 * src/data/models.yaml). The first four are required in every row; the others default to false
 * (not offered) when a row leaves them out. Their order is the order problems are reported in.
 */
export const FEATURE_NAMES = ['image_tail', 'masks', 'sound', 'cfg_scale', 'camera_control', 'multi_shot', 'element_list', 'voice_list', 'watermark_info', 'end_frame_only'] as const;
export type FeatureName = (typeof FEATURE_NAMES)[number];
/** Features every row of a model table must state. */
export const REQUIRED_FEATURES: readonly FeatureName[] = ['image_tail', 'masks', 'sound', 'cfg_scale'];

/** Request fields whose length the model table limits (`limits: { prompt: 500 }`). */
export const LENGTH_LIMITED = ['prompt', 'negative_prompt'] as const;
export type LengthLimitedField = (typeof LENGTH_LIMITED)[number];

interface FieldSpec {
  /** The value as a manifest, a table row or the matrix writes it. */
  readonly manifest: z.ZodType;
  /** The value in the create call's JSON body, as sent and as the emulator checks it. */
  readonly wire: z.ZodType;
  /**
   * The value in a plan, a journal and a report, when it differs from `wire`: already checked, so
   * without refinements or length limits, which keeps the journal's fast replay check compilable
   * (state/fast-check.ts). Image fields are references there (plan/schema.ts).
   */
  readonly plan?: z.ZodType;
  readonly kind: FieldKind;
  /** A matrix may vary it; then it is part of the job's variant (a gallery column, a videos folder). */
  readonly axis: boolean;
  readonly cell: CellKind;
  /** The model-table feature that says where the field works; none: it works on every model. */
  readonly feature?: FeatureName;
  /** Who documents the field: CometAPI's create-call page, or only Kling's own reference. */
  readonly source: 'CometAPI' | 'Kling';
}

/** `duration` and a shot's duration: whole seconds, a number or a numeric string, sent as a string. */
const WHOLE_SECONDS = 'must be a whole number of seconds, e.g. 5 or 10';
export const durationSchema = z
  .union([z.number().int({ error: WHOLE_SECONDS }).positive(), z.string().regex(/^[1-9]\d*$/, { error: WHOLE_SECONDS })], { error: WHOLE_SECONDS })
  .transform(String)
  .meta({ description: 'Video length in whole seconds, e.g. 5 or 10 (sent as a string); the model table says which lengths each model makes.' });
const wireSeconds = z.string().regex(/^[1-9]\d*$/, { error: 'must be a whole number of seconds as a string, e.g. "5"' });

/** Any model name: the model table (src/data/models.yaml or --models) says which exist. */
export const modelNameSchema = z.string().min(1).meta({ description: 'Kling model, from the model table; the API default is kling-v1.' });

/** Any mode name (std, pro, 4k, …): the model table says which modes each model takes. */
export const modeSchema = z
  .string()
  .min(1)
  .meta({ description: 'Quality mode the model takes, e.g. std (faster) or pro (higher quality); leave out for single-quality models.' });

const isHttpUrl = (value: string): boolean => URL.canParse(value) && /^https?:$/.test(new URL(value).protocol);

/** A local image file (relative to the manifest) or an https URL; exactly one, no glob. */
const singleImageSchema = z.string().min(1).meta({ description: 'A local image file (relative to the manifest) or an https URL.' });

const masksOf = <T extends z.ZodType>(mask: T) =>
  z.array(z.strictObject({ mask, trajectories: z.array(trajectoryPointSchema).min(LIMITS.trajectoryMin).max(LIMITS.trajectoryMax) }));

/** `simple` needs exactly one non-zero axis; the other moves are complete in themselves. */
function checkCamera(camera: { type: string; config?: Readonly<Record<string, number | undefined>> | undefined }, ctx: z.RefinementCtx): void {
  const nonZero = Object.entries(camera.config ?? {}).filter(([, value]) => value !== undefined && value !== 0);
  if (camera.type === 'simple' && nonZero.length !== 1) {
    const got = nonZero.length ? `got ${nonZero.map(([axis]) => axis).join(', ')}` : 'got none';
    // `complete`: a whole sentence, shown as written (manifest/issues.ts).
    ctx.addIssue({ code: 'custom', path: ['config'], message: `with type simple, exactly one of ${CAMERA_AXES.join(', ')} must be non-zero (${got}), e.g. { zoom: 5 }.`, params: { complete: true } });
  } else if (camera.type !== 'simple' && camera.config !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['config'], message: `only type simple takes a config; ${camera.type} is a complete move.`, params: { complete: true } });
  }
}
const cameraAxis = z.number().min(-LIMITS.cameraAxisMax).max(LIMITS.cameraAxisMax);
/** The camera's shape alone: what a plan holds, already checked. */
const cameraShape = z.strictObject({
  type: z.enum(CAMERA_TYPES),
  config: z.strictObject(Object.fromEntries(CAMERA_AXES.map((axis) => [axis, cameraAxis.optional()])) as Record<(typeof CAMERA_AXES)[number], z.ZodOptional<typeof cameraAxis>>).optional(),
});
const cameraControlSchema = cameraShape
  .superRefine(checkCamera)
  .meta({ description: `Camera move: { type: ${CAMERA_TYPES.join(' | ')} }; type simple takes config with exactly one non-zero axis of ${CAMERA_AXES.join(', ')} in [-10, 10], e.g. { type: simple, config: { zoom: 5 } }. Kling's field; where it works is in the model table.` });

const shotOf = <T extends z.ZodType>(seconds: T) =>
  z.strictObject({ index: z.number().int().positive(), prompt: z.string().min(1).max(LIMITS.shotPromptMax), duration: seconds });
/** In a manifest the shots' `index` may be left out: it is their 1-based position. */
const manifestShots = z
  .array(shotOf(durationSchema).partial({ index: true }))
  .min(1)
  .max(LIMITS.shotsMax)
  .transform((shots) => shots.map(({ index, prompt, duration }, i) => ({ index: index ?? i + 1, prompt, duration })))
  .meta({ description: `kling-v3 multi-shot: at most ${LIMITS.shotsMax} shots of { index (default: position), prompt (≤ ${LIMITS.shotPromptMax} characters), duration }, durations summing to the video's; needs multi_shot: true and shot_type: customize.` });
const wireShots = z.array(shotOf(wireSeconds)).min(1).max(LIMITS.shotsMax);

const elementsSchema = z
  .array(z.strictObject({ element_id: z.union([z.string().min(1), z.number().int().nonnegative()]) }))
  .min(1)
  .max(LIMITS.elementsMax)
  .meta({ description: `kling-v3: at most ${LIMITS.elementsMax} subjects of your Kling element library, [{ element_id }].` });
const voicesSchema = z
  .array(z.strictObject({ voice_id: z.string().min(1) }))
  .min(1)
  .max(LIMITS.voicesMax)
  .meta({ description: `At most ${LIMITS.voicesMax} voices, [{ voice_id }], referenced in the prompt as <<<voice_1>>>; needs sound: "on" (kling-v2-6 and later).` });
const watermarkSchema = z.strictObject({ enabled: z.boolean() }).meta({ description: "Kling's watermark on the video: { enabled: true } or { enabled: false }." });

/** Every request field, in the plan's key order (see the header). */
export const FIELDS = {
  model_name: { manifest: modelNameSchema, wire: z.string().min(1), plan: z.string(), kind: 'value', axis: true, cell: 'text', source: 'CometAPI' },
  mode: { manifest: modeSchema, wire: z.string().min(1), plan: z.string(), kind: 'value', axis: true, cell: 'text', source: 'CometAPI' },
  duration: { manifest: durationSchema, wire: wireSeconds, kind: 'value', axis: true, cell: 'text', source: 'CometAPI' },
  prompt: {
    manifest: z.string().meta({ description: 'Motion prompt; the model table says how long it may be (CometAPI: 500 characters).' }),
    wire: z.string(),
    kind: 'value',
    axis: true,
    cell: 'text',
    source: 'CometAPI',
  },
  negative_prompt: {
    manifest: z.string().meta({ description: 'What to avoid; the model table says how long it may be (CometAPI: 200 characters).' }),
    wire: z.string(),
    kind: 'value',
    axis: true,
    cell: 'text',
    source: 'CometAPI',
  },
  cfg_scale: {
    manifest: z.number().min(0).max(1).meta({ description: 'Prompt adherence, 0 to 1 (older models only).' }),
    wire: z.number().min(0).max(1),
    plan: z.number(),
    kind: 'value',
    axis: true,
    cell: 'number',
    feature: 'cfg_scale',
    source: 'CometAPI',
  },
  sound: {
    manifest: z.enum(SOUNDS).meta({ description: 'Generated audio, "on" or "off" (quote them in YAML); left out, Kling makes silent video.' }),
    wire: z.enum(SOUNDS),
    kind: 'value',
    axis: true,
    cell: 'text',
    feature: 'sound',
    source: 'CometAPI',
  },
  callback_url: {
    manifest: z.string().refine(isHttpUrl, { error: 'must be an http(s) URL, e.g. https://example.com/hook' }).meta({ description: 'Webhook the provider POSTs task updates to.' }),
    wire: z.string(),
    kind: 'value',
    axis: true,
    cell: 'text',
    source: 'CometAPI',
  },
  image: { manifest: singleImageSchema, wire: z.string().min(1), kind: 'image', axis: false, cell: 'text', source: 'CometAPI' },
  image_tail: { manifest: singleImageSchema, wire: z.string().min(1), kind: 'image', axis: false, cell: 'text', feature: 'image_tail', source: 'CometAPI' },
  static_mask: { manifest: singleImageSchema, wire: z.string().min(1), kind: 'image', axis: false, cell: 'text', feature: 'masks', source: 'CometAPI' },
  dynamic_masks: {
    manifest: masksOf(singleImageSchema)
      .min(1)
      .max(LIMITS.dynamicMasksMax)
      .meta({ description: `Motion brush: at most ${LIMITS.dynamicMasksMax} masks with ${LIMITS.trajectoryMin}–${LIMITS.trajectoryMax} trajectory points each.` }),
    wire: masksOf(z.string().min(1)).max(LIMITS.dynamicMasksMax),
    kind: 'masks',
    axis: false,
    cell: 'json',
    feature: 'masks',
    source: 'CometAPI',
  },
  camera_control: { manifest: cameraControlSchema, wire: cameraControlSchema, plan: cameraShape, kind: 'value', axis: true, cell: 'json', feature: 'camera_control', source: 'Kling' },
  multi_shot: {
    manifest: z.boolean().meta({ description: 'kling-v3: several shots in one video; needs shot_type.' }),
    wire: z.boolean(),
    kind: 'value',
    axis: true,
    cell: 'json',
    feature: 'multi_shot',
    source: 'Kling',
  },
  shot_type: {
    manifest: z.enum(SHOT_TYPES).meta({ description: 'kling-v3 multi-shot: customize (your multi_prompt shots) or intelligence (Kling splits the prompt).' }),
    wire: z.enum(SHOT_TYPES),
    kind: 'value',
    axis: true,
    cell: 'text',
    feature: 'multi_shot',
    source: 'Kling',
  },
  multi_prompt: { manifest: manifestShots, wire: wireShots, plan: z.array(z.strictObject({ index: z.number().int(), prompt: z.string(), duration: wireSeconds })), kind: 'value', axis: true, cell: 'json', feature: 'multi_shot', source: 'Kling' },
  element_list: { manifest: elementsSchema, wire: elementsSchema, plan: z.array(z.strictObject({ element_id: z.union([z.string(), z.number()]) })), kind: 'value', axis: true, cell: 'json', feature: 'element_list', source: 'Kling' },
  voice_list: { manifest: voicesSchema, wire: voicesSchema, plan: z.array(z.strictObject({ voice_id: z.string() })), kind: 'value', axis: true, cell: 'json', feature: 'voice_list', source: 'Kling' },
  watermark_info: { manifest: watermarkSchema, wire: watermarkSchema, kind: 'value', axis: true, cell: 'json', feature: 'watermark_info', source: 'Kling' },
} as const satisfies Record<string, FieldSpec>;

type Fields = typeof FIELDS;
export type FieldName = keyof Fields;
export const FIELD_NAMES = Object.keys(FIELDS) as FieldName[];

/** The fields a manifest, a job entry or a table row sets (`image` is per entry or row, never a default). */
export type ManifestFieldName = Exclude<FieldName, 'image'>;
export const MANIFEST_FIELDS = FIELD_NAMES.filter((name): name is ManifestFieldName => name !== 'image');

/** The fields a matrix may vary, in FIELDS order. */
export type AxisField = { [K in FieldName]: Fields[K]['axis'] extends true ? K : never }[FieldName];
export const AXIS_FIELDS = FIELD_NAMES.filter((name): name is AxisField => FIELDS[name].axis);

/** The fields that hold an image reference (or masks of them) rather than a plain value. */
export const IMAGE_FIELDS = FIELD_NAMES.filter((name) => FIELDS[name].kind !== 'value');

/**
 * Calls `visit` with each image a request (or manifest layer) names besides `image`, and where it
 * sits in the request (`['dynamic_masks', 0, 'mask']`), in FIELDS order. `T` is how the caller's
 * requests hold an image: a manifest's spec, a plan's reference.
 */
export function eachOtherImage<T>(fields: Readonly<Record<string, unknown>>, visit: (image: T, path: readonly (string | number)[]) => void): void {
  for (const name of IMAGE_FIELDS) {
    const value = fields[name];
    if (value === undefined || name === 'image') continue;
    if (FIELDS[name].kind === 'masks') (value as readonly { mask: T }[]).forEach((m, k) => visit(m.mask, [name, k, 'mask']));
    else visit(value as T, [name]);
  }
}

/** The fields a request may leave out and the models that take it say so: the model table's columns. */
export const fieldsOfFeature = (feature: FeatureName): FieldName[] => FIELD_NAMES.filter((name) => (FIELDS[name] as FieldSpec).feature === feature);

/** One schema per field, picked from the registry: `{ prompt: FIELDS.prompt.manifest, … }`. */
export function shapeOf<const K extends FieldName, const S extends 'manifest' | 'wire'>(names: readonly K[], schema: S): { [F in K]: Fields[F][S] } {
  return Object.fromEntries(names.map((name) => [name, FIELDS[name][schema]])) as { [F in K]: Fields[F][S] };
}

/** A field's schema in a plan (see FieldSpec.plan). */
export const planValueSchema = (name: FieldName): z.ZodType => (FIELDS[name] as FieldSpec).plan ?? FIELDS[name].wire;

/** Whether a request uses a field: set, except `sound`, which is used by "on" alone (Kling's default is off). */
export function usesField(name: FieldName, value: unknown): boolean {
  return name === 'sound' ? value === 'on' : value !== undefined;
}

/** A field's value in one short line, for variant labels, gallery columns and tables. */
export function fieldText(name: FieldName, value: unknown): string {
  if (name === 'camera_control') {
    const camera = value as z.infer<typeof cameraControlSchema>;
    const axes = Object.entries(camera.config ?? {}).filter(([, v]) => v !== undefined && v !== 0);
    return [camera.type, ...axes.map(([axis, v]) => `${axis} ${v}`)].join(' ');
  }
  if (name === 'multi_prompt') {
    const shots = value as readonly { duration: string }[];
    return `${shots.length} shot${shots.length === 1 ? '' : 's'} (${shots.map((s) => s.duration).join('+')} s)`;
  }
  if (name === 'element_list') return (value as readonly { element_id: string | number }[]).map((e) => String(e.element_id)).join(', ');
  if (name === 'voice_list') return (value as readonly { voice_id: string }[]).map((v) => v.voice_id).join(', ');
  if (name === 'watermark_info') return (value as { enabled: boolean }).enabled ? 'on' : 'off';
  return typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value);
}

/** A table cell's text as the field's value; text that does not parse is passed on for zod to word. */
export function cellValue(name: FieldName, text: string): unknown {
  const cell = (FIELDS[name] as FieldSpec).cell;
  if (cell === 'number') {
    const n = Number(text);
    return text.trim() !== '' && Number.isFinite(n) ? n : text;
  }
  if (cell === 'json') {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}

/** The model table's character limits of one model, by field. */
export type LengthLimits = Partial<Record<LengthLimitedField, number>>;

/** Where a field comes from, for the docs and messages. */
export const sourceOf = (name: FieldName): FieldSpec['source'] => (FIELDS[name] as FieldSpec).source;
