// Matrix expansion with exactly GitHub Actions' rules
// (docs.github.com › "Running variations of jobs in a workflow"):
//  1. the cross product of the list keys, first key outermost;
//  2. `exclude` removes every combination matching all of an entry's keys (partial match);
//  3. each `include` entry is added to every ORIGINAL combination where it overwrites no original
//     matrix value (values added by earlier includes may be overwritten); where it fits none,
//     it becomes a new combination. With no list keys at all, every include is its own combination.
// Our one addition, `zip`: lists paired element by element form a single dimension of tuples at
// the place `zip` is written, crossed like any list; every zipped key counts as an original key.
import { canonicalJson } from '../plan/ids.js';
import type { Matrix } from './schema.js';
import type { FieldPath } from './source.js';

/** A field's value: a scalar, or the object or list of a structured field (camera_control, multi_prompt…). */
export type MatrixValue = string | number | boolean | null | readonly unknown[] | { readonly [key: string]: unknown };
export type MatrixRow = Readonly<Record<string, MatrixValue>>;

/** One list key and its values. */
export type ListDimension = readonly [key: string, values: readonly MatrixValue[]];
/** Lists paired element by element: the i-th values of every list form one tuple. */
export interface ZipDimension {
  readonly zip: readonly ListDimension[];
}
export type Dimension = ListDimension | ZipDimension;

export interface MatrixSpec {
  /** List keys and zips in written order. */
  readonly dimensions: readonly Dimension[];
  readonly include?: readonly MatrixRow[];
  readonly exclude?: readonly MatrixRow[];
}

/** One matrix combination (a variant), with where each value was written, relative to the matrix. */
export interface Combination {
  readonly values: Record<string, MatrixValue>;
  readonly origins: Record<string, FieldPath>;
}

export interface MatrixProblem {
  /** Relative to the matrix. */
  readonly path: FieldPath;
  readonly message: string;
  readonly hint?: string;
}

export type MatrixResult =
  | { readonly ok: true; readonly combinations: Combination[] }
  | { readonly ok: false; readonly problems: MatrixProblem[] };

/** Cross products past this are refused before they are built (the final limit is checked after). */
const BUILD_GUARD = 100_000;

const isZip = (dimension: Dimension): dimension is ZipDimension => !Array.isArray(dimension);

/** The keys a dimension sets: its own, or each key of its zip. */
const keysOf = (dimension: Dimension): string[] => (isZip(dimension) ? dimension.zip.map(([key]) => key) : [dimension[0]]);

/** A dimension's entries as partial combinations; a zip must have lists of one length (checked before). */
function fragments(dimension: Dimension): Combination[] {
  if (!isZip(dimension)) {
    const [key, values] = dimension;
    return values.map((value, i) => ({ values: { [key]: value }, origins: { [key]: [key, i] } }));
  }
  const length = dimension.zip[0]?.[1].length ?? 0;
  return Array.from({ length }, (_, i) => ({
    values: Object.fromEntries(dimension.zip.map(([key, values]) => [key, values[i] as MatrixValue])),
    origins: Object.fromEntries(dimension.zip.map(([key]) => [key, ['zip', key, i]])),
  }));
}

const sizeOf = (dimension: Dimension): number => (isZip(dimension) ? (dimension.zip[0]?.[1].length ?? 0) : dimension[1].length);

function crossProduct(dimensions: MatrixSpec['dimensions']): Combination[] {
  let combinations: Combination[] = [{ values: {}, origins: {} }];
  for (const dimension of dimensions) {
    const parts = fragments(dimension);
    combinations = combinations.flatMap((c) =>
      parts.map((part) => ({ values: { ...c.values, ...part.values }, origins: { ...c.origins, ...part.origins } })),
    );
  }
  return combinations;
}

/** A zip whose lists differ in length cannot pair; a key both zipped and listed would be set twice. */
function shapeProblems(dimensions: MatrixSpec['dimensions']): MatrixProblem[] {
  const problems: MatrixProblem[] = [];
  const listed = new Set(dimensions.flatMap((d) => (isZip(d) ? [] : [d[0]])));
  for (const dimension of dimensions.filter(isZip)) {
    const lengths = dimension.zip.map(([key, values]) => `${key} has ${values.length}`);
    if (new Set(dimension.zip.map(([, values]) => values.length)).size > 1) {
      problems.push({ path: ['zip'], message: `the lists under \`zip\` pair element by element, so they need equal lengths: ${lengths.join(', ')}.`, hint: 'Make them the same length (null leaves a field out of a pair).' });
    }
    for (const [key] of dimension.zip.filter(([key]) => listed.has(key))) {
      problems.push({ path: ['zip', key], message: `\`${key}\` is both a list of the matrix and a list under \`zip\`.`, hint: 'Keep it in one of the two places.' });
    }
  }
  return problems;
}

/** Equal values: objects and lists by content, whatever their key order. */
const same = (a: MatrixValue | undefined, b: MatrixValue): boolean => a === b || (typeof a === 'object' && typeof b === 'object' && a !== null && b !== null && canonicalJson(a) === canonicalJson(b));

const matches = (values: Record<string, MatrixValue>, row: MatrixRow): boolean =>
  Object.entries(row).every(([key, value]) => same(values[key], value));

/** Expands a matrix; `max` bounds the number of combinations. */
export function expandMatrix(spec: MatrixSpec, max: number): MatrixResult {
  const include = spec.include ?? [];
  const exclude = spec.exclude ?? [];
  const keys = new Set(spec.dimensions.flatMap(keysOf));
  const problems: MatrixProblem[] = shapeProblems(spec.dimensions);
  exclude.forEach((row, i) => {
    for (const key of Object.keys(row)) {
      if (!keys.has(key)) {
        problems.push({
          path: ['exclude', i, key],
          message: `exclude key \`${key}\` is not a list key of this matrix, so it can never match.`,
          hint: keys.size ? `The list keys are: ${[...keys].join(', ')}.` : 'Add it as a list key or remove it.',
        });
      }
    }
  });
  const product = spec.dimensions.reduce((n, dimension) => n * sizeOf(dimension), 1);
  if (product > Math.max(max, BUILD_GUARD)) {
    problems.push({ path: [], message: `the matrix crosses to ${product} combinations; at most ${max} are allowed.`, hint: 'Split it into several job entries or manifests.' });
  }
  if (problems.length) return { ok: false, problems };

  // No list keys and no includes is the single empty combination: "no expansion".
  if (keys.size === 0 && include.length === 0) return { ok: true, combinations: [{ values: {}, origins: {} }] };

  const originals = keys.size ? crossProduct(spec.dimensions).filter((c) => !exclude.some((row) => matches(c.values, row))) : [];
  const added: Combination[] = [];
  include.forEach((row, i) => {
    const fits = originals.filter((c) => Object.entries(row).every(([key, value]) => !keys.has(key) || same(c.values[key], value)));
    for (const c of fits) {
      // Original keys already hold this value (that is what fitting means); only added keys change.
      for (const [key, value] of Object.entries(row).filter(([k]) => !keys.has(k))) {
        c.values[key] = value;
        c.origins[key] = ['include', i, key];
      }
    }
    if (fits.length === 0) {
      added.push({ values: { ...row }, origins: Object.fromEntries(Object.keys(row).map((k) => [k, ['include', i, k]])) });
    }
  });
  const combinations = [...originals, ...added];
  if (combinations.length === 0) {
    return {
      ok: false,
      problems: [{ path: [], message: `the matrix has no combinations: exclude removes all ${product} and no include adds one.`, hint: 'Loosen the exclude entries or add an include.' }],
    };
  }
  if (combinations.length > max) {
    return {
      ok: false,
      problems: [{ path: [], message: `the matrix expands to ${combinations.length} combinations; at most ${max} are allowed.`, hint: 'Split it into several job entries or manifests.' }],
    };
  }
  return { ok: true, combinations };
}

/** A manifest's matrix as a spec: its list keys and zip in written order, then include and exclude. */
export function matrixSpecOf(matrix: Matrix | undefined): MatrixSpec {
  if (!matrix) return { dimensions: [] };
  const { include, exclude, ...lists } = matrix;
  // The schema checked every value: lists of values, and the zip a map of lists (template variables included).
  const dimensions = Object.entries(lists).flatMap(([key, values]): Dimension[] => {
    if (values === undefined) return [];
    if (Array.isArray(values)) return [[key, values as MatrixValue[]]];
    const zip = Object.entries(values as Record<string, MatrixValue[] | undefined>).flatMap(([k, v]): ListDimension[] => (v ? [[k, v]] : []));
    return zip.length ? [{ zip }] : [];
  });
  const rows = (entries: readonly Record<string, unknown>[]) => entries as readonly MatrixRow[];
  return { dimensions, ...(include ? { include: rows(include) } : {}), ...(exclude ? { exclude: rows(exclude) } : {}) };
}

/** Keys the matrix mentions anywhere: list keys, zip lists, include and exclude entries, with where (`at`: the matrix's path). */
export function matrixKeys(matrix: Matrix, at: FieldPath): Map<string, FieldPath> {
  const keys = new Map<string, FieldPath>();
  const { include, exclude, zip, ...lists } = matrix;
  for (const key of Object.keys(lists)) keys.set(key, [...at, key]);
  for (const key of Object.keys(zip ?? {})) keys.has(key) || keys.set(key, [...at, 'zip', key]);
  for (const [name, rows] of [['include', include], ['exclude', exclude]] as const) {
    rows?.forEach((row, j) => Object.keys(row).forEach((key) => keys.has(key) || keys.set(key, [...at, name, j, key])));
  }
  return keys;
}
