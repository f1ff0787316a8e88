// What a variant is, in one place: the plan's table, the run's progress bars and summary,
// report.json's `by_variant`, the videos folders and the gallery's columns all group by it.
//
// A variant is one matrix combination. A job's variant is made of its model, mode and duration
// (always: they set the price, and name the videos folders since the first version) and of every
// other field its own matrix combination sets (`sound`, `cfg_scale`, `negative_prompt`, a zipped
// pair, even `prompt`), each with the value the request really carries. Fields set outside the
// matrix (defaults, a job entry, a table row) belong to the row, not the variant.
//
// It depends on the job alone, never on the rest of the plan, so a job keeps its variant and its
// folder when the manifest gains jobs or matrix values, in every shard of a split batch, and in a
// merged report.
import { createHash } from 'node:crypto';
import { AXIS_FIELDS, FIELDS, fieldText, type AxisField } from '../request/fields.js';
import { type JobRequest, effectiveParams } from './schema.js';

/** The fields a variant can be made of (the matrix axes of the registry), in the order labels and folder names list them. */
export const VARIANT_FIELDS: readonly AxisField[] = AXIS_FIELDS;
/** A field of the registry, or a template variable of the matrix (`motion`): not sent, but it tells variants apart. */
export type VariantField = AxisField | (string & {});
/** A structured field (camera_control, multi_prompt…) is its one-line text, e.g. `simple zoom 5`. */
export type VariantValue = string | number;

/** Part of every variant. */
export const BASE_FIELDS: readonly VariantField[] = ['model_name', 'mode', 'duration'];

export interface Variant {
  /** The fields that make the variant, each with this variant's value; a field the request leaves out is absent. */
  readonly fields: readonly (readonly [field: VariantField, value: VariantValue])[];
  /** Unique per variant (exact values); for grouping, never shown. */
  readonly key: string;
  /** For people: `kling-v2-6 pro 5s sound=off`. */
  readonly label: string;
  /** The videos folder: `kling-v2-6_pro_5s_sound-off` (safe characters, bounded, deterministic). */
  readonly folder: string;
}

/** What a variant is computed from: a planned job, or a report job with its params. */
export interface VariantSource {
  readonly request: JobRequest;
  /** The job's matrix combination (`variant` of a planned or reported job). */
  readonly variant: Readonly<Record<string, unknown>>;
}

/** The fields besides model, mode and duration: part of a variant when its matrix combination sets them. */
const MATRIX_FIELDS = VARIANT_FIELDS.filter((field) => !BASE_FIELDS.includes(field));

/** Calls `visit` with each field of the job's variant and its value, in VARIANT_FIELDS order. */
function eachField(job: VariantSource, visit: (field: VariantField, value: VariantValue) => void): void {
  const base = effectiveParams(job.request);
  visit('model_name', base.model_name);
  if (base.mode !== undefined) visit('mode', base.mode);
  visit('duration', base.duration);
  for (const field of MATRIX_FIELDS) {
    const value = job.request[field];
    // A null in a zip leaves the field out: the request has no value, so the variant has none.
    if (value !== undefined && field in job.variant) visit(field, typeof value === 'string' || typeof value === 'number' ? value : fieldText(field, value));
  }
  for (const [name, value] of Object.entries(job.variant)) if (isVariable(name, value)) visit(name, typeof value === 'boolean' ? String(value) : value);
}

/** A matrix key that is no field, with its value: a template variable (manifest/template.ts), after the fields. */
const isVariable = (name: string, value: unknown): value is string | number | boolean => !(name in FIELDS) && ['string', 'number', 'boolean'].includes(typeof value);

function fieldsOf(job: VariantSource): Variant['fields'] {
  const fields: [VariantField, VariantValue][] = [];
  eachField(job, (field, value) => fields.push([field, value]));
  return fields;
}

/** Field names never hold `=` or a line break, and JSON text never holds a raw line break: one key per variant. */
const entryKey = (field: VariantField, value: VariantValue): string => `${field}=${JSON.stringify(value)}\n`;

/** The grouping key alone, without building the variant: a plan table of 100,000 jobs computes 100,000. */
export function variantKey(job: VariantSource): string {
  let key = '';
  eachField(job, (field, value) => (key += entryKey(field, value)));
  return key;
}

const keyOf = (fields: Variant['fields']): string => fields.map(([field, value]) => entryKey(field, value)).join('');

/** A value as labels and tables show it: quoted when it holds spaces, `=` or quotes, or nothing. */
export function valueText(value: VariantValue): string {
  const text = String(value);
  return /[\s="]/.test(text) || text === '' ? JSON.stringify(text) : text;
}

function labelOf(fields: Variant['fields']): string {
  return fields
    .map(([field, value]) => (field === 'duration' ? `${value}s` : BASE_FIELDS.includes(field) ? String(value) : `${field}=${valueText(value)}`))
    .join(' ');
}

/** Folder names longer than this are cut and end with the hash. */
const MAX_FOLDER = 96;
const HASH_LENGTH = 8;

/** Lower case; anything but letters, digits, dots and dashes becomes one dash (`_` separates the parts). */
const safe = (text: string): string => text.toLowerCase().replace(/[^a-z0-9.-]+/g, '-').replace(/^-+|-+$/g, '');

/**
 * `kling-v2-6_pro_5s_sound-off`. When a value had to be altered to be safe (upper case, spaces,
 * punctuation) or the name is too long, a hash of the exact values is appended, so two variants
 * never share a folder, on case-insensitive file systems too.
 */
function folderOf(fields: Variant['fields'], key: string): string {
  const values = new Map<VariantField, VariantValue>(fields);
  // Models with one quality level have no mode: the folder has always said `default` then.
  const base = [String(values.get('model_name')), String(values.get('mode') ?? 'default'), `${values.get('duration')}s`];
  const others = fields.filter(([field]) => !BASE_FIELDS.includes(field)).map(([field, value]) => [field, String(value)] as const);
  const lossy = base.some((text) => safe(text) !== text) || others.some(([, text]) => safe(text) !== text);
  const name = [...base.map(safe), ...others.map(([field, text]) => `${safe(field)}-${safe(text)}`)].join('_');
  if (!lossy && name.length <= MAX_FOLDER) return name;
  const hash = createHash('sha256').update(key).digest('hex').slice(0, HASH_LENGTH);
  return `${name.slice(0, MAX_FOLDER - HASH_LENGTH - 1).replace(/[-_.]+$/, '')}_${hash}`;
}

function variantWith(fields: Variant['fields']): Variant {
  const key = keyOf(fields);
  return { fields, key, label: labelOf(fields), folder: folderOf(fields, key) };
}

export const variantOf = (job: VariantSource): Variant => variantWith(fieldsOf(job));

/** The variant with these fields (a `by_variant` row of report.json); unknown names and nulls are ignored. */
export function variantOfFields(values: Readonly<Record<string, VariantValue | null | undefined>>): Variant {
  const fields = VARIANT_FIELDS.flatMap((field) => {
    const value = values[field];
    return value === null || value === undefined ? [] : [[field, value] as const];
  });
  return variantWith([...fields, ...Object.entries(values).flatMap(([name, value]) => (isVariable(name, value) ? [[name, value] as const] : []))]);
}

export interface VariantGroup<T> {
  readonly variant: Variant;
  readonly items: T[];
}

/** Items grouped by variant, groups in order of first appearance. */
export function groupByVariant<T>(items: readonly T[], sourceOf: (item: T) => VariantSource): VariantGroup<T>[] {
  const groups = new Map<string, VariantGroup<T>>();
  for (const item of items) {
    const source = sourceOf(item);
    const key = variantKey(source);
    const group = groups.get(key);
    if (group) group.items.push(item);
    else groups.set(key, { variant: variantOf(source), items: [item] });
  }
  return [...groups.values()];
}

/** The non-base fields any of the variants has, in VARIANT_FIELDS order: the extra columns of a table. */
export function extraFieldsOf(variants: readonly Variant[]): VariantField[] {
  const present = new Set(variants.flatMap((v) => v.fields.map(([field]) => field)));
  return [...VARIANT_FIELDS.filter((field) => !BASE_FIELDS.includes(field) && present.has(field)), ...[...present].filter((field) => !(field in FIELDS))];
}

/**
 * The fields, of `fields`, whose text differs between `items` (a field some have and others lack
 * differs): what tells them apart. The gallery labels its columns by them; the terminal's labels
 * and tables put them first and say the others once.
 */
export function differingFields<F, T>(fields: readonly F[], items: readonly T[], textOf: (item: T, field: F) => string): F[] {
  return fields.filter((field) => new Set(items.map((item) => textOf(item, field))).size > 1);
}

/** Labels of a set of variants: what tells each apart, and once what they all share. */
export interface VariantLabels {
  /** The differing fields of this variant as a label (`prompt="slow pan"`); its whole label when it is the only one. */
  label(variant: Variant): string;
  /** The fields every variant has with one value, as a label (`kling-v2-5-turbo std 5s`); '' when there are none, or one variant. */
  readonly common: string;
}

/** A variant's text of a field, with `-` for a field it lacks (which then differs from a value). */
const fieldValueText = (variant: Variant, field: VariantField): string => {
  const value = valueOf(variant, field);
  return value === undefined ? '-' : String(value);
};

/**
 * Labels that tell variants apart first: each variant's label holds only the fields that differ
 * between them (VARIANT_FIELDS order), and the fields they share are said once (`common`), so a
 * label cut to a narrow terminal keeps what tells it from the next.
 */
export function variantLabels(variants: readonly Variant[]): VariantLabels {
  const distinct = new Map(variants.map((v) => [v.key, v]));
  if (distinct.size < 2) return { label: (variant) => variant.label, common: '' };
  const differing = new Set<VariantField>(differingFields<VariantField, Variant>([...BASE_FIELDS, ...extraFieldsOf([...distinct.values()])], [...distinct.values()], fieldValueText));
  const first = [...distinct.values()][0] as Variant;
  return {
    // A variant that lacks every differing field (no `sound` where the others set it) says so.
    label: (variant) => labelOf(variant.fields.filter(([field]) => differing.has(field))) || [...differing].map((field) => `${field} unset`).join(' '),
    common: labelOf(first.fields.filter(([field]) => !differing.has(field))),
  };
}

/** A variant's value of a field, or undefined when it has none. */
export const valueOf = (variant: Variant, field: VariantField): VariantValue | undefined => variant.fields.find(([f]) => f === field)?.[1];
