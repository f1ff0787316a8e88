// Reading a table that a manifest names with `from:`: CSV per RFC 4180 (through csv-parse) or
// JSON Lines. Rows are numbered as users count them (CSV: data records from 1, header excluded;
// JSONL: the line), so any later problem with a row (a bad prompt, a missing image, a model rule)
// can name the file, line, column and row, as manifest problems do. Positions are worked out only
// for rows that have a problem: a clean 100,000-row table pays nothing for them.
import { parse } from 'csv-parse/sync';
import type { CsvError } from 'csv-parse/sync';
import type { InputIssue } from '../errors.js';
import { readSimpleCsv } from './table-csv.js';
import type { TableFormat } from './schema.js';
import type { Position } from './source.js';

export interface TableRow {
  /** 1-based: the data record's index for CSV (header excluded), the line for JSONL. */
  readonly number: number;
  /** Values by column name: text for CSV, JSON values for JSONL. */
  readonly cells: Readonly<Record<string, unknown>>;
}

/** Where in a row a problem is: a column, optionally the field it is read as and a path inside it. */
export interface CellRef {
  readonly column?: string | undefined;
  /** The field the column is read as, when renamed (`caption` read as `prompt`). */
  readonly field?: string | undefined;
  /** Inside a structured value, e.g. `[0].mask` of `dynamic_masks`. */
  readonly inner?: string | undefined;
}

/** Most problems listed for one table's structure; past the first broken quote the rest are echoes. */
const MAX_PARSE_ISSUES = 200;

const UTF8 = new TextDecoder('utf-8', { fatal: true });
const BOM = [0xef, 0xbb, 0xbf];
const NEWLINE = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;
const COMMA = 0x2c;

const bomLength = (bytes: Buffer) => (BOM.every((b, i) => bytes[i] === b) ? BOM.length : 0);

/** Line numbers of byte offsets, from an index of the newlines built on first use. */
class Lines {
  private newlines: number[] | undefined;
  constructor(private readonly bytes: Buffer) {}

  private index(): number[] {
    if (!this.newlines) {
      this.newlines = [];
      for (let at = this.bytes.indexOf(NEWLINE); at >= 0; at = this.bytes.indexOf(NEWLINE, at + 1)) this.newlines.push(at);
    }
    return this.newlines;
  }

  /** Byte offset where 1-based `line` starts. */
  start(line: number): number {
    return line <= 1 ? 0 : (this.index()[line - 2] ?? this.bytes.length) + 1;
  }

  /** The 1-based line, column (in characters) and text of the line holding byte `offset`. */
  position(offset: number): Position {
    const newlines = this.index();
    let lo = 0;
    let hi = newlines.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((newlines[mid] as number) < offset) lo = mid + 1;
      else hi = mid;
    }
    const start = lo === 0 ? 0 : (newlines[lo - 1] as number) + 1;
    const end = newlines[lo] ?? this.bytes.length;
    const before = this.bytes.toString('utf8', start, offset).replace(/^\uFEFF/, '');
    const excerpt = this.bytes.toString('utf8', start, end).replace(/^\uFEFF/, '').replace(/\r$/, '');
    return { line: lo + 1, col: before.length + 1, excerpt };
  }
}

/**
 * The byte offsets where each field of the CSV record at `start` begins, and where the record
 * ends. Only for locating: csv-parse does the parsing; this walks quotes the same RFC 4180 way.
 */
function scanRecord(bytes: Buffer, start: number): { starts: number[]; end: number } {
  const starts = [start];
  let quoted = false;
  let at = start;
  for (; at < bytes.length; at++) {
    const byte = bytes[at];
    if (quoted) {
      if (byte === QUOTE && bytes[at + 1] === QUOTE) at++;
      else if (byte === QUOTE) quoted = false;
    } else if (byte === QUOTE && at === starts[starts.length - 1]) {
      quoted = true;
    } else if (byte === COMMA) {
      starts.push(at + 1);
    } else if (byte === NEWLINE) {
      return { starts, end: at + 1 };
    }
  }
  return { starts, end: at };
}

/** Skips the blank lines csv-parse skips (skip_empty_lines), so a row starts at its first field. */
function skipBlankLines(bytes: Buffer, at: number): number {
  while (bytes[at] === NEWLINE || (bytes[at] === CR && bytes[at + 1] === NEWLINE)) at += bytes[at] === CR ? 2 : 1;
  return at;
}

/** Where each CSV data record starts (index k: row k + 1), in one pass over the file after the header. */
function recordStarts(bytes: Buffer, headerEnd: number): number[] {
  const starts: number[] = [];
  for (let at = skipBlankLines(bytes, headerEnd); at < bytes.length; at = skipBlankLines(bytes, scanRecord(bytes, at).end)) starts.push(at);
  return starts;
}

export class Table {
  private csvStarts: number[] | undefined;

  constructor(
    /** The table's path as shown in messages (relative like the manifest's). */
    readonly file: string,
    readonly format: TableFormat,
    /** Column names: the CSV header, or every key the JSONL rows use, in first-seen order. */
    readonly columns: readonly string[],
    readonly rows: readonly TableRow[],
    private readonly bytes: Buffer,
    private readonly lines: Lines,
    /** Where the CSV header ends (0 for JSONL). */
    private readonly headerEnd: number,
  ) {}

  /** Byte offset where row `number` starts. */
  private rowStart(number: number): number {
    if (this.format === 'jsonl') return this.lines.start(number);
    this.csvStarts ??= recordStarts(this.bytes, this.headerEnd);
    return this.csvStarts[number - 1] ?? this.bytes.length;
  }

  /** Where the cell `column` of row `number` starts (the row's start when the column is not found). */
  locate(number: number, column?: string): Position {
    const start = this.rowStart(number);
    if (column === undefined) return this.lines.position(start);
    if (this.format === 'csv') {
      const k = this.columns.indexOf(column);
      return this.lines.position((k >= 0 ? scanRecord(this.bytes, start).starts[k] : undefined) ?? start);
    }
    const line = this.lines.position(start);
    const key = new RegExp(`${escapeRegExp(JSON.stringify(column))}\\s*:\\s*`).exec(line.excerpt);
    return key ? { ...line, col: key.index + key[0].length + 1 } : line;
  }

  /** An issue at a row (or one of its cells), e.g. at `row 3, column caption (prompt)`. */
  issue(row: number, message: string, at: CellRef = {}, hint?: string): InputIssue {
    const { column, field, inner = '' } = at;
    const where = column === undefined ? '' : `, column ${column}${inner}${field !== undefined && field !== column ? ` (${field})` : ''}`;
    return { file: this.file, ...this.locate(row, column), path: `row ${row}${where}`, message, ...(hint ? { hint } : {}) };
  }

  /** An issue at a byte offset (a header cell, a bad JSON line). */
  issueAt(offset: number, path: string, message: string, hint?: string): InputIssue {
    return { file: this.file, ...this.lines.position(offset), path, message, ...(hint ? { hint } : {}) };
  }
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The file's text, checked as UTF-8 first: a wrong encoding would otherwise become garbled prompts. */
function decode(bytes: Buffer, file: string): { text: string } | { issue: InputIssue } {
  try {
    return { text: UTF8.decode(bytes) };
  } catch {
    const text = bytes.toString('utf8');
    const bad = text.indexOf('\uFFFD');
    const line = text.slice(0, bad).split('\n').length;
    return {
      issue: {
        file,
        line,
        message: 'the table is not UTF-8 text (this line holds bytes that are not UTF-8).',
        hint: 'Save it as UTF-8 (in Excel: "CSV UTF-8"; with pandas: encoding="utf-8").',
      },
    };
  }
}

const CSV_PROBLEMS: Partial<Record<CsvError['code'], { message: string; hint: string }>> = {
  CSV_QUOTE_NOT_CLOSED: {
    message: 'opens a quoted field that is never closed, so the rest of the file reads as one field.',
    hint: 'Close the quote; inside a quoted field, write a quote as two quotes ("").',
  },
  CSV_INVALID_CLOSING_QUOTE: {
    message: 'has text right after the closing quote of a field.',
    hint: 'Inside a quoted field, write a quote as two quotes (""), e.g. "a ""quoted"" word".',
  },
  INVALID_OPENING_QUOTE: {
    message: 'has a quote inside an unquoted field.',
    hint: 'Quote the whole field and double the quote: "5"" screen".',
  },
};

function columnCountProblem(error: CsvError, header: number): { message: string; hint: string } {
  const fields = Array.isArray(error['record']) ? error['record'].length : undefined;
  return {
    message: `has ${fields ?? 'a different number of'} field${fields === 1 ? '' : 's'}; the header has ${header}.`,
    hint: 'Quote fields that contain commas or line breaks: "slow pan, then zoom".',
  };
}

/**
 * A well-formed table is read by readSimpleCsv; csv-parse reads any other, and says what is wrong.
 * csv-parse's `info` option is left off on purpose: building its info object for every record
 * makes a 100,000-row parse four times slower, and its line count goes wrong after a quoted field
 * holding a CRLF. Row numbers come from the parser's own record counts, positions from
 * scanRecord, and only for rows that have a problem.
 */
function readCsv(bytes: Buffer, text: string, file: string): { table?: Table; issues: InputIssue[] } {
  const lines = new Lines(bytes);
  const headerStart = skipBlankLines(bytes, bomLength(bytes));
  const header = scanRecord(bytes, headerStart);
  let columns: string[];
  const skipped: CsvError[] = [];
  let records: Record<string, string>[];
  // TextDecoder has dropped the BOM already.
  const simple = readSimpleCsv(text);
  try {
    columns = simple?.columns ?? parse(bytes.subarray(headerStart, header.end))[0] ?? [];
    records =
      simple?.records ??
      parse<Record<string, string>>(bytes, {
        bom: true,
        columns: true,
        relax_column_count: false,
        skip_empty_lines: true,
        // Bad records are collected, not thrown, so every bad row can be listed at once.
        skip_records_with_error: true,
        on_skip: (error) => void (error && skipped.push(error)),
      });
  } catch (error) {
    return { issues: [{ file, line: lines.position(headerStart).line, message: `cannot be read as CSV: ${(error as Error).message}.` }] };
  }
  const rows: TableRow[] = [];
  const table = new Table(file, 'csv', columns, rows, bytes, lines, header.end);
  const issues: InputIssue[] = [];

  columns.forEach((name, k) => {
    const at = header.starts[k] ?? headerStart;
    const path = `header, column ${k + 1}`;
    if (name.trim() === '') {
      issues.push(table.issueAt(at, path, 'this column has no name.', 'Name it, or write the table without an index column (pandas: to_csv(index=False)).'));
    } else if (columns.indexOf(name) !== k) {
      issues.push(table.issueAt(at, path, `the column name \`${name}\` is used twice; the second would hide the first.`, 'Rename one of them.'));
    }
  });

  // A skipped record knows how many good records came before it: together they give every row its number.
  let bad = 0;
  records.forEach((cells, j) => {
    while (bad < skipped.length && Number(skipped[bad]?.['records']) <= j) bad++;
    rows.push({ number: j + bad + 1, cells });
  });
  for (const [k, error] of skipped.entries()) {
    const number = Number(error['records']) + k + 1;
    const known = error.code === 'CSV_RECORD_INCONSISTENT_COLUMNS' ? columnCountProblem(error, columns.length) : CSV_PROBLEMS[error.code];
    issues.push(table.issue(number, known?.message ?? `cannot be read: ${error.message}.`, {}, known?.hint));
    // After a broken quote, where rows start is anyone's guess: later problems are echoes.
    if (error.code !== 'CSV_RECORD_INCONSISTENT_COLUMNS') break;
  }
  if (rows.length === 0 && issues.length === 0) {
    const blank = bytes.toString('utf8', headerStart).trim() === '';
    issues.push({ file, message: blank ? 'the table is empty.' : 'the table has a header but no rows.', hint: 'A CSV table needs a header row naming its columns, then one row per job.' });
  }
  return { table, issues: issues.slice(0, MAX_PARSE_ISSUES) };
}

const jsonKind = (value: unknown) => (value === null ? 'null' : Array.isArray(value) ? 'a list' : typeof value === 'string' ? 'text' : `a ${typeof value}`);

function readJsonl(bytes: Buffer, file: string): { table?: Table; issues: InputIssue[] } {
  const columns: string[] = [];
  const seen = new Set<string>();
  const rows: TableRow[] = [];
  const issues: InputIssue[] = [];
  const table = new Table(file, 'jsonl', columns, rows, bytes, new Lines(bytes), 0);
  const hint = 'Write one JSON object per line, e.g. {"image": "images/a.png", "prompt": "slow push-in"}.';
  let start = bomLength(bytes);
  for (let number = 1; start <= bytes.length; number++) {
    const newline = bytes.indexOf(NEWLINE, start);
    const end = newline < 0 ? bytes.length : newline;
    const text = bytes.toString('utf8', start, end);
    const offset = start;
    start = end + 1;
    if (text.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      const at = /position (\d+)/.exec((error as Error).message)?.[1];
      const column = at === undefined ? offset : offset + Buffer.byteLength(text.slice(0, Number(at)));
      const why = (error as Error).message.replace(/ in JSON at position .*$/, '');
      if (issues.length < MAX_PARSE_ISSUES) issues.push(table.issueAt(column, `row ${number}`, `is not valid JSON (${why}).`, hint));
      continue;
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      if (issues.length < MAX_PARSE_ISSUES) issues.push(table.issueAt(offset, `row ${number}`, `is ${jsonKind(value)}, not a JSON object.`, hint));
      continue;
    }
    for (const key of Object.keys(value)) {
      if (!seen.has(key)) columns.push(key);
      seen.add(key);
    }
    rows.push({ number, cells: value as Record<string, unknown> });
  }
  if (rows.length === 0 && issues.length === 0) issues.push({ file, message: 'the table has no rows.', hint });
  return { table, issues };
}

/**
 * Parses a table's bytes. `file` is the table's path as shown in messages. Problems of structure
 * (encoding, quoting, field counts, bad JSON lines) come back as issues located in the table;
 * rows that could be read are returned beside them.
 */
export function readTable(data: Uint8Array, file: string, format: TableFormat): { table?: Table; issues: InputIssue[] } {
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const decoded = decode(bytes, file);
  if ('issue' in decoded) return { issues: [decoded.issue] };
  return format === 'csv' ? readCsv(bytes, decoded.text, file) : readJsonl(bytes, file);
}
