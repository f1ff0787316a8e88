// The two user-editable data tables: model capabilities and prices. Both are YAML files shipped
// next to this module; users replace them with --models / --prices without touching code. No model
// name, mode or duration is known anywhere else: the format is in docs/models-and-prices.md.
import { readFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { SOUNDS } from '../api/schemas.js';
import { FEATURE_NAMES, LENGTH_LIMITED, REQUIRED_FEATURES, type FeatureName, type LengthLimitedField } from '../request/fields.js';
import { InputError, ManifestError, type InputIssue } from '../errors.js';
import { toInputIssues } from '../manifest/issues.js';
import { Source } from '../manifest/source.js';
import { yamlIssues } from '../manifest/yaml-errors.js';

/** Whole seconds, written as a number or, as older tables did, a numeric string. */
const secondsSchema = z.union([z.number().int().positive(), z.string().regex(/^[1-9]\d*$/).transform(Number)], {
  error: 'must be a whole number of seconds, e.g. 5',
});

/** The durations a model (or a feature) takes: a list, or a range of whole seconds. */
export const durationsSchema = z.union(
  [
    z.array(secondsSchema).min(1),
    z
      .strictObject({ min: secondsSchema, max: secondsSchema })
      .refine((r) => r.min <= r.max, { error: '`min` must not be above `max`', path: ['min'] }),
  ],
  { error: 'must be a list of whole seconds, e.g. [5, 10], or a range, e.g. { min: 3, max: 15 }' },
);
export type Durations = z.infer<typeof durationsSchema>;

/**
 * Where a feature works: never (false), wherever the model works (true), or in these modes and
 * durations; `types` narrows a field with a `type` (camera_control) to the types the model takes.
 */
const featureSchema = z.union([
  z.boolean(),
  z.strictObject({
    modes: z.array(z.string().min(1)).min(1).optional(),
    durations: durationsSchema.optional(),
    types: z.array(z.string().min(1)).min(1).optional(),
  }),
]);
export type Feature = z.infer<typeof featureSchema>;

/** The request features the table describes (src/request/fields.ts says which fields each covers). */
export const FEATURES = FEATURE_NAMES;
export type { FeatureName };

/** Each feature a row names: the first ones are required, Kling's 2026 controls default to false (not offered). */
const featureShape = Object.fromEntries(FEATURE_NAMES.map((name) => [name, REQUIRED_FEATURES.includes(name) ? featureSchema : featureSchema.optional()])) as {
  [K in FeatureName]: K extends 'image_tail' | 'masks' | 'sound' | 'cfg_scale' ? typeof featureSchema : z.ZodOptional<typeof featureSchema>;
};

/** The longest text the provider takes per field, in characters: `{ prompt: 500, negative_prompt: 200 }`. */
const limitsSchema = z.strictObject(Object.fromEntries(LENGTH_LIMITED.map((field) => [field, z.number().int().positive().optional()])) as Record<LengthLimitedField, z.ZodOptional<z.ZodNumber>>);

export const modelCapabilitySchema = z.strictObject({
  /** The `mode` values the model takes; [] for a single quality level (no `mode` at all). */
  modes: z.array(z.string().min(1)),
  durations: durationsSchema,
  ...featureShape,
  /** Features that cannot all be used in one request, e.g. [image_tail, sound]. */
  excludes: z.array(z.array(z.enum(FEATURE_NAMES)).min(2)).optional(),
  /** Text lengths this provider takes for this model; a field left out has no limit checked. */
  limits: limitsSchema.optional(),
});
export type ModelCapability = z.infer<typeof modelCapabilitySchema>;

/** A feature naming a mode the model does not have is a mistake in the table, not in a manifest. */
function checkModes(caps: ModelCapability, ctx: z.RefinementCtx<ModelCapability>): void {
  for (const feature of FEATURES) {
    const spec = caps[feature];
    if (spec === undefined || typeof spec === 'boolean') continue;
    spec.modes?.forEach((mode, i) => {
      if (caps.modes.includes(mode)) return;
      const known = caps.modes.length ? `its modes are ${caps.modes.join(', ')}` : 'it has a single quality level (no modes)';
      ctx.addIssue({ code: 'custom', path: [feature, 'modes', i], message: `\`${mode}\` is not a mode of this model: ${known}.`, params: { complete: true } });
    });
  }
}

export const modelRowsSchema = z.record(z.string().min(1), modelCapabilitySchema.superRefine(checkModes));
export type ModelRows = z.infer<typeof modelRowsSchema>;

/** A loaded model table: its rows and the file they came from, which messages name. */
export interface ModelTable {
  /** `src/data/models.yaml` for the shipped table, else the path it was read from. */
  readonly file: string;
  readonly models: Readonly<ModelRows>;
}

export const priceRowSchema = z.strictObject({
  model_name: z.string().min(1),
  /** Left out: the price is the same in every mode (or the model has a single quality level). */
  mode: z.string().min(1).optional(),
  /** Left out: the price does not depend on generated sound. */
  sound: z.enum(SOUNDS).optional(),
  /** true: the price of a request with a `voice_list`, false: without; left out: voices do not change the price. */
  voice_list: z.boolean().optional(),
  usd_per_second: z.number().nonnegative(),
});
export type PriceRow = z.infer<typeof priceRowSchema>;

/** Two rows for the same model, mode, sound and voice_list would make the price depend on their order. */
function checkUnique(rows: PriceRow[], ctx: z.RefinementCtx<PriceRow[]>): void {
  const seen = new Map<string, number>();
  rows.forEach((row, i) => {
    const key = JSON.stringify([row.model_name, row.mode ?? null, row.sound ?? null, row.voice_list ?? null]);
    const first = seen.get(key);
    if (first === undefined) return void seen.set(key, i);
    ctx.addIssue({ code: 'custom', path: [i, 'model_name'], message: `this row has the same model_name, mode, sound and voice_list as row [${first}]; keep one of them.`, params: { complete: true } });
  });
}

export const priceTableSchema = z.array(priceRowSchema).superRefine(checkUnique);
export type PriceTable = z.infer<typeof priceTableSchema>;

/**
 * USD per unit of a task's `final_unit_deduction` (what the provider says it charged), when neither
 * `--unit-price` nor the price file says: Kling's standard resource packs. Its trial packs cost
 * $0.098 a unit and its larger packs $0.126.
 */
export const USD_PER_UNIT = 0.14;

/** A price file: its rows and, when it gives one, the unit price of the account's resource pack. */
export interface PriceFile {
  readonly rows: PriceTable;
  readonly usd_per_unit?: number;
}

/** The price file with the unit price written beside the rows; a bare list of rows loads too. */
const priceFileObjectSchema = z.strictObject({
  /** USD per unit of `final_unit_deduction`: what the account's resource pack costs. */
  usd_per_unit: z.number().positive().optional(),
  rows: priceTableSchema,
});

/** The unit price a measured cost was worked out with, and where it came from. */
export interface UnitPrice {
  readonly usd_per_unit: number;
  /** `option`: `--unit-price`; `table`: the price file's `usd_per_unit`; `default`: USD_PER_UNIT. */
  readonly from: 'option' | 'table' | 'default';
  /** The price file that gave it (as messages name it), with `from: 'table'`. */
  readonly file?: string;
}

export const DEFAULT_MODELS_FILE = fileURLToPath(new URL('./models.yaml', import.meta.url));
export const DEFAULT_PRICES_FILE = fileURLToPath(new URL('./prices.yaml', import.meta.url));
/** How messages name the shipped tables: the path in the repository. */
export const shippedName = (file: string) => `src/data/${basename(file)}`;

/** A row in the per-video format of older versions (`duration`, `usd`): say what changed rather than what is missing. */
function perVideoHint(data: unknown, path: readonly PropertyKey[]): string | undefined {
  const [first, second] = path;
  const rows = Array.isArray(data) ? data : first === 'rows' && typeof data === 'object' && data !== null ? (data as { rows?: unknown }).rows : undefined;
  const index = Array.isArray(data) ? first : second;
  const row: unknown = Array.isArray(rows) && typeof index === 'number' ? rows[index] : undefined;
  if (typeof row !== 'object' || row === null || !('usd' in row || 'duration' in row)) return undefined;
  return 'Prices are now USD per second of video: write `usd_per_second` (a 5 s price divided by 5) and drop `duration`. See docs/models-and-prices.md.';
}

/**
 * Reads and validates a table file. Every problem is reported at once, located like a manifest's
 * (`prices.yaml:6:8 at \`[1].usd_per_second\`: …`); the error's own message keeps a one-line summary.
 */
function loadTable<T>(
  file: string,
  schemaFor: z.ZodType<T> | ((data: unknown) => z.ZodType<T>),
  what: string,
  shipped: string,
  rowHint?: (data: unknown, path: readonly PropertyKey[]) => string | undefined,
): T {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    const given = file === shipped ? '' : ` given with --${basename(shipped, '.yaml')}`;
    throw new InputError('input_missing', `Cannot read the ${what} file ${file}${given}: ${(cause as Error).message}. Check the path.`, { cause });
  }
  const source = new Source(file, text);
  const compare = `Compare it with the shipped ${what} file, ${shippedName(shipped)} (format: docs/models-and-prices.md).`;
  const fail: (issues: readonly InputIssue[], summary: string) => never = (issues, summary) => {
    const sorted = [...issues].sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.col ?? 0) - (b.col ?? 0));
    throw new ManifestError(sorted.map((issue) => (issue.hint ? issue : { ...issue, hint: compare })), summary);
  };
  if (source.doc.errors.length) {
    const issues = yamlIssues(source);
    fail(issues, `The ${what} file ${file} is not valid YAML: ${issues[0]?.message ?? 'unknown problem'}`);
  }
  const data: unknown = source.doc.toJS();
  const schema = typeof schemaFor === 'function' ? schemaFor(data) : schemaFor;
  const result = schema.safeParse(data);
  if (!result.success) {
    const first = result.error.issues[0];
    const where = first ? first.path.join('.') || '(top level)' : '(top level)';
    const issues = result.error.issues.flatMap((issue) => {
      const located = toInputIssues(issue, source, data, schema);
      const hint = rowHint?.(data, issue.path);
      return hint ? located.map((i) => ({ ...i, hint })) : located;
    });
    fail(issues, `The ${what} file ${file} is invalid at ${where}: ${first?.message ?? 'unknown problem'}. ${compare}`);
  }
  return result.data;
}

export function loadModelTable(file: string = DEFAULT_MODELS_FILE): ModelTable {
  const models = loadTable(file, modelRowsSchema, 'model capability', DEFAULT_MODELS_FILE);
  return { file: file === DEFAULT_MODELS_FILE ? shippedName(file) : file, models };
}

/** The price file: a list of rows (as older versions wrote it), or `{ usd_per_unit, rows }`. */
export function loadPriceFile(file: string = DEFAULT_PRICES_FILE): PriceFile {
  // A map that names neither key is most likely prices written by model (`kling-v3: 0.1`): it
  // gets the list's "expected a list" rather than a complaint about a missing `rows`.
  const isFileObject = (data: unknown): boolean => typeof data === 'object' && data !== null && ('rows' in data || 'usd_per_unit' in data);
  const loaded = loadTable<PriceTable | PriceFile>(file, (data) => (isFileObject(data) ? priceFileObjectSchema : priceTableSchema), 'price', DEFAULT_PRICES_FILE, perVideoHint);
  return Array.isArray(loaded) ? { rows: loaded } : loaded;
}

export function loadPriceTable(file: string = DEFAULT_PRICES_FILE): PriceTable {
  return loadPriceFile(file).rows;
}

/**
 * The unit price measured costs are worked out with: `--unit-price` (`option`), else the price
 * file's `usd_per_unit` (the file as given, relative to `cwd`; the shipped one without it), else
 * Kling's standard packs' $0.14. The file is read only without the option.
 */
export function unitPriceOf(option: number | undefined, file?: { readonly path: string; readonly cwd: string }): UnitPrice {
  if (option !== undefined) return { usd_per_unit: option, from: 'option' };
  const fromFile = loadPriceFile(file ? resolve(file.cwd, file.path) : DEFAULT_PRICES_FILE).usd_per_unit;
  if (fromFile === undefined) return { usd_per_unit: USD_PER_UNIT, from: 'default' };
  return { usd_per_unit: fromFile, from: 'table', file: file ? file.path : shippedName(DEFAULT_PRICES_FILE) };
}
