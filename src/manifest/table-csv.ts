// A fast reader for the CSV tables most people write: RFC 4180, `\n` or `\r\n` line ends, a header
// of distinct names, every row as wide as the header. csv-parse takes over a second on 100,000
// rows; this takes a tenth of that. At the first thing it is not sure csv-parse would read the
// same way (a stray quote, a lone CR, a ragged row, an odd header) it gives up, and csv-parse reads
// the file and names what is wrong. Blank lines are skipped, as csv-parse's skip_empty_lines does.

const QUOTE = 0x22;
const COMMA = 0x2c;
const LF = 0x0a;
const CR = 0x0d;

export interface SimpleCsv {
  readonly columns: string[];
  readonly records: Record<string, string>[];
}

/**
 * Hands each row of `text` (no BOM) to `take` as its fields; false at anything irregular, or when
 * `take` refuses a row. Rows are not collected: a 100,000-row table's arrays would all outlive the read.
 */
function eachRow(text: string, take: (fields: string[]) => boolean): boolean {
  // A CR anywhere means CRLF line ends throughout; a lone CR or LF then sends the file to csv-parse.
  const crlf = text.includes('\r');
  const eol = crlf ? 2 : 1;
  const n = text.length;
  const lineEndAt = (k: number): boolean => (crlf ? text.charCodeAt(k) === CR && text.charCodeAt(k + 1) === LF : text.charCodeAt(k) === LF);
  let row: string[] = [];
  let i = 0;
  while (i < n) {
    if (row.length === 0 && lineEndAt(i)) {
      i += eol; // a blank line
      continue;
    }
    if (text.charCodeAt(i) === QUOTE) {
      let quote = text.indexOf('"', i + 1);
      let doubled = false;
      for (; quote >= 0 && text.charCodeAt(quote + 1) === QUOTE; quote = text.indexOf('"', quote + 2)) doubled = true;
      if (quote < 0) return false; // never closed
      // One flat string per field (split/join; replaceAll and += build chains of pieces): a
      // table's prompts live as long as its plan.
      const value = text.slice(i + 1, quote);
      row.push(doubled ? value.split('""').join('"') : value);
      i = quote + 1;
      if (i < n && text.charCodeAt(i) !== COMMA && !lineEndAt(i)) return false; // text after the closing quote
    } else {
      let end = i;
      for (let c = text.charCodeAt(end); end < n && c !== COMMA && c !== LF && c !== CR && c !== QUOTE; c = text.charCodeAt(++end));
      if (end < n && text.charCodeAt(end) !== COMMA && !lineEndAt(end)) return false; // a quote inside the field, or a lone CR or LF
      row.push(text.slice(i, end));
      i = end;
    }
    if (i >= n) break;
    if (text.charCodeAt(i) === COMMA) {
      i += 1;
      if (i === n) row.push(''); // a last field, empty, at the end of the file
      continue;
    }
    i += eol;
    if (!take(row)) return false;
    row = [];
  }
  return row.length === 0 || take(row);
}

/** The header and the records of a well-formed CSV text (BOM removed), or undefined: then csv-parse decides. */
export function readSimpleCsv(text: string): SimpleCsv | undefined {
  let columns: string[] | undefined;
  const records: Record<string, string>[] = [];
  const read = eachRow(text, (fields) => {
    if (!columns) {
      columns = fields;
      // Names csv-parse's record objects would treat oddly, or that readCsv reports: its path.
      return new Set(columns).size === columns.length && !columns.some((name) => name === '' || name === '__proto__');
    }
    if (fields.length !== columns.length) return false;
    const record: Record<string, string> = {};
    for (let k = 0; k < columns.length; k++) record[columns[k] as string] = fields[k] as string;
    records.push(record);
    return true;
  });
  return read && columns ? { columns, records } : undefined;
}
