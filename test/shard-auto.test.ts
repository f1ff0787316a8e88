// `--shard auto`: the slice from a Kubernetes Indexed Job or a GitHub Actions matrix, so one Job or
// workflow definition serves every machine, and each copy says which slice it took and why.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveShard } from '../src/cli/shard-auto.js';
import { runInProcess } from './helpers/bad-input.js';
import { png, tempTree } from './helpers/manifest.js';

describe('--shard auto', () => {
  it('takes a Kubernetes Indexed Job’s 0-based completion index, with the count it is given', () => {
    expect(resolveShard('auto', { JOB_COMPLETION_INDEX: '0', KLINGRUN_SHARD_COUNT: '4' })).toEqual({
      shard: { index: 1, count: 4 },
      source: 'a Kubernetes Indexed Job (JOB_COMPLETION_INDEX=0, KLINGRUN_SHARD_COUNT=4)',
    });
    expect(resolveShard('auto', { JOB_COMPLETION_INDEX: '3', KLINGRUN_SHARD_COUNT: '4' }).shard).toEqual({ index: 4, count: 4 });
  });

  it('takes a GitHub Actions matrix job’s strategy.job-index and job-total, passed on by the workflow', () => {
    expect(resolveShard('auto', { GITHUB_ACTIONS: 'true', KLINGRUN_SHARD_INDEX: '2', KLINGRUN_SHARD_COUNT: '3' })).toEqual({
      shard: { index: 3, count: 3 },
      source: 'a GitHub Actions matrix (KLINGRUN_SHARD_INDEX=2, KLINGRUN_SHARD_COUNT=3)',
    });
  });

  it('leaves an explicit i/n as it is', () => {
    expect(resolveShard('2/4', { JOB_COMPLETION_INDEX: '0', KLINGRUN_SHARD_COUNT: '9' })).toEqual({ shard: { index: 2, count: 4 } });
  });

  it.each([
    [{}, /found neither JOB_COMPLETION_INDEX nor KLINGRUN_SHARD_INDEX/],
    [{ JOB_COMPLETION_INDEX: '1' }, /JOB_COMPLETION_INDEX is set but KLINGRUN_SHARD_COUNT is ``, expected the number of slices.*set it to the Job's completions/],
    [{ JOB_COMPLETION_INDEX: '4', KLINGRUN_SHARD_COUNT: '4' }, /JOB_COMPLETION_INDEX is `4`, expected a whole number from 0 to 3/],
    [{ KLINGRUN_SHARD_INDEX: 'one', KLINGRUN_SHARD_COUNT: '4' }, /KLINGRUN_SHARD_INDEX is `one`/],
  ])('says what is missing and how to set it: %j', (env, message) => {
    expect(() => resolveShard('auto', env)).toThrow(message);
  });

  it('runs the slice and says where it came from, before anything is submitted', async () => {
    const images = Object.fromEntries([1, 2, 3, 4, 5, 6].map((n) => [`img${n}.png`, png(n)]));
    const dir = tempTree({ 'm.yaml': 'version: 1\nname: auto-shard\nid_salt: shard-auto-test\ndefaults: { model_name: kling-v2-6, mode: std, duration: 5 }\njobs:\n  - image: "img*.png"\n    prompt: a slow pan\n', ...images });
    const result = await runInProcess(['run', 'm.yaml', '--emulator', '--yes', '--shard', 'auto'], dir, { JOB_COMPLETION_INDEX: '1', KLINGRUN_SHARD_COUNT: '3' });
    expect(result.stderr).toContain('Shard 2/3, from a Kubernetes Indexed Job (JOB_COMPLETION_INDEX=1, KLINGRUN_SHARD_COUNT=3).');
    expect(result.code).toBe(0);
    const report = JSON.parse(readFileSync(join(dir, 'output', 'auto-shard', 'report.json'), 'utf8')) as { jobs: { status: string }[] };
    expect(report.jobs.filter((job) => job.status === 'succeeded')).toHaveLength(2);
  });
});
