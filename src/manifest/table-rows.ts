// The rows of a `from:` entry as jobs to be: `columns` renames, `where` filters, each row's request
// fields are checked like a hand-written entry's, `name` is checked as a file stem, and every other
// column is kept as text for the report and the export. Table-wide problems (a missing column, a
// typo in `where`) are reported once in the manifest, never once per row.
import { isAbsolute, posix, resolve } from 'node:path';
import type { InputIssue } from '../errors.js';
import { cellValue } from '../request/fields.js';
import { caseOnlyMatch, type ManifestFs } from './fs.js';
import type { ImageSpec } from './images.js';
import { toInputIssues } from './issues.js';
import {
  REQUEST_FIELDS,
  TABLE_FIELDS,
  tableFormatOf,
  tableRowSchema,
  type JobEntry,
  type Manifest,
  type RequestField,
  type TableField,
  type TableRowFields,
} from './schema.js';
import { formatPath, type FieldPath, type IssueMaker, type Source } from './source.js';
import { didYouMean, suggest } from './suggest.js';
import { readTable, type Table, type TableRow } from './table.js';

/** One row that passed its checks: the request fields it sets, its output name and its other columns. */
export interface TableJob {
  readonly row: TableRow;
  /** Request fields from the row; image specs as written (relative to the manifest's folder). */
  readonly fields: TableRowFields;
  readonly name?: string;
  readonly extra?: Readonly<Record<string, string>>;
}

/** A `from:` entry read: its table, which column each field comes from, and its good rows. */
export interface TableEntry {
  readonly table: Table;
  /** The column each field is read from, for the fields whose column the table has. */
  readonly columnOf: ReadonlyMap<TableField, string>;
  /** Request fields (besides `image`) that some selected row sets. */
  readonly fields: ReadonlySet<RequestField>;
  readonly jobs: readonly TableJob[];
  readonly warnings: readonly string[];
}

/** Longest output name; with the id suffix the file name stays far below file-system limits. */
export const NAME_MAX = 100;

/** A cell as text: the way extra columns are carried and `where` compares. */
export function cellText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === null || value === undefined) return '';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

const isEmpty = (value: unknown) => value === undefined || value === null || value === '';

/** CSV cells are text; the API fields that are not text are read from it, as the registry says. */
function fromText(field: TableField, text: string): unknown {
  return field === 'image' || field === 'name' ? text : cellValue(field, text);
}

const describeChar = (char: string) => (char === ' ' ? 'a space' : /\s|\p{C}/u.test(char) ? `the character ${JSON.stringify(char)}` : `\`${char}\``);

/** A name as a safe file stem: letters, digits, `.`, `_` and `-`, not starting with a dot. */
export function nameProblem(name: string): { message: string; hint?: string } | undefined {
  const safe = name.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._]+/, '').slice(0, NAME_MAX) || 'clip';
  const hint = `Use e.g. \`${safe}\`.`;
  if (/[/\\]/.test(name)) return { message: `\`${name}\` contains a path separator; \`name\` is a file name, not a path.`, hint };
  if (name.startsWith('.')) return { message: `\`${name}\` starts with a dot; \`name\` is a plain file name (no hidden files, no \`..\`).`, hint };
  if (name.length > NAME_MAX) return { message: `is ${name.length} characters long; a name has at most ${NAME_MAX}.`, hint };
  const bad = /[^A-Za-z0-9._-]/.exec(name)?.[0];
  if (bad !== undefined) return { message: `\`${name}\` contains ${describeChar(bad)}; a name may use letters a-z and A-Z, digits, ".", "_" and "-".`, hint };
  return undefined;
}

/** Issues at a row's cells, for the field paths zod and the later checks use. */
export function rowIssues(entry: TableEntry, row: TableRow): IssueMaker {
  return {
    issue(path: FieldPath, message: string, hint?: string): InputIssue {
      const field = path[0] as TableField | undefined;
      const column = field === undefined ? undefined : (entry.columnOf.get(field) ?? field);
      return entry.table.issue(row.number, message, { column, field, inner: formatPath(path.slice(1)).replace(/^(?=[^[])/, '.') }, hint);
    },
  };
}

const SINGLE_IMAGES = ['image', 'image_tail', 'static_mask'] as const;

/**
 * Every image a table entry's good rows name, each located at its cell. Made one at a time: a
 * 100,000-row table would otherwise hold 100,000 specs, each with its closure, while images resolve.
 */
export function* tableImageSpecs(entry: TableEntry): Generator<ImageSpec> {
  const at = (row: TableRow, spec: string, path: FieldPath): ImageSpec => ({ spec, many: false, issue: (message) => rowIssues(entry, row).issue(path, message) });
  for (const { row, fields } of entry.jobs) {
    for (const field of SINGLE_IMAGES) {
      const spec = fields[field];
      if (spec !== undefined) yield at(row, spec, [field]);
    }
    for (const [k, mask] of (fields.dynamic_masks ?? []).entries()) yield at(row, mask.mask, ['dynamic_masks', k, 'mask']);
  }
}

/** The table's path as the user would type it: the manifest's folder joined with `from`. */
function shownPath(manifestFile: string, from: string): string {
  return isAbsolute(from) ? from : posix.normalize(posix.join(posix.dirname(manifestFile.replaceAll('\\', '/')), from));
}

function columnHint(column: string, columns: readonly string[]): string {
  return didYouMean(column, columns) ?? `Its columns: ${columns.join(', ') || '(none)'}.`;
}

/** Problems of the entry with the table as a whole; any of them would repeat on every row. */
function tableProblems(entry: JobEntry, at: FieldPath, table: Table, columnOf: ReadonlyMap<TableField, string>, source: Source): InputIssue[] {
  const issues: InputIssue[] = [];
  const has = new Set(table.columns);
  for (const [field, column] of Object.entries(entry.columns ?? {}) as [TableField, string][]) {
    if (!has.has(column)) {
      issues.push(source.issue([...at, 'columns', field], `${table.file} has no column \`${column}\`.`, columnHint(column, table.columns)));
    } else if (has.has(field) && field !== column) {
      issues.push(source.issue([...at, 'columns', field], `${table.file} has a column \`${field}\` as well as \`${column}\`, which \`columns\` reads as \`${field}\`.`, 'Rename or remove one of the two.'));
    }
  }
  if (!columnOf.has('image') && entry.columns?.image === undefined) {
    // `image_path`, `img`, `Image URL`: a column named for images is likely the one.
    const close = suggest('image', table.columns) ?? table.columns.find((c) => /image|img/i.test(c));
    issues.push(
      source.issue([...at, 'from'], `${table.file} has no \`image\` column.`, close ? `Read it from \`${close}\` with \`columns: { image: ${close} }\`.` : 'Name the column of image paths `image`, or map it with `columns: { image: <column> }`.'),
    );
  }
  for (const column of Object.keys(entry.where ?? {})) {
    if (!has.has(column)) issues.push(source.issue([...at, 'where', column], `${table.file} has no column \`${column}\` to filter on.`, columnHint(column, table.columns), 'key'));
  }
  for (const field of REQUEST_FIELDS) {
    const column = columnOf.get(field);
    if (entry[field] !== undefined && column !== undefined) {
      issues.push(source.issue([...at, field], `\`${field}\` is set both in this job entry and by the column \`${column}\` of ${table.file}; the column would override it in every row.`, 'Remove one of the two.', 'key'));
    }
  }
  return issues;
}

/** Columns that look like a misspelt field are probably meant as one: say so rather than carry them silently. */
function lookalikeWarnings(table: Table, extras: readonly string[]): string[] {
  return extras.flatMap((column) => {
    const field = suggest(column, TABLE_FIELDS);
    return field && field !== column.toLowerCase()
      ? [`${table.file}: column \`${column}\` is not a field klingrun sends, so it is carried through as data; if it is meant as \`${field}\`, rename it or map it with \`columns: { ${field}: ${column} }\`.`]
      : [];
  });
}

function whereMisses(entry: JobEntry, at: FieldPath, table: Table, source: Source): InputIssue {
  const filters = Object.entries(entry.where ?? {});
  const seen = filters.map(([column]) => {
    const values = [...new Set(table.rows.map((row) => cellText(row.cells[column])))];
    return `\`${column}\` has ${values.slice(0, 5).map((v) => JSON.stringify(v)).join(', ')}${values.length > 5 ? ', …' : ''}`;
  });
  return source.issue([...at, 'where'], `no row of ${table.file} matches \`where\` (${table.rows.length} rows read).`, `In the table, ${seen.join('; ')}.`);
}

/** Applies one entry's `columns`, `where` and checks to its table. */
export function selectRows(entry: JobEntry, index: number, table: Table, source: Source): { selection?: TableEntry; issues: InputIssue[] } {
  const at: FieldPath = ['jobs', index];
  const has = new Set(table.columns);
  const columnOf = new Map<TableField, string>();
  for (const field of TABLE_FIELDS) {
    const column = entry.columns?.[field] ?? field;
    if (has.has(column)) columnOf.set(field, column);
  }
  const problems = tableProblems(entry, at, table, columnOf, source);
  if (problems.length) return { issues: problems };

  const used = new Set(columnOf.values());
  const extras = table.columns.filter((column) => !used.has(column));
  const where = Object.entries(entry.where ?? {}).map(([column, value]) => [column, String(value)] as const);
  const requestColumns = [...columnOf].filter(([field]) => field !== 'name') as [RequestField | 'image', string][];
  const nameColumn = columnOf.get('name');
  const fields = new Set<RequestField>();
  const jobs: TableJob[] = [];
  const issues: InputIssue[] = [];
  const result: TableEntry = { table, columnOf, fields, jobs, warnings: lookalikeWarnings(table, extras) };

  for (const row of table.rows) {
    if (where.length && !where.every(([column, value]) => cellText(row.cells[column]) === value)) continue;
    const raw: Record<string, unknown> = {};
    for (const [field, column] of requestColumns) {
      const value = row.cells[column];
      if (!isEmpty(value)) raw[field] = typeof value === 'string' && table.format === 'csv' ? fromText(field, value) : value;
    }
    const parsed = tableRowSchema.safeParse(raw);
    if (!parsed.success) issues.push(...parsed.error.issues.flatMap((issue) => toInputIssues(issue, rowIssues(result, row), raw, tableRowSchema)));
    const nameCell = nameColumn === undefined ? undefined : row.cells[nameColumn];
    // JSONL may hold a name as a number (7); as a file stem it is its text.
    const name = typeof nameCell === 'string' ? nameCell.trim() : typeof nameCell === 'number' ? String(nameCell) : nameCell;
    const problem = isEmpty(name) ? undefined : typeof name === 'string' ? nameProblem(name) : { message: `expected text, got ${cellText(name)} (${typeof name}).` };
    if (problem) issues.push(rowIssues(result, row).issue(['name'], problem.message, problem.hint));
    if (!parsed.success || problem) continue;
    for (const field of Object.keys(parsed.data)) if (field !== 'image') fields.add(field as RequestField);
    const job: { row: TableRow; fields: TableRowFields; name?: string; extra?: Record<string, string> } = { row, fields: parsed.data };
    if (typeof name === 'string' && name !== '') job.name = name;
    if (extras.length) {
      job.extra = {};
      for (const column of extras) if (column in row.cells) job.extra[column] = cellText(row.cells[column]);
    }
    jobs.push(job);
  }
  if (jobs.length === 0 && issues.length === 0 && where.length) issues.push(whereMisses(entry, at, table, source));
  return { selection: result, issues };
}

export interface LoadTablesOptions {
  /** The manifest's folder: `from` paths are relative to it. */
  readonly dir: string;
  readonly fs: ManifestFs;
  /** The manifest's path as the user gave it; tables are named relative to it in messages. */
  readonly manifestFile: string;
}

/**
 * Reads the table of every `from:` entry (each file once) and selects its rows. Entries whose
 * table has a table-wide problem are left out of the map; their problems are in `issues`.
 */
export async function loadTables(
  manifest: Manifest,
  source: Source,
  options: LoadTablesOptions,
): Promise<{ tables: ReadonlyMap<number, TableEntry>; issues: InputIssue[] }> {
  const reads = new Map<string, Promise<{ table?: Table; issues: InputIssue[] }>>();
  const read = async (from: string, at: FieldPath) => {
    const abs = resolve(options.dir, from);
    const found = await options.fs.stat(abs);
    if (!found) {
      const match = await caseOnlyMatch(from, options.dir, async (path) => options.fs.readdir?.(path));
      const hint = match === undefined ? undefined : `Did you mean \`${match}\`? Only the case differs, and file names here are case-sensitive.`;
      return { issues: [source.issue(at, `\`${from}\` does not exist (paths are relative to the manifest's folder).`, hint)] };
    }
    if (!found.isFile) return { issues: [source.issue(at, `\`${from}\` is a folder, not a table file.`)] };
    let bytes: Uint8Array;
    try {
      bytes = await options.fs.readFile(abs);
    } catch (error) {
      return { issues: [source.issue(at, `\`${from}\` cannot be read: ${(error as Error).message}.`)] };
    }
    // The schema admits only paths with a known extension.
    return readTable(bytes, shownPath(options.manifestFile, from), tableFormatOf(from) ?? 'csv');
  };

  const entries = manifest.jobs.flatMap((entry, index) => (entry.from === undefined ? [] : [{ entry, index, from: entry.from }]));
  const results = await Promise.all(
    entries.map(async ({ entry, index, from }) => {
      const key = resolve(options.dir, from);
      const first = !reads.has(key);
      if (first) reads.set(key, read(from, ['jobs', index, 'from']));
      const { table, issues } = (await reads.get(key)) ?? { issues: [] };
      // A table read by several entries is reported once.
      const own = first ? issues : [];
      // Rows of a table that cannot be read whole are not checked one by one: the structure comes first.
      if (!table || issues.length) return { index, issues: own };
      const { selection, issues: rowProblems } = selectRows(entry, index, table, source);
      return { index, selection, issues: [...own, ...rowProblems] };
    }),
  );
  const tables = new Map<number, TableEntry>();
  for (const { index, selection } of results) if (selection) tables.set(index, selection);
  return { tables, issues: results.flatMap((r) => r.issues) };
}
