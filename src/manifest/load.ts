// Manifest text → a validated Manifest plus its Source (for locating later problems).
// Every problem found is reported at once, each at its file, line and column.
import { ManifestError, type InputIssue } from '../errors.js';
import { toInputIssues } from './issues.js';
import { manifestSchema, type Manifest, type Matrix } from './schema.js';
import { Source } from './source.js';
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

function fail(issues: InputIssue[]): never {
  throw manifestError(issues);
}

/**
 * Parses and validates manifest text. `file` is how the user named the manifest; it is only
 * used in messages. Throws ManifestError with every problem found.
 */
export function parseManifest(text: string, file: string): ParsedManifest {
  const source = new Source(file, text);
  if (source.doc.errors.length) fail(yamlIssues(source));
  if (source.doc.contents === null) {
    fail([{ file, message: 'the manifest is empty.', hint: 'Start it with `version: 1`, a `name` and a `jobs` list.' }]);
  }
  let raw: unknown;
  try {
    raw = source.doc.toJS({ maxAliasCount: 1000 });
  } catch (error) {
    fail([{ file, message: `cannot read the YAML: ${(error as Error).message}.` }]);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    fail([source.issue([], 'the manifest must be a map of keys (version, name, jobs, …), not a list or a single value.')]);
  }
  const result = manifestSchema.safeParse(raw);
  if (!result.success) {
    fail(result.error.issues.flatMap((issue) => toInputIssues(issue, source, raw, manifestSchema)));
  }
  return { manifest: withWrittenOrder(result.data as Manifest, raw as Parameters<typeof withWrittenOrder>[1]), source };
}
