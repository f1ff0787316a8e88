// Text tables with one row per variant (the plan's cost table, the run/status summary): model,
// mode and duration, then a column per other field any variant has (sound, cfg_scale, …), then
// the numbers, right-aligned.
import { type Variant, extraFieldsOf, valueOf, valueText } from '../plan/variants.js';

/** Longer values (a prompt sweep) are cut in tables; report.json has them whole. */
const MAX_CELL = 40;

const cut = (text: string): string => (text.length > MAX_CELL ? `${text.slice(0, MAX_CELL - 1)}…` : text);

export interface VariantColumns {
  readonly header: string[];
  cells(variant: Variant): string[];
}

/** The leading columns that name each variant of a table. */
export function variantColumns(variants: readonly Variant[]): VariantColumns {
  const extra = extraFieldsOf(variants);
  return {
    header: ['model', 'mode', 'duration', ...extra],
    cells: (variant) => {
      const value = (field: Parameters<typeof valueOf>[1]) => valueOf(variant, field);
      return [
        String(value('model_name')),
        String(value('mode') ?? '-'),
        `${value('duration')} s`,
        ...extra.map((field) => {
          const v = value(field);
          return v === undefined ? '-' : cut(valueText(v));
        }),
      ];
    },
  };
}

export interface AlignOptions {
  /** Columns from this index on are numbers, right-aligned. */
  readonly numericFrom: number;
  /** Rows at the end left out of the column widths (a total line whose last cell may run long). */
  readonly footerRows?: number;
  /** Leave the last column unpadded and left-aligned (a total that may say "… at unknown price"). */
  readonly looseLastColumn?: boolean;
}

/** Rows of cells as aligned lines, two spaces between columns. */
export function alignTable(rows: readonly (readonly string[])[], options: AlignOptions): string {
  const measured = rows.slice(0, rows.length - (options.footerRows ?? 0));
  const columns = Math.max(...rows.map((row) => row.length));
  const widths = Array.from({ length: columns }, (_, c) => Math.max(...measured.map((row) => (row[c] ?? '').length)));
  const line = (row: readonly string[]) =>
    row
      .map((cell, c) => {
        if (options.looseLastColumn && c === row.length - 1) return cell;
        return c >= options.numericFrom ? cell.padStart(widths[c] ?? 0) : cell.padEnd(widths[c] ?? 0);
      })
      .join('  ')
      .trimEnd();
  return rows.map(line).join('\n');
}
