// `export --where FIELD=VALUE` / `FIELD!=VALUE`: keeps the rows whose column matches, every
// condition at once. It compares a cell's text, as the CSV export writes it raw, so what a person
// reads in the CSV or the gallery is what they type; an empty value matches a cell with no value.
import { UsageError } from '../errors.js';
import { didYouMean } from '../manifest/suggest.js';
import type { ExportRow, ExportValue } from './export.js';

export interface WhereCondition {
  readonly column: string;
  readonly negate: boolean;
  readonly value: string;
  /** As given, for messages. */
  readonly text: string;
}

/** Names people reach for that are spelt otherwise in the rows. */
const ALIASES: Readonly<Record<string, string>> = { model: 'model_name' };

const FORM = /^([^=!]+?)\s*(!?=)(.*)$/s;

/** One `--where` argument: `FIELD=VALUE` or `FIELD!=VALUE`. */
export function parseWhere(text: string): WhereCondition {
  const match = FORM.exec(text.trim());
  if (!match) {
    throw new UsageError(`Expected \`--where\` to be FIELD=VALUE or FIELD!=VALUE (e.g. \`--where rating=keep\`, \`--where status!=failed\`), got \`${text}\`.`);
  }
  const [, field, op, value] = match as unknown as [string, string, string, string];
  const column = field.trim();
  return { column: ALIASES[column] ?? column, negate: op === '!=', value, text };
}

/** A cell as text: no value is empty, numbers and booleans as JSON writes them. */
export const cellText = (value: ExportValue | undefined): string => (value === null || value === undefined ? '' : String(value));

/**
 * Throws a UsageError when the rows have no column `column`, naming the option given (`what`),
 * the columns they do have and the closest one.
 */
export function checkColumn(column: string, columns: readonly string[], what: string): void {
  if (columns.includes(column)) return;
  const hint = didYouMean(column, columns);
  throw new UsageError(`\`${what}\`: there is no column \`${column}\`.${hint ? ` ${hint}` : ''} The columns are: ${columns.join(', ')} (see docs/export-columns.md).`);
}

/** Every condition's column, checked as checkColumn does. */
export function checkColumns(conditions: readonly WhereCondition[], columns: readonly string[]): void {
  for (const condition of conditions) checkColumn(condition.column, columns, `--where ${condition.text}`);
}

/** The rows that meet every condition. */
export function whereRows(rows: readonly ExportRow[], conditions: readonly WhereCondition[]): ExportRow[] {
  return rows.filter((row) => conditions.every((c) => (cellText(row[c.column]) === c.value) !== c.negate));
}
