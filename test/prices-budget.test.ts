// Real prices end to end: the shipped examples are priced job for job, so `npm start`'s plan has
// no "unknown" and a --budget run works; a job the price table does not list is still refused
// under --budget, naming its model and the table.
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runInProcess } from './helpers/bad-input.js';
import { ROOT } from './helpers/cli.js';
import { png, tempTree } from './helpers/manifest.js';

/** A temp copy of the shipped jobs/ folder (manifests, images, tables). */
function shippedJobs(): string {
  const dir = tempTree();
  cpSync(join(ROOT, 'jobs'), join(dir, 'jobs'), { recursive: true });
  return dir;
}

describe('prices of the shipped examples', () => {
  it.each(['example', 'sweep', 'dataset', 'dataset-table'])('jobs/%s.yaml: every job has a price', async (name) => {
    const result = await runInProcess(['plan', `jobs/${name}.yaml`], shippedJobs());
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).not.toContain('unknown');
    expect(result.stdout).toMatch(/^total\s+\d+\s+\d+\.\d\d$/m);
  });

  it('npm start with a --budget runs the demo under it', async () => {
    const dir = shippedJobs();
    const result = await runInProcess(['run', 'jobs/example.yaml', '--emulator', '--yes', '--budget', '3'], dir);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('budget $3.00');
    expect(result.stdout).toContain('8 succeeded');
    expect(result.stdout).not.toContain('unknown');
  });
});

describe('--budget with a job the price table does not list', () => {
  it('refuses, naming the unpriced models and the table', async () => {
    const dir = tempTree({ 'm.yaml': 'version: 1\nname: old\njobs:\n  - { image: a.png, repeat: 2 }\n  - { image: a.png, model_name: kling-v2-5-turbo }\n', 'a.png': png(1) });
    const result = await runInProcess(['run', 'm.yaml', '--emulator', '--yes', '--budget', '5'], dir);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      'error: --budget needs a price for every job, but 2 job(s) have no row in the price table src/data/prices.yaml: kling-v1 std (2 jobs). Use a model the table prices, add rows to a copy of it passed with --prices <file> (see docs/models-and-prices.md), or drop --budget.\n',
    );
  });
});
