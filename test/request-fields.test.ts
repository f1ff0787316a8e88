// The field registry (src/request/fields.ts, issue 19): every list of request fields derives from
// it, so a field Kling adds is one registry entry and a model-table key; Kling's 2026 controls go
// from a manifest (or a table row, or a matrix) to the plan and the body sent, only when set.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createTaskBodySchema } from '../src/api/schemas.js';
import { FEATURES, modelCapabilitySchema } from '../src/data/tables.js';
import { REQUEST_FIELDS, TABLE_FIELDS, scalarFields } from '../src/manifest/schema.js';
import { jobRequestSchema } from '../src/plan/schema.js';
import { VARIANT_FIELDS } from '../src/plan/variants.js';
import { AXIS_FIELDS, FIELD_NAMES, FIELDS, fieldText, fieldsOfFeature } from '../src/request/fields.js';
import { buildReport } from '../src/report/build.js';
import { BASE_COLUMNS, columnsOf, exportRows } from '../src/report/export.js';
import { BodyBuilder } from '../src/runner/request-body.js';
import { compileFastCheck } from '../src/state/fast-check.js';
import { ROOT } from './helpers/cli.js';
import { planErrorsIn, planIn } from './helpers/manifest.js';

describe('the field registry', () => {
  it('is the one list every other list of request fields comes from, in the plan key order of today', () => {
    expect(FIELD_NAMES.slice(0, 12)).toEqual(['model_name', 'mode', 'duration', 'prompt', 'negative_prompt', 'cfg_scale', 'sound', 'callback_url', 'image', 'image_tail', 'static_mask', 'dynamic_masks']);
    expect(jobRequestSchema.options.map((shape) => Object.keys(shape.shape))).toEqual([FIELD_NAMES, FIELD_NAMES]);
    expect(Object.keys(createTaskBodySchema.shape)).toEqual([...FIELD_NAMES, 'external_task_id']);
    expect(REQUEST_FIELDS).toEqual(FIELD_NAMES.filter((f) => f !== 'image'));
    expect(TABLE_FIELDS).toEqual(['image', ...REQUEST_FIELDS, 'name']);
    expect(Object.keys(scalarFields)).toEqual(AXIS_FIELDS);
    expect(VARIANT_FIELDS).toEqual(AXIS_FIELDS);
    expect(AXIS_FIELDS).toEqual(expect.arrayContaining(['camera_control', 'multi_prompt', 'multi_shot', 'shot_type', 'element_list', 'voice_list', 'watermark_info']));
  });

  it('names a model-table feature for every field that does not work everywhere, and every feature is a row key', () => {
    const rowKeys = Object.keys(modelCapabilitySchema.shape);
    for (const feature of FEATURES) expect(rowKeys).toContain(feature);
    expect(fieldsOfFeature('multi_shot')).toEqual(['multi_shot', 'shot_type', 'multi_prompt']);
    expect(fieldsOfFeature('masks')).toEqual(['static_mask', 'dynamic_masks']);
    expect(FIELD_NAMES.filter((f) => FIELDS[f].source === 'Kling')).toEqual(['camera_control', 'multi_shot', 'shot_type', 'multi_prompt', 'element_list', 'voice_list', 'watermark_info']);
  });

  it('is documented: docs/request-fields.md has a section per field and the JSON Schema offers every field', () => {
    const doc = readFileSync(join(ROOT, 'docs/request-fields.md'), 'utf8');
    const schema = JSON.parse(readFileSync(join(ROOT, 'schemas/manifest.schema.json'), 'utf8')) as { properties: { defaults: { properties: Record<string, unknown> } } };
    for (const field of REQUEST_FIELDS) {
      expect(doc, field).toContain(`\`${field}\``);
      expect(Object.keys(schema.properties.defaults.properties)).toContain(field);
    }
  });

  it("keeps the plan's request compilable for the journal's fast replay check, new fields included", () => {
    const check = compileFastCheck(jobRequestSchema);
    expect(check).toBeDefined();
    const request = {
      model_name: 'kling-v3', image: { kind: 'url', url: 'https://e.com/a.png' }, camera_control: { type: 'simple', config: { zoom: 5 } },
      multi_shot: true, shot_type: 'customize', multi_prompt: [{ index: 1, prompt: 'a', duration: '5' }], element_list: [{ element_id: 7 }], voice_list: [{ voice_id: 'v' }], watermark_info: { enabled: true },
    };
    expect(check?.(request)).toBe(true);
    expect(check?.({ ...request, camera_control: { type: 'orbit' } })).toBe(false);
  });

  it('writes structured values in one short line for labels and the gallery', () => {
    expect(fieldText('camera_control', { type: 'simple', config: { zoom: 5, pan: 0 } })).toBe('simple zoom 5');
    expect(fieldText('camera_control', { type: 'down_back' })).toBe('down_back');
    expect(fieldText('multi_prompt', [{ index: 1, prompt: 'a', duration: '2' }, { index: 2, prompt: 'b', duration: '3' }])).toBe('2 shots (2+3 s)');
    expect(fieldText('voice_list', [{ voice_id: 'a' }, { voice_id: 'b' }])).toBe('a, b');
    expect(fieldText('watermark_info', { enabled: false })).toBe('off');
  });
});

describe("Kling's controls from manifest to wire", () => {
  it('plans them from defaults, a table row and the matrix, and sends them exactly as planned, only when set', async () => {
    const { plan, manifestDir } = await planIn(
      `version: 1
name: t
defaults: { model_name: kling-v3, watermark_info: { enabled: true } }
jobs:
  - image: a.png
    matrix:
      element_list: [[{ element_id: 7 }], [{ element_id: 7 }, { element_id: el-2 }]]
  - { from: rows.csv, model_name: kling-v1, matrix: {} }
  - { image: b.png, matrix: {} }
`,
      { 'a.png': readFileSync(join(ROOT, 'jobs/images/harbor.png')), 'b.png': readFileSync(join(ROOT, 'jobs/images/harbor.png')), 'rows.csv': 'image,camera_control\na.png,"{""type"": ""simple"", ""config"": {""roll"": -3}}"\n' },
    );
    expect(plan.jobs.map((job) => job.request.element_list ?? job.request.camera_control ?? null)).toEqual([
      [{ element_id: 7 }],
      [{ element_id: 7 }, { element_id: 'el-2' }],
      { type: 'simple', config: { roll: -3 } },
      null,
    ]);
    const builder = new BodyBuilder(manifestDir);
    const bodies = await Promise.all(plan.jobs.map((job) => builder.build(job.request, job.external_task_id)));
    expect(bodies[1]).toMatchObject({ model_name: 'kling-v3', watermark_info: { enabled: true }, element_list: [{ element_id: 7 }, { element_id: 'el-2' }] });
    expect(bodies[2]).toMatchObject({ model_name: 'kling-v1', camera_control: { type: 'simple', config: { roll: -3 } } });
    expect(Object.keys(bodies[3] ?? {}).sort()).toEqual(['duration', 'external_task_id', 'image', 'mode', 'model_name', 'watermark_info']);
    for (const body of bodies) expect(createTaskBodySchema.safeParse(body).success).toBe(true);
  });

  it('exports a Kling field as a column only when a job sets it, after the columns of today', async () => {
    const { plan } = await planIn('version: 1\nname: t\njobs:\n  - { image: a.png, model_name: kling-v1, matrix: { camera_control: [{ type: down_back }, { type: simple, config: { zoom: 5 } }] } }\n');
    const report = buildReport({ plan, states: new Map(), manifest: { path: '../../m.yaml', sha256: 'm' }, toolVersion: 't' });
    const rows = exportRows(report);
    expect(rows.map((row) => row['camera_control'])).toEqual(['{"type":"down_back"}', '{"type":"simple","config":{"zoom":5}}']);
    expect(columnsOf(rows).slice(0, BASE_COLUMNS.length)).toEqual([...BASE_COLUMNS]);
    expect(columnsOf(rows)).toContain('camera_control');
    const { plan: plain } = await planIn('version: 1\nname: t\njobs:\n  - { image: a.png }\n');
    expect(columnsOf(exportRows(buildReport({ plan: plain, states: new Map(), manifest: { path: '../../m.yaml', sha256: 'm' }, toolVersion: 't' })))).toEqual([...BASE_COLUMNS]);
  });

  it('refuses a shape that is wrong where it is written, before any model rule', async () => {
    const out = await planErrorsIn('version: 1\nname: t\njobs:\n  - { image: a.png, model_name: kling-v3, element_list: [{ element_id: 1 }, { element_id: 2 }, { element_id: 3 }, { element_id: 4 }] }\n');
    expect(out).toContain('at `jobs[0].element_list`: has 4 entries; at most 3 are allowed.');
  });
});
