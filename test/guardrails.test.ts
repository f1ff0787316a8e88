// Guardrails for the request-field registry (issue 19): the shipped example manifests and a
// fixture that sets every request field of today plan to exactly the same job ids, external ids,
// `plan --json` bytes and plan_sha256 as before the registry. A field left unset must stay out of
// requests, plans and identities, so adding fields can never move an existing job's id.
// One deliberate change since the pins were taken: `sound` left out is priced as Kling's default,
// off (issue 19), so the kling-v2-6 pro jobs of example.yaml and the fixture's cost_usd (not their
// ids) moved from the sound-on to the silent rate; with the old pricing the registry kept all five.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { planCommand } from '../src/cli/commands/plan.js';
import { loadPlan } from '../src/plan/index.js';
import { planSha256 } from '../src/plan/json.js';
import { ROOT } from './helpers/cli.js';
import { png, runCommand, tempTree } from './helpers/manifest.js';

const sha = (text: string) => createHash('sha256').update(text).digest('hex');

/** Every request field of today, the zip's null, a table row and a repeat, on deterministic images. */
const EVERY_FIELD = `version: 1
name: every-field
id_salt: pinned
defaults: { negative_prompt: blur, callback_url: "https://example.com/hook" }
matrix:
  zip: { sound: ["on", null], prompt: [waves, null] }
jobs:
  - { image: a.png, model_name: kling-v2-6, mode: pro, duration: 10, repeat: 2 }
  - { image: a.png, model_name: kling-v1, mode: std, duration: 5, cfg_scale: 0.4, image_tail: b.png, matrix: {} }
  - { image: a.png, model_name: kling-v1-5, mode: pro, duration: 5, static_mask: b.png, matrix: {},
      dynamic_masks: [{ mask: b.png, trajectories: [{ x: 1, y: 2 }, { x: 3, y: 4 }] }] }
  - { from: rows.csv, model_name: kling-v3, matrix: { mode: [std, pro] } }
`;
const ROWS = 'image,prompt,sound,cfg_scale,label\na.png,row one,off,,x\nb.png,"row, two",on,,y\n';

async function pins(path: string, cwd: string) {
  const { plan } = await loadPlan(path, { cwd });
  const printed = await runCommand(planCommand, { values: { json: true }, positionals: [path] }, cwd);
  expect(printed.code).toBe(0);
  return {
    jobs: plan.jobs.length,
    ids: sha(plan.jobs.map((job) => `${job.id} ${job.external_task_id}`).join('\n')),
    first: plan.jobs[0]?.external_task_id,
    plan_json_sha256: sha(printed.stdout),
    plan_sha256: planSha256(plan),
  };
}

describe('guardrails: plans of today stay byte for byte', () => {
  it.each([
    ['jobs/example.yaml', { jobs: 8, ids: 'abcf668236cdc6c3a224b4ef109f14da18d5651b756f6cffb91593013cda9238', first: 'kr-25582d7d0334c6a49a808ca9', plan_json_sha256: 'c5571d1ac73112062749f0dc419d5fd480fbba862866061036e6e720580930d4', plan_sha256: 'c5571d1ac73112062749f0dc419d5fd480fbba862866061036e6e720580930d4' }],
    ['jobs/sweep.yaml', { jobs: 7, ids: '7939e785f1771ad1399c52a3f7b427e713f408ab7cab3ab805ff0fe393f86fdf', first: 'kr-a87ecd96a6686468ecfef97c', plan_json_sha256: '8c933a86676320694423d68ad02dc72950176b4d2c7c541e57408b885f323ee5', plan_sha256: '8c933a86676320694423d68ad02dc72950176b4d2c7c541e57408b885f323ee5' }],
    ['jobs/dataset.yaml', { jobs: 6, ids: '663ad8c790f0fad4a2054cb8493358382d8e08ba70b90acacec7d0473e3d4f62', first: 'kr-644d54d885713bd0f4144760', plan_json_sha256: '1561ee5aa8dbdb721cfc8fc7ca5fcfcd01c36bec1f40b1d155c89653e950257d', plan_sha256: '1561ee5aa8dbdb721cfc8fc7ca5fcfcd01c36bec1f40b1d155c89653e950257d' }],
    // Kling's controls (issue 19), pinned from their first version on.
    ['jobs/sweep-camera.yaml', { jobs: 7, ids: 'b95541e78536ff63f2b5fe257f6a4669969e02704ac80c4b0df0feba166aa340', first: 'kr-7e72645737fd4b48d0a9ee60', plan_json_sha256: '34f3dd41e50aacdd1ed853c1d4512d14d5e0c834c6ff59c857cd41782c5367bf', plan_sha256: '34f3dd41e50aacdd1ed853c1d4512d14d5e0c834c6ff59c857cd41782c5367bf' }],
    ['jobs/dataset-table.yaml', { jobs: 5, ids: '421c18d2d8c698824144cbd6005a374b7079dff176a9a72764ceb9277a9bf44a', first: 'kr-e7640ab4582ac96d8d44696b', plan_json_sha256: '19bae8e4e419cdfdafa3188197e6ce1d97a9a4efabd8dfd1dfb8255ae56083a0', plan_sha256: '19bae8e4e419cdfdafa3188197e6ce1d97a9a4efabd8dfd1dfb8255ae56083a0' }],
  ])('%s keeps its job ids, external ids and plan bytes', async (path, expected) => {
    expect(await pins(path, ROOT)).toEqual(expected);
  });

  it('a manifest setting every request field of today keeps its job ids, external ids and plan bytes', async () => {
    const dir = tempTree({ 'm.yaml': EVERY_FIELD, 'rows.csv': ROWS, 'a.png': png(1), 'b.png': png(2) });
    expect(await pins('m.yaml', dir)).toEqual({
      jobs: 10,
      ids: 'ea27cf0d59a6fc0ff4d71e4fc8aca480e915db9df241014cbdb693d1ce0f76b7',
      first: 'kr-1237c1dde139de385a310d62',
      plan_json_sha256: 'ec9dc91963c9782fb96bc62f637a6b7c607baf5a7e39becba74e81d3f9a58d7c',
      plan_sha256: 'ec9dc91963c9782fb96bc62f637a6b7c607baf5a7e39becba74e81d3f9a58d7c',
    });
  });
});
