// The two user-editable data tables: model capabilities and prices. Both are YAML files shipped
// next to this module; users replace them with --models / --prices without touching code.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { DURATIONS, MODES } from '../api/schemas.js';
import { InputError, ManifestError, type InputIssue } from '../errors.js';
import { toInputIssues } from '../manifest/issues.js';
import { Source } from '../manifest/source.js';
import { yamlIssues } from '../manifest/yaml-errors.js';

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

/**
 * Reads and validates a table file. Every problem is reported at once, located like a manifest's
 * (`prices.yaml:6:8 at \`[1].usd\`: …`); the error's own message keeps a one-line summary.
 */
function loadTable<T>(file: string, schema: z.ZodType<T>, what: string, shipped: string): T {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    const given = file === shipped ? '' : ` given with --${basename(shipped, '.yaml')}`;
    throw new InputError('input_missing', `Cannot read the ${what} file ${file}${given}: ${(cause as Error).message}. Check the path.`, { cause });
  }
  const source = new Source(file, text);
  const compare = `Compare it with the shipped ${what} file, src/data/${basename(shipped)}.`;
  const fail: (issues: readonly InputIssue[], summary: string) => never = (issues, summary) => {
    const sorted = [...issues].sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.col ?? 0) - (b.col ?? 0));
    throw new ManifestError(sorted.map((issue) => (issue.hint ? issue : { ...issue, hint: compare })), summary);
  };
  if (source.doc.errors.length) {
    const issues = yamlIssues(source);
    fail(issues, `The ${what} file ${file} is not valid YAML: ${issues[0]?.message ?? 'unknown problem'}`);
  }
  const data: unknown = source.doc.toJS();
  const result = schema.safeParse(data);
  if (!result.success) {
    const first = result.error.issues[0];
    const where = first ? first.path.join('.') || '(top level)' : '(top level)';
    fail(
      result.error.issues.flatMap((issue) => toInputIssues(issue, source, data, schema)),
      `The ${what} file ${file} is invalid at ${where}: ${first?.message ?? 'unknown problem'}. ${compare}`,
    );
  }
  return result.data;
}

export function loadModelTable(file: string = DEFAULT_MODELS_FILE): ModelTable {
  return loadTable(file, modelTableSchema, 'model capability', DEFAULT_MODELS_FILE);
}

export function loadPriceTable(file: string = DEFAULT_PRICES_FILE): PriceTable {
  return loadTable(file, priceTableSchema, 'price', DEFAULT_PRICES_FILE);
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
