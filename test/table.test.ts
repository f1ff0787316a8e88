// Reading tables: CSV per RFC 4180 through csv-parse (quotes, embedded commas and line breaks,
// BOM, CRLF), JSON Lines, and every structural problem located at file, line, column and row.
import { describe, expect, it } from 'vitest';
import { formatIssue } from '../src/cli/format-error.js';
import { readTable } from '../src/manifest/table.js';

const csv = (text: string | Uint8Array) => readTable(typeof text === 'string' ? Buffer.from(text) : text, 'data/t.csv', 'csv');
const jsonl = (text: string) => readTable(Buffer.from(text), 'data/t.jsonl', 'jsonl');
const cells = (result: ReturnType<typeof readTable>) => result.table?.rows.map((r) => [r.number, r.cells]);
const shown = (result: ReturnType<typeof readTable>) => result.issues.map(formatIssue).join('\n\n');

describe('CSV', () => {
  it('reads quoted fields with commas, doubled quotes and line breaks, and non-ASCII text', () => {
    const result = csv('image,prompt,name\na.png,"slow pan, then zoom",one\nb.png,"a ""quiet"" morning,\nthen wind",two\nc.png,"café au lait, 東京の夜",three\n');
    expect(result.issues).toEqual([]);
    expect(result.table?.columns).toEqual(['image', 'prompt', 'name']);
    expect(cells(result)).toEqual([
      [1, { image: 'a.png', prompt: 'slow pan, then zoom', name: 'one' }],
      [2, { image: 'b.png', prompt: 'a "quiet" morning,\nthen wind', name: 'two' }],
      [3, { image: 'c.png', prompt: 'café au lait, 東京の夜', name: 'three' }],
    ]);
  });

  it('reads UTF-8 with and without a BOM, CRLF line ends, blank lines and no final newline alike', () => {
    const plain = csv('image,prompt\na.png,hi\nb.png,"x, y"\n');
    const windows = csv('\uFEFFimage,prompt\r\na.png,hi\r\n\r\nb.png,"x, y"');
    expect(windows.issues).toEqual([]);
    expect(windows.table?.columns).toEqual(['image', 'prompt']);
    expect(cells(windows)).toEqual(cells(plain));
  });

  it('locates a cell after multi-line fields, blank lines and CRLF (line and column in characters)', () => {
    const { table } = csv('\uFEFFid,prompt,image\r\n1,"two\r\nlines",a.png\r\n\r\n2,"café, 東京",b.png\r\n');
    const row = table?.rows[1];
    expect(row?.number).toBe(2);
    expect(formatIssue(table!.issue(row!.number, 'does not exist.', { column: 'image' }))).toMatchInlineSnapshot(`
      "data/t.csv:5:14 at \`row 2, column image\`: does not exist.
          2,"café, 東京",b.png
                       ^"
    `);
    expect(table!.issue(row!.number, 'x', { column: 'prompt', field: 'prompt' }).path).toBe('row 2, column prompt');
    expect(table!.issue(1, 'x', { column: 'prompt', field: 'negative_prompt' })).toMatchObject({ line: 2, col: 3, path: 'row 1, column prompt (negative_prompt)' });
  });

  it('lists every row with the wrong number of fields, counting bad rows in the row numbers', () => {
    const result = csv('image,prompt,name\na.png,hi,one\nb.png,slow pan, then zoom,two\nc.png,hi,three\nd.png\n');
    expect(cells(result)?.map(([n]) => n)).toEqual([1, 3]);
    expect(shown(result)).toMatchInlineSnapshot(`
      "data/t.csv:3:1 at \`row 2\`: has 4 fields; the header has 3. Quote fields that contain commas or line breaks: "slow pan, then zoom".
          b.png,slow pan, then zoom,two
          ^

      data/t.csv:5:1 at \`row 4\`: has 1 field; the header has 3. Quote fields that contain commas or line breaks: "slow pan, then zoom".
          d.png
          ^"
    `);
  });

  it('reports a broken quote once, not the echoes after it', () => {
    expect(shown(csv('image,prompt\na.png,"fine"\nb.png,"said "hi" twice"\nc.png,ok\nd.png\n'))).toMatchInlineSnapshot(`
      "data/t.csv:3:1 at \`row 2\`: has text right after the closing quote of a field. Inside a quoted field, write a quote as two quotes (""), e.g. "a ""quoted"" word".
          b.png,"said "hi" twice"
          ^"
    `);
    expect(shown(csv('image,prompt\na.png,"never closed\nb.png,x\n'))).toContain('data/t.csv:2:1 at `row 1`: opens a quoted field that is never closed');
  });

  it('refuses a header with a repeated or empty column name (a pandas index column, say)', () => {
    expect(shown(csv(',image,image\n0,a.png,b.png\n'))).toMatchInlineSnapshot(`
      "data/t.csv:1:1 at \`header, column 1\`: this column has no name. Name it, or write the table without an index column (pandas: to_csv(index=False)).
          ,image,image
          ^

      data/t.csv:1:8 at \`header, column 3\`: the column name \`image\` is used twice; the second would hide the first. Rename one of them.
          ,image,image
                 ^"
    `);
  });

  it('says when a table is empty or has only a header', () => {
    expect(shown(csv(''))).toBe('data/t.csv: the table is empty. A CSV table needs a header row naming its columns, then one row per job.');
    expect(shown(csv('image,prompt\n'))).toMatch(/^data\/t\.csv: the table has a header but no rows\./);
  });

  it('refuses text that is not UTF-8, naming the line', () => {
    const latin1 = Buffer.concat([Buffer.from('image,prompt\na.png,ok\nb.png,caf'), Buffer.from([0xe9]), Buffer.from('\n')]);
    expect(csv(latin1).issues).toEqual([
      { file: 'data/t.csv', line: 3, message: 'the table is not UTF-8 text (this line holds bytes that are not UTF-8).', hint: 'Save it as UTF-8 (in Excel: "CSV UTF-8"; with pandas: encoding="utf-8").' },
    ]);
  });
});

describe('JSON Lines', () => {
  it('reads one object per line, keeps JSON types, skips blank lines and numbers rows by line', () => {
    const result = jsonl('{"image":"a.png","prompt":"hi","duration":10}\n\n   \n{"image":"b.png","tags":["x"],"split":"val"}\r\n');
    expect(result.issues).toEqual([]);
    expect(result.table?.columns).toEqual(['image', 'prompt', 'duration', 'tags', 'split']);
    expect(cells(result)).toEqual([
      [1, { image: 'a.png', prompt: 'hi', duration: 10 }],
      [4, { image: 'b.png', tags: ['x'], split: 'val' }],
    ]);
  });

  it('lists every line that is not a JSON object, at its line and column', () => {
    expect(shown(jsonl('{"image":"a.png"}\n["b.png"]\n{"image": "c.png",}\n"d.png"\n'))).toMatchInlineSnapshot(`
      "data/t.jsonl:2:1 at \`row 2\`: is a list, not a JSON object. Write one JSON object per line, e.g. {"image": "images/a.png", "prompt": "slow push-in"}.
          ["b.png"]
          ^

      data/t.jsonl:3:19 at \`row 3\`: is not valid JSON (Expected double-quoted property name). Write one JSON object per line, e.g. {"image": "images/a.png", "prompt": "slow push-in"}.
          {"image": "c.png",}
                            ^

      data/t.jsonl:4:1 at \`row 4\`: is text, not a JSON object. Write one JSON object per line, e.g. {"image": "images/a.png", "prompt": "slow push-in"}.
          "d.png"
          ^"
    `);
  });

  it('locates a cell at its value', () => {
    const { table } = jsonl('{"image": "a.png", "prompt": "hi"}\n');
    expect(table!.issue(1, 'x', { column: 'prompt' })).toMatchObject({ line: 1, col: 30, path: 'row 1, column prompt' });
  });
});
