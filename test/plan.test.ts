// Manifest → plan: counts, precedence, conflicts, stable ids, collapsing of identical jobs,
// and byte-identical `plan --json` output wherever the manifest and images live.
import { cpSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { planCommand } from '../src/cli/commands/plan.js';
import type { CliIO } from '../src/cli/io.js';
import { InputError } from '../src/errors.js';
import { canonicalJson, externalTaskId, jobId, loadPlan } from '../src/plan/index.js';
import { identityAround, identityOf, sha256Hex } from '../src/plan/ids.js';
import { planJsonChunks, planSha256 } from '../src/plan/json.js';
import { planSchema, type JobRequest, type Plan } from '../src/plan/schema.js';
import { makePlan } from './helpers/runner-harness.js';
import { planErrorsIn, planIn, png, tempTree } from './helpers/manifest.js';

const HEAD = 'version: 1\nname: test\n';

const plan = planIn;
const planErrors = (manifest: string) => planErrorsIn(manifest);

describe('expansion', () => {
  it('makes one job per entry × image × combination × repeat, in that order', async () => {
    const { plan: p } = await plan(`${HEAD}matrix: { mode: [std, pro], duration: [5, 10] }\njobs:\n  - { image: "*.png", repeat: 2 }\n  - { image: a.png, prompt: solo, matrix: {} }\n`);
    expect(p.jobs).toHaveLength(2 * 4 * 2 + 1);
    expect(p.jobs.slice(0, 3).map((j) => [j.entry, j.request.image?.kind === 'file' && j.request.image.path, j.variant, j.repeat])).toEqual([
      [0, 'a.png', { mode: 'std', duration: '5' }, 1],
      [0, 'a.png', { mode: 'std', duration: '5' }, 2],
      [0, 'a.png', { mode: 'std', duration: '10' }, 1],
    ]);
    expect(p.jobs.at(-1)).toMatchObject({ entry: 1, variant: {}, repeat: 1, repeats: 1 });
    expect(() => planSchema.parse(p)).not.toThrow();
  });

  it('makes the provider defaults explicit (model, duration, and mode where the model has modes)', async () => {
    const { plan: p } = await plan(`${HEAD}jobs:\n  - { image: a.png }\n  - { image: a.png, model_name: kling-v2-master }\n`);
    expect(p.jobs.map(({ request: { image: _image, ...rest } }) => rest)).toEqual([
      { model_name: 'kling-v1', mode: 'std', duration: '5' },
      { model_name: 'kling-v2-master', duration: '5' },
    ]);
  });

  it('layers values: defaults < job entry < matrix combination', async () => {
    const { plan: p } = await plan(`${HEAD}defaults: { model_name: kling-v1, prompt: from defaults, negative_prompt: blur, duration: 5 }
matrix: { model_name: [kling-v1-6] }
jobs:
  - { image: a.png, prompt: from the entry }
  - { image: a.png, matrix: {} }
`);
    expect(p.jobs.map((j) => j.request)).toEqual([
      { model_name: 'kling-v1-6', mode: 'std', duration: '5', prompt: 'from the entry', negative_prompt: 'blur', image: expect.objectContaining({ path: 'a.png' }) },
      { model_name: 'kling-v1', mode: 'std', duration: '5', prompt: 'from defaults', negative_prompt: 'blur', image: expect.objectContaining({ path: 'a.png' }) },
    ]);
  });

  it('refuses a key set both in an entry and in the matrix that applies to it, naming both places', async () => {
    const out = await planErrors(`${HEAD}matrix:
  model_name: [kling-v2-6]
  exclude:
    - { model_name: kling-v2-6 }
  include:
    - { model_name: kling-v3, mode: pro }
jobs:
  - { image: a.png, mode: std }
  - image: b.png
    prompt: own matrix
    matrix: { prompt: [a, b] }
  - { image: a.png, mode: pro, matrix: {} }
`);
    expect(out).toMatchInlineSnapshot(`
      "error: m.yaml:10:21 at \`jobs[0].mode\`: \`mode\` is set both in this job entry and in the matrix that applies to it (\`matrix.include[0].mode\`, line 8); one of the two values would be silently ignored. Remove it from one of the two places.
            - { image: a.png, mode: std }
                              ^

      error: m.yaml:12:5 at \`jobs[1].prompt\`: \`prompt\` is set both in this job entry and in the matrix that applies to it (\`jobs[1].matrix.prompt\`, line 13); one of the two values would be silently ignored. Remove it from one of the two places.
              prompt: own matrix
              ^"
    `);
  });

  it('reports matrix problems at the matrix', async () => {
    const out = await planErrors(`${HEAD}matrix:\n  mode: [std]\n  exclude: [{ mode: std }, { duration: 5 }]\njobs:\n  - image: a.png\n  - image: b.png\n`);
    expect(out).toMatchInlineSnapshot(`
      "error: m.yaml:5:40 at \`matrix.exclude[1].duration\`: exclude key \`duration\` is not a list key of this matrix, so it can never match. The list keys are: mode.
            exclude: [{ mode: std }, { duration: 5 }]
                                                 ^"
    `);
    const many = Array.from({ length: 101 }, (_, i) => `p${i}`).join(', ');
    expect(await planErrors(`${HEAD}matrix: { prompt: [${many}], negative_prompt: [${many}] }\njobs:\n  - image: a.png\n`)).toContain(
      'm.yaml:3:9 at `matrix`: the matrix expands to 10201 combinations; at most 10000 are allowed. Split it into several job entries or manifests.',
    );
  });
});

describe('job ids', () => {
  it('are sha256 of the canonical request, repeat and salt; external ids are kr- + 24 hex', async () => {
    const { plan: p } = await plan(`${HEAD}id_salt: s1\njobs:\n  - { image: a.png, prompt: hi, repeat: 2 }\n`);
    const [first, second] = p.jobs;
    expect(first?.id).toBe(jobId(first!.request, 1, 's1'));
    expect(first?.id).toMatch(/^[0-9a-f]{64}$/);
    expect(second?.id).not.toBe(first?.id);
    expect(first?.external_task_id).toBe(`kr-${first?.id.slice(0, 24)}`);
    expect(externalTaskId(first!.id).length).toBeLessThanOrEqual(32);
  });

  it('ignore comments, key order, and where the image folder is or what it is called', async () => {
    const one = await plan(`${HEAD}jobs:\n  - { image: "pics/*.png", prompt: hi, mode: pro, duration: 5 }\n`, { 'pics/a.png': png(1) });
    const two = await plan(`# the same batch\nname: test # renamed folder\nversion: 1\njobs:\n  - duration: "5"\n    mode: pro\n    prompt: hi\n    image: "../elsewhere/photos/x.png"\n`, { '../elsewhere/photos/x.png': png(1) });
    expect(two.plan.jobs.map((j) => j.id)).toEqual(one.plan.jobs.map((j) => j.id));
  });

  it('change with anything that would be sent, the repeat index and the salt', async () => {
    const base = `${HEAD}jobs:\n  - { image: a.png, prompt: hi, mode: pro }\n`;
    const id = async (manifest: string, files?: Record<string, Uint8Array>) => (await plan(manifest, files)).plan.jobs[0]?.id;
    const reference = await id(base);
    const variants = [
      base.replace('hi', 'hi!'),
      base.replace('mode: pro', 'mode: std'),
      base.replace('}', ', duration: 10 }'),
      base.replace('jobs:', 'id_salt: again\njobs:'),
      base.replace('a.png', 'https://example.com/a.png'),
    ];
    for (const manifest of variants) expect(await id(manifest)).not.toBe(reference);
    expect(await id(base, { 'a.png': png(7) })).not.toBe(reference); // same name, other content
    expect(await id(base.replace('{ image', '{ repeat: 2, image'))).toBe(reference); // repeat 1 keeps its id
  });

  it('stay exactly what they were: a pinned request keeps its pinned id', () => {
    const file = (path: string, c: string) => ({ kind: 'file', path, sha256: c.repeat(64), bytes: 1, width: 512, height: 384 }) as const;
    const request: JobRequest = {
      model_name: 'kling-v2-6',
      mode: 'pro',
      duration: '5',
      prompt: 'café, 東京 "quoted"',
      cfg_scale: 0.5,
      image: file('a.png', 'a'),
      image_tail: { kind: 'url', url: 'https://x/y.png' },
      dynamic_masks: [{ mask: file('m.png', 'b'), trajectories: [{ x: 1, y: 2 }, { x: 3, y: 4 }] }],
    };
    expect(jobId(request, 2, 'salt')).toBe('d7d3527a5d8fd8dccbd5efdcf22c782c949f3943f58cdde20f04756b7de6b46b');
    expect(jobId(request, 2, 'salt')).toBe(sha256Hex(canonicalJson({ request: identityOf(request), repeat: 2, id_salt: 'salt' })));
  });

  it('are built around the image: one text for the other fields, the same bytes as the canonical request', () => {
    const image = { kind: 'file', path: 'a.png', sha256: 'a'.repeat(64), bytes: 1, width: 512, height: 384 } as const;
    const other = { kind: 'url', url: 'https://x/b.png' } as const;
    const requests: Omit<JobRequest, 'image'>[] = [
      {},
      { cfg_scale: 0 }, // before `image` only
      { prompt: 'p' }, // after `image` only
      { callback_url: 'https://cb', cfg_scale: 0.5, duration: '10', dynamic_masks: [{ mask: image, trajectories: [{ x: 1, y: 2 }] }], image_tail: other, mode: 'pro', model_name: 'kling-v1', negative_prompt: 'n', prompt: '"é"', sound: 'off', static_mask: image },
      { model_name: 'kling-v1', prompt: undefined, duration: undefined },
    ];
    for (const fields of requests) {
      const around = identityAround(fields);
      for (const ref of [image, other]) expect(around(ref)).toBe(canonicalJson(identityOf({ ...fields, image: ref })));
    }
  });

  it('canonical JSON sorts keys at every depth and drops undefined', () => {
    expect(canonicalJson({ b: 1, a: { d: [{ z: 1, y: 2 }], c: undefined } })).toBe('{"a":{"d":[{"y":2,"z":1}]},"b":1}');
    expect(canonicalJson({ b: [1, { z: undefined, é: 1, A: null, a: true }], '': 'x', '\u{1F600}': 1, ﬀ: 2 })).toBe('{"":"x","b":[1,{"A":null,"a":true,"é":1}],"😀":1,"ﬀ":2}');
  });
});

describe('identical jobs', () => {
  it('collapse into one with a warning, across entries and across files with the same content', async () => {
    const { plan: p } = await plan(`${HEAD}jobs:\n  - { image: "*.png", prompt: hi }\n  - { image: a.png, prompt: hi }\n`, { 'a.png': png(1), 'copy.png': png(1), 'b.png': png(2) });
    expect(p.jobs.map((j) => j.request.image?.kind === 'file' && j.request.image.path)).toEqual(['a.png', 'b.png']);
    expect(p.warnings).toEqual([
      'jobs[0]: 1 job(s) are identical to other jobs of the same entry (same request, image content and repeat; e.g. `copy.png` has the same content as `a.png`), so each is planned once.',
      'jobs[1]: 1 job(s) are identical to jobs of jobs[0] (same request, image content and repeat; e.g. `a.png`), so each is planned once.',
    ]);
  });
});

describe('loadPlan', () => {
  it('returns the manifest, its folder and the sha256 of its bytes', async () => {
    const text = `${HEAD}limits: { concurrency: 3 }\njobs:\n  - image: a.png\n`;
    const { dir, manifest, manifestDir, manifestSha256, plan: p } = await plan(text);
    expect(manifestDir).toBe(dir);
    expect(manifest.limits).toEqual({ concurrency: 3 });
    expect(manifestSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(p).toMatchObject({ version: 1, name: 'test', manifest: 'm.yaml', id_salt: '', warnings: [] });
  });

  it('says clearly when the manifest cannot be read', async () => {
    const dir = tempTree();
    await expect(loadPlan('nope.yaml', { cwd: dir })).rejects.toThrow(InputError);
    await expect(loadPlan('nope.yaml', { cwd: dir })).rejects.toThrow(/^Cannot read the manifest nope\.yaml: .*Check the path\.$/);
  });

  it('gives byte-identical JSON for the same manifest and images anywhere, with no absolute path', async () => {
    const source = tempTree({ 'batch/m.yaml': `${HEAD}matrix: { mode: [std, pro] }\njobs:\n  - image: "img/*.png"\n    repeat: 2\n`, 'batch/img/a.png': png(1), 'batch/img/b.png': png(2) });
    const copy = tempTree();
    cpSync(join(source, 'batch'), join(copy, 'moved'), { recursive: true });
    renameSync(join(copy, 'moved', 'm.yaml'), join(copy, 'moved', 'm.yaml.tmp'));
    writeFileSync(join(copy, 'moved', 'm.yaml'), readFileSync(join(copy, 'moved', 'm.yaml.tmp')));
    const a = JSON.stringify((await loadPlan(join(source, 'batch', 'm.yaml'))).plan, null, 2);
    const b = JSON.stringify((await loadPlan('moved/m.yaml', { cwd: copy })).plan, null, 2);
    expect(b).toBe(a);
    expect(a).not.toContain(source);
    expect(a).not.toMatch(/base64|"\/|\\\\/);
  });
});

describe('plan --json', () => {
  const whole = (plan: Plan) => `${JSON.stringify(plan, null, 2)}\n`;

  it('is written in pieces whose bytes are exactly JSON.stringify(plan, null, 2), and plan_sha256 hashes those bytes', () => {
    const big = makePlan(700);
    const odd: Plan = {
      ...makePlan(3),
      name: 'näme "quoted"\nline',
      warnings: ['two\nlines', 'ünïcode ✓ \u2028'],
    };
    const named: Plan = { ...odd, jobs: odd.jobs.map((job, i) => ({ ...job, name: `clip_${i}`, extra: { split: 'train', note: 'a "b"\tc' }, variant: { mode: 'pro', x: null, on: true } })) };
    for (const plan of [big, odd, named, makePlan(0), makePlan(1), makePlan(256), makePlan(257)]) {
      const text = [...planJsonChunks(plan)].join('');
      expect(text).toBe(whole(plan));
      expect(planSha256(plan)).toBe(sha256Hex(whole(plan)));
    }
    // 700 jobs in pieces of at most 256 jobs each.
    expect([...planJsonChunks(big)].length).toBeGreaterThanOrEqual(3);
  });

  it('streams from the command: many writes, none of them the whole plan, adding up to the hashed bytes', async () => {
    const prompts = Array.from({ length: 25 }, (_, i) => `"move ${i}"`).join(', ');
    const dir = tempTree({
      'm.yaml': `${HEAD}matrix: { prompt: [${prompts}], mode: [std, pro], duration: [5, 10] }\njobs:\n  - image: "*.png"\n`,
      ...Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`${i}.png`, png(i)])),
    });
    const writes: string[] = [];
    const io: CliIO = { stdout: (text) => void writes.push(text), stderr: () => {}, env: {}, cwd: dir, isTTY: false, confirm: async () => false, signal: new AbortController().signal };
    expect(await planCommand.run({ values: { json: true }, positionals: ['m.yaml'] }, io)).toBe(0);
    const text = writes.join('');
    const { plan: p } = await loadPlan('m.yaml', { cwd: dir });
    expect(p.jobs).toHaveLength(600);
    expect(text).toBe(whole(p));
    expect(sha256Hex(text)).toBe(planSha256(p));
    expect(Math.max(...writes.map((w) => w.length))).toBeLessThan(text.length / 2);
  });
});
