// The fast CSV reader (manifest/table-csv.ts) must read every table it accepts exactly as
// csv-parse does, and hand everything else to csv-parse: thousands of generated tables, clean and
// damaged, are put to both.
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../src/effects.js';
import { readSimpleCsv } from '../src/manifest/table-csv.js';

/** What csv-parse makes of the text with readCsv's options, or undefined when it refuses it. */
function csvParse(text: string): { columns: string[]; records: Record<string, string>[] } | undefined {
  try {
    const options = { bom: true, relax_column_count: false, skip_empty_lines: true } as const;
    const rows = parse(text, options) as string[][];
    const records = parse(text, { ...options, columns: true }) as Record<string, string>[];
    return { columns: rows[0] ?? [], records };
  } catch {
    return undefined;
  }
}

const PIECES = ['a', 'image.png', ' ', 'é', '東京', ',', '"', '""', '\n', '\r\n', '\r', 'x y'];

describe('readSimpleCsv', () => {
  it('reads clean tables as csv-parse does: quotes, commas and line breaks in fields, CRLF, BOM, blank lines', () => {
    const tables = [
      'image,prompt,name\na.png,"slow pan, then zoom",one\nb.png,"a ""quiet"" morning,\nthen wind",two\n',
      '\uFEFFid,prompt,image\r\n1,"two\r\nlines",a.png\r\n\r\n2,"café, 東京",b.png\r\n',
      'a,b\n\n\n1,\n,2\n"",""',
      'only\nx\n" spaced "\n',
    ];
    for (const text of tables) {
      const fast = readSimpleCsv(text.replace(/^\uFEFF/, ''));
      expect(fast, JSON.stringify(text)).toBeDefined();
      expect(fast).toEqual(csvParse(text));
    }
  });

  it('never reads a table differently from csv-parse: it agrees, or leaves the table to csv-parse', () => {
    const random = seededRandom(7);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
    let agreed = 0;
    let declined = 0;
    for (let n = 0; n < 3_000; n++) {
      const eol = pick(['\n', '\r\n']);
      const width = 1 + Math.floor(random() * 3);
      const cell = (): string => {
        const text = Array.from({ length: Math.floor(random() * 4) }, () => pick(PIECES)).join('');
        // Mostly well formed (quoted when it must be), sometimes raw, damage and all.
        return random() < 0.8 ? (/[",\r\n]/.test(text) || random() < 0.2 ? `"${text.replaceAll('"', '""')}"` : text) : text;
      };
      const lines = [Array.from({ length: width }, (_, k) => `c${k}`).join(',')];
      for (let r = Math.floor(random() * 5); r > 0; r--) lines.push(random() < 0.1 ? '' : Array.from({ length: random() < 0.9 ? width : width + 1 }, cell).join(','));
      const text = lines.join(eol) + (random() < 0.7 ? eol : '');
      const fast = readSimpleCsv(text);
      if (fast === undefined) {
        declined += 1;
        continue;
      }
      agreed += 1;
      expect(fast, JSON.stringify(text)).toEqual(csvParse(text));
    }
    expect(agreed).toBeGreaterThan(1_000);
    expect(declined).toBeGreaterThan(200);
  });
});
