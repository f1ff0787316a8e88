// Text tables with one row per variant (the plan's cost table, the run/status summary): model,
// mode and duration, then a column per other field any variant has (sound, cfg_scale, …), then
// the numbers, right-aligned. On a terminal too narrow for it, the columns every row shares are
// said once above the table before any cell is cut: what tells the rows apart is kept.
import { type Variant, extraFieldsOf, valueOf, valueText } from '../plan/variants.js';
import { cutText, wrapLine } from './fit.js';

/** Longer values (a prompt sweep) are cut in tables; report.json has them whole. */
const MAX_CELL = 40;

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
   * The width every line must fit (a terminal's): text columns with one value in every row are
   * left out and said once ("same for every job: …"), then text cells but the first are cut (…),
   * widest column first, then the text columns become one; numbers are never cut. @default no limit
   */
  readonly width?: number;
}

const GAP = '  ';
/** Text columns are cut down to this many characters before they are merged into one. */
const MIN_TEXT = 6;

/** Rows of cells as aligned lines, two spaces between columns. */
export function alignTable(rows: readonly (readonly string[])[], options: AlignOptions): string {
  const { width } = options;
  if (width === undefined || Math.max(...layOut(rows, options).map((line) => line.length)) <= width) return layOut(rows, options).join('\n');
  const { same, ...distinct } = withoutCommonColumns(rows, options);
  const fitted = fitTable(distinct.rows, distinct.options, width);
  return [...(same ? wrapLine(same, width) : []), ...layOut(fitted.rows, fitted.options)].join('\n');
}

/**
 * The table without its text columns that hold one value in every row (two rows or more), and
 * those said in one line: `same for every job: model kling-v2-6, mode pro`. At least one text
 * column stays. A footer row keeps its first cell (`total`) in the first column left.
 */
function withoutCommonColumns(rows: readonly (readonly string[])[], options: AlignOptions): { rows: readonly (readonly string[])[]; options: AlignOptions; same: string } {
  const [header = [], ...rest] = rows;
  const body = rest.slice(0, rest.length - (options.footerRows ?? 0));
  const text = Array.from({ length: options.numericFrom }, (_, c) => c);
  const common = body.length < 2 ? [] : text.filter((c) => body.every((row) => row[c] === body[0]?.[c]));
  if (common.length === 0 || common.length === text.length) return { rows, options, same: '' };
  const footer = rows.length - (options.footerRows ?? 0);
  const kept = (row: readonly string[], r: number): string[] => {
    const cells = row.filter((_, c) => !common.includes(c));
    return r >= footer && common.includes(0) ? [row[0] ?? '', ...cells.slice(1)] : cells;
  };
  const same = common.map((c) => `${header[c]} ${body[0]?.[c]}`).join(', ');
  return { rows: rows.map(kept), options: { ...options, numericFrom: options.numericFrom - common.length }, same: `same for every job: ${same}` };
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
  // Compact: one text column, as wide as the numbers leave room for, each row's cells cut longest
  // first so that every one of them (what tells the rows apart) keeps a part.
  const footer = rows.length - (options.footerRows ?? 0);
  const numbers = widths.slice(options.numericFrom).reduce((sum, w) => sum + w + GAP.length, 0);
  const room = Math.max(MIN_TEXT, width - numbers);
  const merged = rows.map((row, r) => [r >= footer ? (row[0] ?? '') : squeeze(row.slice(0, options.numericFrom), room), ...row.slice(options.numericFrom)]);
  return fitTable(merged, { ...options, numericFrom: 1 }, width);
}

/** Cells joined by spaces in at most `room` characters: the longest is cut first, one character at a time. */
function squeeze(cells: readonly string[], room: number): string {
  const lengths = cells.map((cell) => cell.length);
  const total = (): number => lengths.reduce((sum, n) => sum + n, 0) + lengths.length - 1;
  while (total() > room) {
    const longest = lengths.indexOf(Math.max(...lengths));
    if ((lengths[longest] ?? 0) <= 1) break;
    lengths[longest] = (lengths[longest] ?? 0) - 1;
  }
  return cells.map((cell, c) => cutText(cell, lengths[c] ?? 0)).join(' ');
}
