// Text tables with one row per variant (the plan's cost table, the run/status summary): model,
// mode and duration, then a column per other field any variant has (sound, cfg_scale, …), then
// the numbers, right-aligned.
import { type Variant, extraFieldsOf, valueOf, valueText } from '../plan/variants.js';

/** Longer values (a prompt sweep) are cut in tables; report.json has them whole. */
const MAX_CELL = 40;

/** `text` cut to `width` characters, with an ellipsis when cut. */
export const cutText = (text: string, width: number): string => (text.length <= width ? text : `${text.slice(0, Math.max(0, width - 1))}…`);

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
          return v === undefined ? '-' : cutText(valueText(v), MAX_CELL);
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
  /**
   * The width every line must fit (a terminal's): text cells but the first are cut (…), widest
   * column first, then the text columns become one; numbers are never cut. @default no limit
   */
  readonly width?: number;
}

const GAP = '  ';
/** Text columns are cut down to this many characters before they are merged into one. */
const MIN_TEXT = 6;

/** Rows of cells as aligned lines, two spaces between columns. */
export function alignTable(rows: readonly (readonly string[])[], options: AlignOptions): string {
  const { width } = options;
  const fitted = width === undefined ? { rows, options } : fitTable(rows, options, width);
  return layOut(fitted.rows, fitted.options).join('\n');
}

/** Each column's width: its widest cell outside the footer rows. */
function widthsOf(rows: readonly (readonly string[])[], options: AlignOptions): number[] {
  const measured = rows.slice(0, rows.length - (options.footerRows ?? 0));
  const columns = Math.max(...rows.map((row) => row.length));
  return Array.from({ length: columns }, (_, c) => Math.max(...measured.map((row) => (row[c] ?? '').length)));
}

function layOut(rows: readonly (readonly string[])[], options: AlignOptions, widths = widthsOf(rows, options)): string[] {
  const line = (row: readonly string[]) =>
    row
      .map((cell, c) => {
        if (options.looseLastColumn && c === row.length - 1) return cell;
        const size = widths[c] ?? 0;
        return c >= options.numericFrom ? cell.padStart(size) : cutText(cell, size).padEnd(size);
      })
      .join(GAP)
      .trimEnd();
  return rows.map(line);
}

/**
 * The table made to fit `width`: the widest text column but the first is narrowed one character at
 * a time down to MIN_TEXT; if that is not enough, the text columns (so cut) become one, cut at its
 * end to fit.
 */
function fitTable(rows: readonly (readonly string[])[], options: AlignOptions, width: number): { rows: readonly (readonly string[])[]; options: AlignOptions } {
  const widths = widthsOf(rows, options);
  // A loose last cell (a total with words) is as long as it is; every other line is the sum of the widths.
  const loose = options.looseLastColumn ? Math.max(...rows.map((row) => (row[row.length - 1] ?? '').length)) : 0;
  const longest = (): number => widths.reduce((sum, w, c) => sum + (c === widths.length - 1 ? Math.max(w, loose) : w), 0) + GAP.length * (widths.length - 1);
  const cutRows = () => rows.map((row) => row.map((cell, c) => (c < options.numericFrom ? cutText(cell, widths[c] ?? 0) : cell)));
  while (longest() > width) {
    let widest = -1;
    // The first column names the row (the model): it is never cut on its own, only once merged.
    for (let c = options.numericFrom > 1 ? 1 : 0; c < options.numericFrom; c++) if ((widths[c] ?? 0) > MIN_TEXT && (widest < 0 || (widths[c] ?? 0) > (widths[widest] ?? 0))) widest = c;
    if (widest < 0) break;
    widths[widest] = (widths[widest] ?? 0) - 1;
  }
  if (longest() <= width || options.numericFrom < 2) return { rows: cutRows(), options };
  // Compact: one text column of the cut cells, as wide as the numbers leave room for.
  const footer = rows.length - (options.footerRows ?? 0);
  const merged = cutRows().map((row, r) => [r >= footer ? (row[0] ?? '') : row.slice(0, options.numericFrom).join(' '), ...row.slice(options.numericFrom)]);
  return fitTable(merged, { ...options, numericFrom: 1 }, width);
}
