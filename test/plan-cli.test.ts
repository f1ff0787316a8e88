// `klingrun validate` and `klingrun plan` as a user sees them: exit codes, summaries, the cost
// table, and `--json` output that is the same bytes from any working folder.
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { planCommand } from '../src/cli/commands/plan.js';
import { validateCommand } from '../src/cli/commands/validate.js';
import { planSchema } from '../src/plan/schema.js';
import { png, runCommand, tempTree } from './helpers/manifest.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const EXAMPLES = ['jobs/example.yaml', 'jobs/sweep.yaml', 'jobs/dataset.yaml'];

describe('klingrun validate', () => {
  it('accepts every shipped example with a one-line summary each', async () => {
    const result = await runCommand(validateCommand, { positionals: EXAMPLES }, ROOT);
    expect(result).toEqual({
      code: 0,
      stdout:
        'jobs/example.yaml: valid, 8 jobs from 2 entries (2 images, 4 variants)\n' +
        'jobs/sweep.yaml: valid, 7 jobs from 1 entry (1 image, 7 variants)\n' +
        'jobs/dataset.yaml: valid, 6 jobs from 1 entry (2 images, 1 variant)\n',
      stderr: '',
    });
  });

  it('exits 2 with the errors of each bad manifest, still validating the others', async () => {
    const dir = tempTree({ 'good.yaml': 'version: 1\nname: g\njobs:\n  - image: a.png\n', 'a.png': png(1), 'bad.yaml': 'version: 1\nname: b\njobs:\n  - image: a.png\n    modle_name: kling-v1\n' });
    const result = await runCommand(validateCommand, { positionals: ['bad.yaml', 'good.yaml', 'nope.yaml'] }, dir);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('good.yaml: valid, 1 job from 1 entry (1 image, 1 variant)\n');
    expect(result.stderr).toContain('error: bad.yaml:5:5 at `jobs[0].modle_name`: unknown key `modle_name`. Did you mean `model_name`?');
    expect(result.stderr).toContain('error: Cannot read the manifest nope.yaml:');
  });

  it('prints warnings for collapsed duplicates on stderr', async () => {
    const dir = tempTree({ 'm.yaml': 'version: 1\nname: g\njobs:\n  - image: [a.png, a.png]\n', 'a.png': png(1) });
    const result = await runCommand(validateCommand, { positionals: ['m.yaml'] }, dir);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/^warning: m\.yaml: jobs\[0\]: 1 job\(s\) are identical/);
  });

  it('needs at least one manifest', async () => {
    const result = await runCommand(validateCommand, { positionals: [] }, ROOT);
    expect(result).toMatchObject({ code: 2, stderr: 'error: Name at least one manifest. Usage: klingrun validate <manifest>… [options]\n' });
  });
});

describe('klingrun plan', () => {
  it('prints the cost table of the example, grouped by model × mode × duration (× sound where it changes the price)', async () => {
    const result = await runCommand(planCommand, { positionals: ['jobs/example.yaml'] }, ROOT);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatchInlineSnapshot(`
      "example (jobs/example.yaml): 8 job(s)

      model             mode  duration  sound    jobs  USD/job  USD
      kling-v2-6        std   5 s       -           2     0.21  0.42
      kling-v2-6        pro   5 s       default     2     0.35  0.70
      kling-v2-5-turbo  std   5 s       -           2     0.21  0.42
      kling-v2-5-turbo  pro   5 s       -           2     0.35  0.70
      total                                         8           2.24

      sound default: these jobs leave \`sound\` out, so Kling's default applies: off, priced as silent video. Set \`sound: "on"\` for generated audio.
      "
    `);
  });

  it('uses --prices and --models', async () => {
    const dir = tempTree({
      'p.yaml': '- { model_name: kling-v2-6, mode: std, usd_per_second: 0.04 }\n- { model_name: kling-v2-6, mode: pro, usd_per_second: 0.08 }\n- { model_name: kling-v2-5-turbo, mode: std, usd_per_second: 0.042 }\n- { model_name: kling-v2-5-turbo, mode: pro, usd_per_second: 0.066 }\n',
    });
    const result = await runCommand(planCommand, { values: { prices: `${dir}/p.yaml` }, positionals: ['jobs/example.yaml'] }, ROOT);
    expect(result.stdout.split('\n').at(-2)).toBe('total                                8           2.28');
    const noModels = await runCommand(planCommand, { values: { models: `${dir}/none.yaml` }, positionals: ['jobs/example.yaml'] }, ROOT);
    expect(noModels).toMatchObject({ code: 2, stdout: '' });
    expect(noModels.stderr).toMatch(/^error: Cannot read the model capability file .*none\.yaml/);
  });

  it('--json prints the whole plan, byte-identical from any working folder', async () => {
    const fromRoot = await runCommand(planCommand, { values: { json: true }, positionals: ['jobs/example.yaml'] }, ROOT);
    const fromJobs = await runCommand(planCommand, { values: { json: true }, positionals: ['example.yaml'] }, `${ROOT}/jobs`);
    expect(fromJobs.stdout).toBe(fromRoot.stdout);
    const plan = planSchema.parse(JSON.parse(fromRoot.stdout));
    expect(plan.jobs).toHaveLength(8);
    expect(fromRoot.stdout).not.toContain(ROOT);
  });

  it('runs from the real binary: exit 2 and a located error, no stack trace', () => {
    const dir = tempTree({ 'm.yaml': 'version: 1\nname: t\njobs:\n  - image: a.png\n    mode: fast\n' });
    const run = spawnSync(process.execPath, [`${ROOT}/bin/klingrun.js`, 'plan', 'm.yaml'], { cwd: dir, encoding: 'utf8' });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('error: m.yaml:5:11 at `jobs[0].mode`: kling-v1 takes mode std or pro, not fast (in jobs[0]).');
    expect(execFileSync(process.execPath, [`${ROOT}/bin/klingrun.js`, 'validate', 'jobs/example.yaml'], { cwd: ROOT, encoding: 'utf8' })).toBe(
      'jobs/example.yaml: valid, 8 jobs from 2 entries (2 images, 4 variants)\n',
    );
  });
});
