// `plan --check`: a report's reproduce block against today's manifest and images.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { planCommand } from '../src/cli/commands/plan.js';
import { loadPlan } from '../src/plan/index.js';
import { planSha256 } from '../src/plan/json.js';
import { buildReport } from '../src/report/build.js';
import { png, runCommand, tempTree, writeTree } from './helpers/manifest.js';

const manifest = (prompt: string) => `version: 1
name: check
matrix: { mode: [std, pro] }
jobs:
  - { image: "*.png", prompt: "${prompt}", model_name: kling-v2-5-turbo }
`;

async function recordRun(dir: string): Promise<string> {
  const { plan, manifestSha256, prices } = await loadPlan('m.yaml', { cwd: dir });
  const report = buildReport({
    plan,
    states: new Map(),
    manifest: { path: '../../m.yaml', sha256: manifestSha256 },
    toolVersion: 't',
    reproduce: {
      tool_version: 't',
      manifest_sha256: manifestSha256,
      plan_sha256: planSha256(plan),
      id_salt: plan.id_salt,
      prices,
      limits: { concurrency: 5, rpm: 30, budget_usd: null, task_timeout_min: 60, poll_interval_s: null, download_concurrency: 4 },
      command: ['run', 'm.yaml'],
    },
  });
  mkdirSync(join(dir, 'output/check'), { recursive: true });
  writeFileSync(join(dir, 'output/check/report.json'), JSON.stringify(report));
  return 'output/check/report.json';
}

describe('plan --check', () => {
  it('says the plan is the same when nothing that is sent changed', async () => {
    const dir = tempTree({ 'm.yaml': manifest('push in'), 'a.png': png(1), 'b.png': png(2) });
    const reportPath = await recordRun(dir);
    writeTree(dir, { 'm.yaml': `# a comment changes no job\n${manifest('push in')}` });
    const result = await runCommand(planCommand, { values: { check: reportPath }, positionals: [] }, dir);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Same plan');
    expect(result.stdout).toContain('the manifest file changed');
  });

  it('lists each changed job with the field that changed, and new image content', async () => {
    const dir = tempTree({ 'm.yaml': manifest('push in'), 'a.png': png(1), 'b.png': png(2) });
    const reportPath = await recordRun(dir);
    writeTree(dir, { 'm.yaml': manifest('pull out'), 'b.png': png(3) });
    const result = await runCommand(planCommand, { values: { check: reportPath }, positionals: [] }, dir);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('4 changed, 0 removed, 0 added');
    expect(result.stdout).toContain('prompt: "push in" → "pull out"');
    expect(result.stdout).toMatch(/image: b\.png has new content; prompt/);
  });

  it('reports added and removed jobs', async () => {
    const dir = tempTree({ 'm.yaml': manifest('push in'), 'a.png': png(1), 'b.png': png(2) });
    const reportPath = await recordRun(dir);
    writeTree(dir, { 'm.yaml': manifest('push in').replace('[std, pro]', '[pro]') });
    const result = await runCommand(planCommand, { values: { check: reportPath }, positionals: [] }, dir);
    expect(result.stdout).toContain('0 changed, 2 removed, 0 added');
  });

  it('refuses a file that is not a report, naming it', async () => {
    const dir = tempTree({ 'm.yaml': manifest('x'), 'a.png': png(1), 'r.json': '{"hello": 1}' });
    const result = await runCommand(planCommand, { values: { check: 'r.json' }, positionals: [] }, dir);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/r\.json is not a klingrun report/);
  });
});
