// Bench: planning a 100,000-row CSV table (1,000 local images, a prompt, name and two carried
// columns per row) into 100,000 jobs. Target from issue 8: under 3 s on this 2-core machine.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadPlan, summarizePlan } from '../src/plan/index.js';
import { makePng } from '../test/helpers/images.js';
import type { BenchCase } from './index.js';

const ROWS = 100_000;
const IMAGES = 1_000;

export const tableCase: BenchCase = {
  name: 'table-100k',
  description: 'loadPlan: a 100,000-row CSV table (quoted captions, 1,000 local images, name and extra columns) = 100,000 jobs',
  targets: { ms: 3_000 },
  async prepare(dir) {
    mkdirSync(join(dir, 'images'));
    for (let i = 0; i < IMAGES; i++) {
      writeFileSync(join(dir, 'images', `img-${String(i).padStart(4, '0')}.png`), makePng({ width: 320, height: 320, seed: i, level: 1 }));
    }
    const lines = ['source_id,split,image_path,caption,name'];
    for (let i = 0; i < ROWS; i++) {
      const image = `images/img-${String(i % IMAGES).padStart(4, '0')}.png`;
      lines.push(`src-${i},${i % 10 ? 'train' : 'val'},${image},"row ${i}: slow push-in, then a ""gentle"" pan",clip_${i}`);
    }
    writeFileSync(join(dir, 'pairs.csv'), `${lines.join('\n')}\n`);
    const manifest = join(dir, 'bench.yaml');
    writeFileSync(
      manifest,
      'version: 1\nname: bench-table\ndefaults: { model_name: kling-v2-5-turbo, mode: pro }\njobs:\n  - from: pairs.csv\n    columns: { image: image_path, prompt: caption }\n',
    );
    return manifest;
  },
  async run(input) {
    const loaded = await loadPlan(input as string);
    const { plan } = loaded;
    const summary = summarizePlan(plan, loaded);
    const named = plan.jobs.filter((j) => j.name !== undefined && j.extra?.['split'] !== undefined).length;
    return `${plan.jobs.length} jobs (${named} with name and extra columns), ${summary.rows.length} cost group(s)`;
  },
};
