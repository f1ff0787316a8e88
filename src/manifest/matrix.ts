// Matrix expansion with exactly GitHub Actions' rules
// (docs.github.com › "Running variations of jobs in a workflow"):
//  1. the cross product of the list keys, first key outermost;
//  2. `exclude` removes every combination matching all of an entry's keys (partial match);
//  3. each `include` entry is added to every ORIGINAL combination where it overwrites no original
//     matrix value (values added by earlier includes may be overwritten); where it fits none,
//     it becomes a new combination. With no list keys at all, every include is its own combination.
import type { Matrix } from './schema.js';
import type { FieldPath } from './source.js';

export type MatrixValue = string | number | boolean | null;
export type MatrixRow = Readonly<Record<string, MatrixValue>>;

export interface MatrixSpec {
  /** List keys in written order. */
  readonly dimensions: readonly (readonly [key: string, values: readonly MatrixValue[]])[];
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

function crossProduct(dimensions: MatrixSpec['dimensions']): Combination[] {
  let combinations: Combination[] = [{ values: {}, origins: {} }];
  for (const [key, values] of dimensions) {
    combinations = combinations.flatMap((c) =>
      values.map((value, i) => ({ values: { ...c.values, [key]: value }, origins: { ...c.origins, [key]: [key, i] } })),
    );
  }
  return combinations;
}

const matches = (values: Record<string, MatrixValue>, row: MatrixRow): boolean =>
  Object.entries(row).every(([key, value]) => values[key] === value);

/** Expands a matrix; `max` bounds the number of combinations. */
export function expandMatrix(spec: MatrixSpec, max: number): MatrixResult {
  const include = spec.include ?? [];
  const exclude = spec.exclude ?? [];
  const keys = new Set(spec.dimensions.map(([key]) => key));
  const problems: MatrixProblem[] = [];
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
  const product = spec.dimensions.reduce((n, [, values]) => n * values.length, 1);
  if (product > Math.max(max, BUILD_GUARD)) {
    problems.push({ path: [], message: `the matrix crosses to ${product} combinations; at most ${max} are allowed.`, hint: 'Split it into several job entries or manifests.' });
  }
  if (problems.length) return { ok: false, problems };

  // No list keys and no includes is the single empty combination: "no expansion".
  if (keys.size === 0 && include.length === 0) return { ok: true, combinations: [{ values: {}, origins: {} }] };

  const originals = keys.size ? crossProduct(spec.dimensions).filter((c) => !exclude.some((row) => matches(c.values, row))) : [];
  const added: Combination[] = [];
  include.forEach((row, i) => {
    const fits = originals.filter((c) => Object.entries(row).every(([key, value]) => !keys.has(key) || c.values[key] === value));
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

/** A manifest's matrix as a spec: its list keys in written order, then include and exclude. */
export function matrixSpecOf(matrix: Matrix | undefined): MatrixSpec {
  if (!matrix) return { dimensions: [] };
  const { include, exclude, ...lists } = matrix;
  const dimensions = Object.entries(lists).flatMap(([key, values]) => (values ? [[key, values] as const] : []));
  return { dimensions, ...(include ? { include } : {}), ...(exclude ? { exclude } : {}) };
}
