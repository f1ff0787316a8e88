// The manifest language (version 1) as zod schemas. The field rules come from the create-call
// schema in api/schemas.ts, so the manifest, the client and the emulator cannot disagree; models,
// modes and durations are checked against the model table later (manifest/rules.ts).
// schemas/manifest.schema.json is generated from `manifestSchema` (npm run schemas).
import { z } from 'zod';
import { AXIS_FIELDS, FIELDS, MANIFEST_FIELDS, durationSchema, modeSchema, modelNameSchema, shapeOf, type ManifestFieldName } from '../request/fields.js';

export { durationSchema, modeSchema, modelNameSchema } from '../request/fields.js';

/** More combinations than this in one job entry is an error (GitHub Actions uses 256; we plan, not run). */
export const MAX_COMBINATIONS = 10_000;
/** Upper bound of `repeat`, to catch typos before they become a large bill. */
export const MAX_REPEAT = 1_000;

/** The fields whose values come from the model table: the generated JSON Schema suggests the shipped table's values. */
export const TABLE_VALUED_FIELDS = { model_name: modelNameSchema, mode: modeSchema, duration: durationSchema } as const;

/** The create-call fields a matrix may vary (every field of the registry but the images). */
export const scalarFields = shapeOf(AXIS_FIELDS, 'manifest');

/** Every create-call field a manifest may set, except `image` (per job entry) and `external_task_id` (generated). */
export const requestFields = shapeOf(MANIFEST_FIELDS, 'manifest');
export type RequestField = ManifestFieldName;
export const REQUEST_FIELDS: readonly RequestField[] = MANIFEST_FIELDS;

/** Each field of `shape` as an optional non-empty list: the matrix's dimensions. */
function listsOf<T extends Record<string, z.ZodType>>(shape: T) {
  const lists = Object.fromEntries(Object.entries(shape).map(([k, v]) => [k, z.array(v).min(1).optional()]));
  // Object.fromEntries forgets the keys; the mapped type restores exactly what was built.
  return lists as { [K in keyof T]: z.ZodOptional<z.ZodArray<T[K]>> };
}

/** Each field of `shape` as an optional non-empty list whose entries may be null ("leave the field out"). */
function nullableListsOf<T extends Record<string, z.ZodType>>(shape: T) {
  const lists = Object.fromEntries(Object.entries(shape).map(([k, v]) => [k, z.array(v.nullable()).min(1).optional()]));
  return lists as { [K in keyof T]: z.ZodOptional<z.ZodArray<z.ZodNullable<T[K]>>> };
}

/** A value of a template variable: a matrix key that is not a field, e.g. `motion: [slow pan left, dolly in]`. */
// Typed as unknown: an index signature of its real type would clash with the fields' types.
const variableValue: z.ZodType<unknown> = z.union([z.string(), z.number(), z.boolean()], { error: 'must be text, a number or true/false (a template variable)' });
const variableList: z.ZodType<unknown> = z.array(variableValue).min(1);

// A key that is not a field is a template variable; one that no prompt uses is reported as an unknown key (load.ts).
const partialScalars = z.strictObject(scalarFields).partial().catchall(variableValue);

export const matrixSchema = z
  .strictObject({
    ...listsOf(scalarFields),
    zip: z
      .strictObject(nullableListsOf(scalarFields))
      .catchall(variableList)
      .optional()
      .meta({
        description:
          'Lists paired element by element (all of equal length) instead of crossed; the pairs are crossed with the other lists. null leaves the field out of the request.',
      }),
    include: partialScalars.array().optional().meta({ description: 'Combinations to extend or add (GitHub Actions rules).' }),
    exclude: partialScalars.array().optional().meta({ description: 'Combinations to remove; partial matches count.' }),
  })
  .catchall(variableList.meta({ description: 'A template variable: a key that is not a field, whose values fill `{key}` in the prompts, e.g. motion: [slow pan left, dolly in] for prompt: "{caption}; {motion}".' }))
  .meta({ description: 'GitHub Actions matrix over API fields and template variables: lists are crossed (zip lists paired), then exclude, then include.' });
export type Matrix = z.infer<typeof matrixSchema>;

/** Where a table entry's `from` may point: the formats table.ts reads. */
export const TABLE_FORMATS = { '.csv': 'csv', '.jsonl': 'jsonl' } as const;
export type TableFormat = (typeof TABLE_FORMATS)[keyof typeof TABLE_FORMATS];

/** The format of a table path by its extension, or undefined when it is not one klingrun reads. */
export function tableFormatOf(path: string): TableFormat | undefined {
  const ext = /\.[^./\\]+$/.exec(path)?.[0]?.toLowerCase() ?? '';
  return (TABLE_FORMATS as Readonly<Record<string, TableFormat>>)[ext];
}

/** What a table column may fill: the image, any request field, or the output name. */
export const TABLE_FIELDS = ['image', ...REQUEST_FIELDS, 'name'] as const;
export type TableField = (typeof TABLE_FIELDS)[number];

const columnName = z.string().min(1);

/** An entry is end-frame-only when it names its images by `image_tail` alone: it expands over them instead. */
export const isEndFrameOnlyEntry = (entry: { image?: unknown; from?: unknown; image_tail?: unknown }): boolean =>
  entry.image === undefined && entry.from === undefined && entry.image_tail !== undefined;

/** One job per row of a table: a complete sentence for each entry shape that is wrong. */
function checkEntryShape(entry: { image?: unknown; from?: unknown; image_tail?: unknown; columns?: unknown; where?: unknown }, ctx: z.RefinementCtx): void {
  // `complete`: the message is a whole sentence, shown as written (see issues.ts).
  const fail = (path: string[], message: string) => ctx.addIssue({ code: 'custom', path, message, params: { complete: true } });
  if (entry.image !== undefined && entry.from !== undefined) {
    fail(['from'], 'this entry has both `image` and `from`; an entry takes its images either from `image` or from the rows of a table.');
  } else if (entry.image === undefined && entry.from === undefined && entry.image_tail === undefined) {
    fail([], 'this entry names no images: give it `image` (a path, glob or https URL), `from` (a .csv or .jsonl table), or, for an end-frame-only job on a model that takes one, `image_tail` alone.');
  } else if (Array.isArray(entry.image_tail) && !isEndFrameOnlyEntry(entry)) {
    fail(['image_tail'], 'a list of `image_tail` images is only for an end-frame-only entry (without `image` or `from`); next to a first frame, `image_tail` is one file or https URL.');
  }
  for (const key of ['columns', 'where'] as const) {
    if (entry[key] !== undefined && entry.from === undefined) fail([key], `\`${key}\` applies to the rows of a table and needs \`from\`.`);
  }
}

export const jobEntrySchema = z
  .strictObject({
    image: z
      .union([z.string().min(1), z.array(z.string().min(1)).min(1)], {
        error: 'must be a path, a glob or an https URL, or a list of them',
      })
      .optional()
      .meta({ description: 'A glob or file relative to the manifest, an https URL, or a list of them.' }),
    from: z
      .string()
      .min(1)
      .refine((path) => tableFormatOf(path) !== undefined, { error: 'must name a .csv or .jsonl file' })
      .optional()
      .meta({
        description:
          'A table instead of `image`: a .csv file (RFC 4180, a header row, UTF-8) or a .jsonl file (one JSON object per line), relative to the manifest. One job per row: columns named like API fields (image, prompt, …) become request fields, `name` sets the output file stem, other columns are carried into the report and the export. Image paths in the table are relative to the manifest\'s folder.',
      }),
    columns: z
      .strictObject(Object.fromEntries(TABLE_FIELDS.map((field) => [field, columnName])) as Record<TableField, typeof columnName>)
      .partial()
      .optional()
      .meta({ description: 'Reads a field from a differently named column, e.g. { image: image_path, prompt: caption, name: clip_name }.' }),
    where: z
      .record(z.string(), z.union([z.string(), z.number(), z.boolean()]))
      .optional()
      .meta({ description: 'Keeps only the rows whose columns (as named in the table) equal these values, e.g. { split: train }.' }),
    repeat: z
      .number()
      .int()
      .min(1)
      .max(MAX_REPEAT)
      .optional()
      .meta({ description: 'Independent generations of the same request (default 1).' }),
    matrix: matrixSchema.optional().meta({ description: 'Replaces the top-level matrix for this entry; {} = no expansion.' }),
    ...z.strictObject(requestFields).partial().shape,
    image_tail: z
      .union([z.string().min(1), z.array(z.string().min(1)).min(1)], { error: 'must be a path or an https URL (in an entry without `image`: also a glob, or a list of them)' })
      .optional()
      .meta({
        description:
          'The last frame: a file relative to the manifest or an https URL. In an entry without `image` (an end-frame-only job, on the models whose table row has end_frame_only, e.g. kling-v1-6 in pro mode) it may be a glob or a list, and the entry makes one job per end frame.',
      }),
  })
  .superRefine(checkEntryShape)
  .meta({
    // For editors: zod checks the same with checkEntryShape.
    oneOf: [{ required: ['image'] }, { required: ['from'] }, { required: ['image_tail'], not: { anyOf: [{ required: ['image'] }, { required: ['from'] }] } }],
    dependentRequired: { columns: ['from'], where: ['from'] },
  });
export type JobEntry = z.infer<typeof jobEntrySchema>;

/** One row of a table as a request: `image` is required, the other fields as in a job entry. */
export const tableRowSchema = z.strictObject({ image: FIELDS.image.manifest, ...z.strictObject(requestFields).partial().shape });
export type TableRowFields = z.infer<typeof tableRowSchema>;

export const defaultsSchema = z
  .strictObject(requestFields)
  .partial()
  .meta({ description: 'Create-call fields applied to every job (job entries and the matrix override them).' });
export type Defaults = z.infer<typeof defaultsSchema>;

const positiveInt = z.number().int().min(1);
const positive = z.number().positive();
export const limitsSchema = z
  .strictObject({
    concurrency: positiveInt.optional().meta({ description: 'Tasks in flight at the provider at once, all models together (default 5).' }),
    concurrency_per_model: z
      .union([positiveInt, z.record(z.string().min(1), positiveInt)])
      .optional()
      .meta({
        description:
          'Tasks in flight at once per model (Kling counts them per model version and resource pack: 5 on a trial pack, 20 on a standard one): one number for every model, or a map from model_name to its limit (a model it does not name is held by `concurrency` alone). `concurrency` stays the total, so give a batch over two models of 5 each `concurrency: 10`.',
      }),
    rpm: positiveInt.optional().meta({ description: 'Requests per minute to the provider, all calls together (default 30).' }),
    budget_usd: positive
      .optional()
      .meta({ description: 'Hard cap in USD on what the output folder may cost: tasks that succeeded, and every task that may be billed (in flight, failed, unconfirmed). A submit that would go over it is not sent.' }),
    task_timeout_min: positive.optional().meta({ description: 'Give up on a task this many minutes after the provider accepted it (default 60); a later run checks it again.' }),
    poll_interval_s: positive.optional().meta({ description: 'Seconds between status queries (default: adaptive).' }),
    download_concurrency: positiveInt.optional().meta({ description: 'Videos downloaded at once (default 4).' }),
    absence_window_s: z
      .number()
      .nonnegative()
      .optional()
      .meta({ description: 'Seconds a task must stay unfound after its submit before "not found" counts as absent and the submit is sent again (default 60): lookups can lag behind creates.' }),
    transit_window_s: z
      .number()
      .nonnegative()
      .optional()
      .meta({
        description:
          'Seconds a create that got no answer may still reach the provider and make its task, e.g. held by a gateway (default 900). Until they have passed, "not found" does not count as absent for it (unless the provider was seen to refuse a duplicate external_task_id): the job is left unconfirmed, and a run after the window looks for it again and sends it if it is still absent.',
      }),
    request_timeout_s: positive.optional().meta({ description: 'Seconds one HTTP request may take (default 30).' }),
    download_timeout_s: positive
      .optional()
      .meta({ description: 'Seconds a video download may go without receiving a byte before it is cut (default 60); a cut download resumes where it stopped when the host allows it. A slow but steady download is never cut.' }),
    max_video_mb: positive
      .optional()
      .meta({ description: 'Largest video accepted, in MB of 1,048,576 bytes (default 500): a larger answer is refused, before it is read when its size is announced.' }),
  })
  .meta({ description: 'Run limits (command-line options override them).' });
export type Limits = z.infer<typeof limitsSchema>;

export const manifestSchema = z
  .strictObject({
    version: z.literal(1, { error: 'must be 1 (the only manifest version)' }),
    name: z
      .string()
      .regex(/^[a-z0-9._-]+$/, { error: 'may only use a-z, 0-9, ".", "_" and "-"' })
      .max(100)
      .refine((n) => !/^\.+$/.test(n), { error: 'cannot be only dots (it names the output folder)' })
      .meta({ description: 'Names the output folder output/<name>/; [a-z0-9._-].' }),
    id_salt: z
      .string()
      .default('')
      .meta({ description: 'Change it to force fresh generations of otherwise identical jobs.' }),
    defaults: defaultsSchema.optional(),
    matrix: matrixSchema.optional(),
    limits: limitsSchema.optional(),
    jobs: z.array(jobEntrySchema).min(1),
  })
  .meta({ title: 'klingrun manifest', description: 'A batch of Kling image-to-video jobs (klingrun, version 1).' });
export type Manifest = z.infer<typeof manifestSchema>;
