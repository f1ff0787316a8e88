// The published JSON Schemas are generated from the zod schemas; this fails when a file is stale
// (run `npm run schemas`) and checks that editors would accept the shipped examples.
import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { renderSchema, SCHEMAS } from '../scripts/generate-schemas.js';
import { loadModelTable } from '../src/data/tables.js';

const read = (file: string) => readFileSync(new URL(`../${file}`, import.meta.url), 'utf8');
const EXAMPLES = ['jobs/example.yaml', 'jobs/sweep.yaml', 'jobs/dataset.yaml', 'jobs/dataset-table.yaml'];

describe('generated JSON Schemas', () => {
  it.each(SCHEMAS.map((s) => [s.file, s] as const))('%s is up to date (else run `npm run schemas`)', (file, entry) => {
    expect(read(file)).toBe(renderSchema(entry));
  });

  it('accepts the shipped examples, which point editors at it on their first line', () => {
    const validate = new Ajv2020({ strict: false, allErrors: true }).compile(JSON.parse(read('schemas/manifest.schema.json')));
    for (const file of EXAMPLES) {
      const text = read(file);
      expect(text.split('\n')[0]).toBe('# yaml-language-server: $schema=../schemas/manifest.schema.json');
      expect(validate(parse(text)), `${file}: ${JSON.stringify(validate.errors)}`).toBe(true);
    }
  });

  it('rejects what the manifest schema rejects: unknown keys, bad values, durations that are not whole seconds', () => {
    const validate = new Ajv2020({ strict: false }).compile(JSON.parse(read('schemas/manifest.schema.json')));
    const ok = { version: 1, name: 'x', jobs: [{ image: 'a.png', duration: 5 }] };
    expect(validate(ok)).toBe(true);
    expect(validate({ ...ok, jobs: [{ image: 'a.png', modle_name: 'kling-v1' }] })).toBe(false);
    expect(validate({ ...ok, jobs: [{ image: 'a.png', sound: 'loud' }] })).toBe(false);
    expect(validate({ ...ok, jobs: [{ image: 'a.png', mode: 4 }] })).toBe(false);
    expect(validate({ ...ok, jobs: [{ image: 'a.png', duration: 7.5 }] })).toBe(false);
    expect(validate({ ...ok, jobs: [{ image: 'a.png', duration: 'ten' }] })).toBe(false);
    // A job entry takes `image` or `from`, exactly one; `columns` and `where` only with `from`.
    expect(validate({ ...ok, jobs: [{ from: 'data/t.csv', columns: { prompt: 'caption' }, where: { split: 'train' } }] })).toBe(true);
    expect(validate({ ...ok, jobs: [{ image: 'a.png', from: 'data/t.csv' }] })).toBe(false);
    expect(validate({ ...ok, jobs: [{ prompt: 'no images' }] })).toBe(false);
    expect(validate({ ...ok, jobs: [{ image: 'a.png', where: { split: 'train' } }] })).toBe(false);
    expect(validate({ ...ok, matrix: { zip: { model_name: ['kling-v2-6', 'kling-v2-1-master'], mode: ['pro', null] } } })).toBe(true);
  });

  it('suggests the shipped model table\'s models, modes and durations without refusing others (a --models table may add some)', () => {
    const schema = JSON.parse(read('schemas/manifest.schema.json'));
    const defaults = schema.properties.defaults.properties;
    const { models } = loadModelTable();
    expect(defaults.model_name.anyOf[0]).toEqual({ enum: Object.keys(models) });
    expect(defaults.mode.anyOf[0]).toEqual({ enum: ['std', 'pro'] });
    expect(defaults.duration.anyOf[0]).toEqual({ enum: [5, 10] });
    const validate = new Ajv2020({ strict: false }).compile(schema);
    const job = { image: 'a.png', model_name: 'kling-v4', mode: '4k', duration: '15' };
    expect(validate({ version: 1, name: 'x', jobs: [job], matrix: { duration: [3, 15], mode: ['4k'] } }), JSON.stringify(validate.errors)).toBe(true);
  });
});

describe('report schema', () => {
  it('accepts a report the runner wrote', async () => {
    const { buildReport } = await import('../src/report/build.js');
    const { makePlan } = await import('./helpers/runner-harness.js');
    const plan = makePlan(2);
    const report = buildReport({ plan, states: new Map(), manifest: { path: 'm.yaml', sha256: 'x' }, toolVersion: 't' });
    const validate = new Ajv2020({ strict: false, allErrors: true }).compile(JSON.parse(read('schemas/report.schema.json')));
    expect(validate(JSON.parse(JSON.stringify(report))), JSON.stringify(validate.errors)).toBe(true);
    expect(validate({ ...report, totals: { ...report.totals, jobs: 'two' } })).toBe(false);
  });
});
