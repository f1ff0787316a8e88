// Manifest text → a validated Manifest plus its Source (for locating later problems).
// Every problem found is reported at once, each at its file, line and column.
import type { z } from 'zod';
import { ManifestError, type InputIssue } from '../errors.js';
import { AXIS_FIELDS, FIELD_NAMES } from '../request/fields.js';
import { knownKeys, toInputIssues, unknownKeyIssue } from './issues.js';
import { matrixKeys } from './matrix.js';
import { manifestSchema, type JobEntry, type Manifest, type Matrix } from './schema.js';
import { Source, type FieldPath } from './source.js';
import { suggest } from './suggest.js';
import { TEMPLATE_FIELDS, variablesOf } from './template.js';
import { yamlIssues } from './yaml-errors.js';

/** Most issues collected for one manifest; past this, later problems are likely echoes of earlier ones. */
export const MAX_ISSUES = 200;

export interface ParsedManifest {
  readonly manifest: Manifest;
  readonly source: Source;
}

/** Keys in the order the YAML wrote them (zod returns its schema's order; the matrix order is the user's). */
function inWrittenOrder<T extends object>(parsed: T, raw: unknown): T {
  if (raw === null || typeof raw !== 'object') return parsed;
  const entries = Object.keys(raw).filter((k) => k in parsed).map((k) => [k, parsed[k as keyof T]] as const);
  return Object.fromEntries(entries) as T;
}

function matrixInWrittenOrder(matrix: Matrix, raw: unknown): Matrix {
  const rawMatrix = raw as { include?: unknown[]; exclude?: unknown[]; zip?: unknown };
  const ordered = inWrittenOrder(matrix, raw);
  if (matrix.zip) ordered.zip = inWrittenOrder(matrix.zip, rawMatrix.zip);
  if (matrix.include) ordered.include = matrix.include.map((entry, i) => inWrittenOrder(entry, rawMatrix.include?.[i]));
  if (matrix.exclude) ordered.exclude = matrix.exclude.map((entry, i) => inWrittenOrder(entry, rawMatrix.exclude?.[i]));
  return ordered;
}

function withWrittenOrder(manifest: Manifest, raw: { matrix?: unknown; jobs?: { matrix?: unknown }[] }): Manifest {
  return {
    ...manifest,
    ...(manifest.matrix ? { matrix: matrixInWrittenOrder(manifest.matrix, raw.matrix) } : {}),
    jobs: manifest.jobs.map((entry, i) =>
      entry.matrix ? { ...entry, matrix: matrixInWrittenOrder(entry.matrix, raw.jobs?.[i]?.matrix) } : entry,
    ),
  };
}

/**
 * Issues in reading order, capped: the one way every manifest problem is raised. Issues of
 * several files (a manifest and the tables it names) stay grouped by file, files in the order
 * they first appear.
 */
export function manifestError(issues: readonly InputIssue[]): ManifestError {
  const fileRank = new Map<string, number>();
  for (const issue of issues) if (!fileRank.has(issue.file)) fileRank.set(issue.file, fileRank.size);
  const rank = (issue: InputIssue) => fileRank.get(issue.file) ?? 0;
  const sorted = [...issues].sort((a, b) => rank(a) - rank(b) || (a.line ?? 0) - (b.line ?? 0) || (a.col ?? 0) - (b.col ?? 0));
  return new ManifestError(sorted.slice(0, MAX_ISSUES));
}

/** The variables the templates a matrix applies to use: those of the defaults, of its entries and of its own values. */
function variablesInScope(matrix: Matrix, defaults: Manifest['defaults'], entries: readonly JobEntry[]): Set<string> {
  const used = variablesOf(defaults, new Set());
  for (const entry of entries) variablesOf(entry, used);
  const rows = [...(matrix.include ?? []), ...(matrix.exclude ?? [])];
  for (const field of TEMPLATE_FIELDS) {
    const values = [matrix[field], matrix.zip?.[field]].flatMap((list): unknown[] => (Array.isArray(list) ? list : []));
    for (const value of [...values, ...rows.map((row) => row[field])]) variablesOf({ [field]: value }, used);
  }
  return used;
}

const AXES: ReadonlySet<string> = new Set(AXIS_FIELDS);
/** Names that are never template variables: the request's other fields (`image`, …) and the one klingrun sets. */
const RESERVED: ReadonlySet<string> = new Set([...FIELD_NAMES, 'external_task_id']);

/**
 * A matrix key that is no field the matrix varies must be a template variable that a prompt in
 * its scope uses: otherwise it is a typo (`mdoe`) or a misplaced key, reported as unknown.
 */
function matrixKeyIssues(manifest: Manifest, source: Source): InputIssue[] {
  const check = (matrix: Matrix | undefined, at: FieldPath, entries: readonly JobEntry[]): InputIssue[] => {
    if (!matrix) return [];
    const used = variablesInScope(matrix, manifest.defaults, entries);
    return [...matrixKeys(matrix, at)].flatMap(([key, path]) => {
      if (AXES.has(key) || (used.has(key) && !RESERVED.has(key))) return [];
      // A prompt's misspelt `{moton}` is reported where it is written, with this key as the fix.
      if ([...used].some((name) => name !== key && suggest(name, [key]) === key)) return [];
      const template = `A key that is not a field is a template variable: use it in a prompt as \`{${key}}\`.`;
      return [unknownKeyIssue(source, path, knownKeys(manifestSchema, path.slice(0, -1)), template)];
    });
  };
  return [
    ...check(manifest.matrix, ['matrix'], manifest.jobs.filter((entry) => !entry.matrix)),
    ...manifest.jobs.flatMap((entry, i) => check(entry.matrix, ['jobs', i, 'matrix'], [entry])),
  ];
}

const isMap = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * A matrix as written, reduced to what the key check reads (its keys, and the lists and rows it can
 * read them from), when the schema refused part of it: a misspelt key (`modle_name`) is still
 * reported in the same round as the bad value beside it.
 */
function looseMatrix(value: unknown): Matrix | undefined {
  if (!isMap(value)) return undefined;
  const rows = (list: unknown) => (Array.isArray(list) ? list.filter(isMap) : undefined);
  const lists = (map: Record<string, unknown>) => Object.fromEntries(Object.entries(map).map(([key, list]) => [key, Array.isArray(list) ? list : []]));
  const { include, exclude, zip, ...axes } = value;
  const loose = { ...lists(axes), ...(isMap(zip) ? { zip: lists(zip) } : {}), include: rows(include), exclude: rows(exclude) };
  // Only read by matrixKeyIssues, which reads keys, lists and rows as they are here.
  return loose as Matrix;
}

/**
 * The salvaged manifest with its top-level matrix as written, for the key check. Entries that
 * failed the schema are empty in the salvage and keep no matrix; without the written defaults
 * (they failed too) the prompts that use a matrix's variables are unknown, so the check waits.
 */
function withWrittenMatrix(manifest: Manifest, raw: Record<string, unknown>): Manifest {
  const matrix = looseMatrix(raw.matrix);
  const defaultsKnown = raw.defaults === undefined || manifest.defaults !== undefined;
  return matrix && defaultsKnown ? { ...manifest, matrix } : manifest;
}

/** What the schema check leaves for the later checks (tables, images, model rules). */
export interface CheckedManifest {
  readonly source: Source;
  /** Every problem of the YAML and the schema, located. */
  readonly issues: readonly InputIssue[];
  /**
   * What can be checked further, when the manifest is a map with a list of jobs: the entries that
   * passed the schema as they are, each one that did not as an empty entry (`{}`: no images, no
   * table) at its own index, so problems found later keep their `jobs[i]`.
   */
  readonly manifest?: Manifest;
  /** Indexes of the job entries that failed the schema. */
  readonly badEntries: ReadonlySet<number>;
  /**
   * Whether the model rules can be checked: not when `defaults` or the top-level `matrix` failed,
   * since every request is made from them and each would repeat the same mistake.
   */
  readonly rulesCheckable: boolean;
}

/**
 * The manifest as far as it is sound, after a failed schema check: the parts with problems left
 * out, so a user fixes every problem in one round (issue "one pass"). Undefined when no job list
 * is left to check.
 */
function salvage(raw: Record<string, unknown>, problems: readonly z.core.$ZodIssue[]): Pick<CheckedManifest, 'manifest' | 'badEntries' | 'rulesCheckable'> | undefined {
  const badKeys = new Set<string>();
  const badEntries = new Set<number>();
  for (const { path } of problems) {
    const [key, index] = path;
    if (key === 'jobs' && typeof index === 'number') badEntries.add(index);
    // An issue at the top (unknown keys) needs no repair: only known keys are copied below.
    else if (key !== undefined) badKeys.add(String(key));
  }
  if (badKeys.has('jobs')) return undefined;
  // Any valid entry stands in for a bad one during this check; it becomes `{}` right after.
  const standIn = { image: '-' };
  const kept: Record<string, unknown> = {
    version: 1,
    name: badKeys.has('name') ? 'manifest' : raw['name'],
    jobs: (raw['jobs'] as unknown[]).map((entry, i) => (badEntries.has(i) ? standIn : entry)),
  };
  for (const key of ['id_salt', 'defaults', 'matrix', 'limits']) if (!badKeys.has(key) && raw[key] !== undefined) kept[key] = raw[key];
  const result = manifestSchema.safeParse(kept);
  if (!result.success) return undefined;
  const manifest = withWrittenOrder(result.data as Manifest, kept as Parameters<typeof withWrittenOrder>[1]);
  return {
    manifest: { ...manifest, jobs: manifest.jobs.map((entry, i) => (badEntries.has(i) ? {} : entry)) },
    badEntries,
    rulesCheckable: !badKeys.has('defaults') && !badKeys.has('matrix'),
  };
}

/**
 * Parses manifest text and checks it against the schema, collecting every problem instead of
 * stopping at the first part that fails. `file` is how the user named the manifest; it is only
 * used in messages.
 */
export function checkManifest(text: string, file: string): CheckedManifest {
  const source = new Source(file, text);
  const stop = (issues: InputIssue[]): CheckedManifest => ({ source, issues, badEntries: new Set(), rulesCheckable: false });
  if (source.doc.errors.length) return stop(yamlIssues(source));
  if (source.doc.contents === null) {
    return stop([{ file, message: 'the manifest is empty.', hint: 'Start it with `version: 1`, a `name` and a `jobs` list.' }]);
  }
  let raw: unknown;
  try {
    raw = source.doc.toJS({ maxAliasCount: 1000 });
  } catch (error) {
    return stop([{ file, message: `cannot read the YAML: ${(error as Error).message}.` }]);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    return stop([source.issue([], 'the manifest must be a map of keys (version, name, jobs, …), not a list or a single value.')]);
  }
  const result = manifestSchema.safeParse(raw);
  if (result.success) {
    const manifest = withWrittenOrder(result.data as Manifest, raw as Parameters<typeof withWrittenOrder>[1]);
    return { source, issues: matrixKeyIssues(manifest, source), manifest, badEntries: new Set(), rulesCheckable: true };
  }
  const issues = result.error.issues.flatMap((issue) => toInputIssues(issue, source, raw, manifestSchema));
  const salvaged = salvage(raw as Record<string, unknown>, result.error.issues);
  if (salvaged?.manifest) issues.push(...matrixKeyIssues(withWrittenMatrix(salvaged.manifest, raw as Record<string, unknown>), source));
  return { source, issues, ...(salvaged ?? { badEntries: new Set(), rulesCheckable: false }) };
}

/**
 * Parses and validates manifest text. `file` is how the user named the manifest; it is only
 * used in messages. Throws ManifestError with every problem found.
 */
export function parseManifest(text: string, file: string): ParsedManifest {
  const { source, issues, manifest } = checkManifest(text, file);
  if (issues.length || !manifest) throw manifestError([...issues]);
  return { manifest, source };
}
