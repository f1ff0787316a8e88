// CSV injection: a spreadsheet runs a cell that starts with = + - @, a tab or a carriage return as
// a formula, and prompts and a table's carried columns are text anyone may have written. The CSV
// export neutralises such text cells with a leading ' (OWASP) unless --csv-raw; numbers the export
// writes itself are never changed; JSON Lines is always exact.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { csvField, toCsv } from '../src/report/export.js';
import { runInProcess } from './helpers/bad-input.js';
import { tempTree } from './helpers/manifest.js';
import { ROOT, examplePlan, folderWithImages } from './helpers/reports.js';

describe('a CSV cell', () => {
  it.each([
    ['=1+1', "'=1+1"],
    ['+1', "'+1"],
    ['-cut to black', "'-cut to black"],
    ['@SUM(A1:A9)', "'@SUM(A1:A9)"],
    ['\tx', "'\tx"],
    // A carriage return makes the field quoted (RFC 4180), the quote goes inside.
    ['\r=x', `"'\r=x"`],
    // A formula with a comma: the quote inside the RFC 4180 quotes.
    ['=HYPERLINK("http://x.test","y")', `"'=HYPERLINK(""http://x.test"",""y"")"`],
  ])('of text %j is written %j by default, exactly with raw', (text, escaped) => {
    expect(csvField(text)).toBe(escaped);
    expect(csvField(text, { raw: true })).toBe(/[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text);
  });

  it('is left alone when it only holds those characters further in, or is a number or a boolean', () => {
    expect(csvField('a=1+1')).toBe('a=1+1');
    expect(csvField(' =1')).toBe(' =1');
    expect(csvField(-1.5)).toBe('-1.5');
    expect(csvField(false)).toBe('false');
    // The same characters as text and as a number: only the text gets the quote.
    expect(toCsv([{ n: -1.5, s: '-1.5' }], ['n', 's'])).toBe("n,s\r\n-1.5,'-1.5\r\n");
  });
});

/** An output folder of the example (its source images found) whose first job's prompt is a formula and whose table row carried some. */
async function folderWithFormulas(): Promise<string> {
  const plan = await examplePlan();
  const jobs = plan.jobs.map((job, i) => (i === 0 ? { ...job, request: { ...job.request, prompt: '=1+1' }, extra: { caption: '@cmd', score: '-2' } } : job));
  return folderWithImages({ ...plan, jobs }, ['succeeded']).dir;
}

/** RFC 4180 read back: the rows as header name -> field text. */
function csvRows(text: string): Record<string, string>[] {
  const lines: string[][] = [];
  let line: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (quoted) {
      if (c !== '"') field += c;
      else if (text[i + 1] === '"') field += text[++i];
      else quoted = false;
    } else if (c === '"') {
      quoted = true;
    } else if (c === ',' || (c === '\r' && text[i + 1] === '\n')) {
      line.push(field);
      field = '';
      if (c === '\r') {
        lines.push(line);
        line = [];
        i++;
      }
    } else {
      field += c;
    }
  }
  const [names = [], ...rows] = lines;
  return rows.map((row) => Object.fromEntries(row.map((value, i) => [names[i], value])));
}

describe('klingrun export', () => {
  it('--format csv: a prompt "=1+1" is written "\'=1+1", and carried columns likewise', async () => {
    const dir = await folderWithFormulas();
    const result = await runInProcess(['export', dir, '--format', 'csv', '--status', 'succeeded'], ROOT);
    expect(result.code, result.stderr).toBe(0);
    const [row] = csvRows(result.stdout);
    expect(row).toMatchObject({ prompt: "'=1+1", caption: "'@cmd", score: "'-2", status: 'succeeded', duration: '5' });
  });

  it('--csv-raw writes the cells exactly', async () => {
    const dir = await folderWithFormulas();
    const result = await runInProcess(['export', dir, '--format', 'csv', '--status', 'succeeded', '--csv-raw'], ROOT);
    expect(result.code, result.stderr).toBe(0);
    expect(csvRows(result.stdout)[0]).toMatchObject({ prompt: '=1+1', caption: '@cmd', score: '-2' });
  });

  it('JSON Lines keeps every value exactly, and --csv-raw with it is refused as meaningless', async () => {
    const dir = await folderWithFormulas();
    const result = await runInProcess(['export', dir, '--status', 'succeeded'], ROOT);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout.trim())).toMatchObject({ prompt: '=1+1', caption: '@cmd', score: '-2' });
    const raw = await runInProcess(['export', dir, '--csv-raw'], ROOT);
    expect(raw.code).toBe(2);
    expect(raw.stderr).toBe('error: `--csv-raw` applies to `--format csv` only: JSON Lines always keeps every value exactly. Drop `--csv-raw`, or add `--format csv`.\n');
  });

  it('--copy-to with CSV: metadata.csv is neutralised the same way', async () => {
    const dir = await folderWithFormulas();
    const dest = join(tempTree(), 'dataset');
    const result = await runInProcess(['export', dir, '--format', 'csv', '--copy-to', dest], ROOT);
    expect(result.code, result.stderr).toBe(0);
    expect(csvRows(readFileSync(join(dest, 'metadata.csv'), 'utf8'))[0]).toMatchObject({ prompt: "'=1+1", caption: "'@cmd" });
  });
});
