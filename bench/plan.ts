// Bench: planning 100,000 jobs, a 100-combination matrix over a folder of 1,000 local images.
// Targets from the foundation issue: under 3 s and 300 MB peak RSS on a 2-core machine.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { nodeFs, type ManifestFs } from '../src/manifest/fs.js';
import { loadPlan, summarizePlan } from '../src/plan/index.js';
import { makePng } from '../test/helpers/images.js';
import type { BenchCase } from './index.js';

const IMAGES = 1_000;
const PROMPTS = 25; // × mode 2 × duration 2 = 100 combinations

export const planCase: BenchCase = {
  name: 'plan-100k',
  description: 'loadPlan: 1,000 local images × 100 matrix combinations = 100,000 jobs (images hashed once)',
  targets: { ms: 3_000, rssMb: 300 },
  async prepare(dir) {
    mkdirSync(join(dir, 'images'));
    for (let i = 0; i < IMAGES; i++) {
      writeFileSync(join(dir, 'images', `img-${String(i).padStart(4, '0')}.png`), makePng({ width: 320, height: 320, seed: i, level: 1 }));
    }
    const prompts = Array.from({ length: PROMPTS }, (_, i) => `"camera move ${i}: slow push-in"`).join(', ');
    const manifest = join(dir, 'bench.yaml');
    writeFileSync(
      manifest,
      `version: 1\nname: bench\ndefaults: { model_name: kling-v2-6 }\nmatrix:\n  prompt: [${prompts}]\n  mode: [std, pro]\n  duration: [5, 10]\njobs:\n  - image: images/*.png\n`,
    );
    return manifest;
  },
  async run(input) {
    let reads = 0;
    const fs: ManifestFs = { ...nodeFs, readFile: (path) => (reads++, nodeFs.readFile(path)) };
    const loaded = await loadPlan(input as string, { fs });
    const { plan } = loaded;
    const summary = summarizePlan(plan, loaded);
    return `${plan.jobs.length} jobs, ${summary.rows.length} cost groups, ${reads - 1} image reads`;
  },
};
