// The two user-editable data tables: model capabilities and prices. Both are YAML files shipped
// next to this module; users replace them with --models / --prices without touching code.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { z } from 'zod';
import { DURATIONS, MODES } from '../api/schemas.js';
import { InputError } from '../errors.js';

const featureSchema = z.union([
  z.literal(false),
  z.strictObject({ modes: z.array(z.enum(MODES)), durations: z.array(z.enum(DURATIONS)) }),
]);

export const modelCapabilitySchema = z.strictObject({
  modes: z.array(z.enum(MODES)),
  durations: z.array(z.enum(DURATIONS)).min(1),
  cfg_scale: z.boolean(),
  image_tail: featureSchema,
  masks: featureSchema,
  sound: featureSchema,
  image_tail_needs_silence: z.boolean().optional(),
});
export const modelTableSchema = z.record(z.string().min(1), modelCapabilitySchema);
export type ModelCapability = z.infer<typeof modelCapabilitySchema>;
export type ModelTable = z.infer<typeof modelTableSchema>;
export type Feature = z.infer<typeof featureSchema>;

export const priceRowSchema = z.strictObject({
  model_name: z.string().min(1),
  mode: z.enum(MODES).optional(),
  duration: z.enum(DURATIONS),
  usd: z.number().nonnegative(),
});
export const priceTableSchema = z.array(priceRowSchema);
export type PriceRow = z.infer<typeof priceRowSchema>;
export type PriceTable = z.infer<typeof priceTableSchema>;

export const DEFAULT_MODELS_FILE = fileURLToPath(new URL('./models.yaml', import.meta.url));
export const DEFAULT_PRICES_FILE = fileURLToPath(new URL('./prices.yaml', import.meta.url));

function loadTable<T>(file: string, schema: z.ZodType<T>, what: string): T {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new InputError('input_missing', `Cannot read the ${what} file ${file}: ${(cause as Error).message}. Check the path.`, { cause });
  }
  let data: unknown;
  try {
    data = parse(text);
  } catch (cause) {
    throw new InputError('input_invalid', `The ${what} file ${file} is not valid YAML: ${(cause as Error).message}`, { cause });
  }
  const result = schema.safeParse(data);
  if (!result.success) {
    const first = result.error.issues[0];
    const where = first ? first.path.join('.') || '(top level)' : '(top level)';
    throw new InputError(
      'input_invalid',
      `The ${what} file ${file} is invalid at ${where}: ${first?.message ?? 'unknown problem'}. Compare it with the shipped ${what} file.`,
    );
  }
  return result.data;
}

export function loadModelTable(file: string = DEFAULT_MODELS_FILE): ModelTable {
  return loadTable(file, modelTableSchema, 'model capability');
}

export function loadPriceTable(file: string = DEFAULT_PRICES_FILE): PriceTable {
  return loadTable(file, priceTableSchema, 'price');
}

/** USD for one video, or null when the table has no row for it (shown as "unknown", never 0). */
export function priceOf(
  table: PriceTable,
  job: { model_name: string; mode: string | undefined; duration: string },
): number | null {
  const row =
    table.find((r) => r.model_name === job.model_name && r.duration === job.duration && r.mode === job.mode) ??
    table.find((r) => r.model_name === job.model_name && r.duration === job.duration && r.mode === undefined);
  return row ? row.usd : null;
}
