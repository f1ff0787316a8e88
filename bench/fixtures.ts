// The inputs of the scale cases, at any size: a folder of PNGs (one per 100 jobs, as 1,000 images
// make 100,000 jobs), a manifest crossing them with 100 matrix combinations, and a CSV table with
// one row per job. Written untimed, before a case is measured.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makePng } from '../test/helpers/images.js';

export const MATRIX_MANIFEST = 'bench.yaml';
export const TABLE_MANIFEST = 'table.yaml';
const PROMPTS = 25; // × mode 2 × duration 2 = 100 combinations

const imageName = (i: number) => `images/img-${String(i).padStart(4, '0')}.png`;

function writeImages(dir: string, count: number): void {
  mkdirSync(join(dir, 'images'), { recursive: true });
  for (let i = 0; i < count; i++) writeFileSync(join(dir, imageName(i)), makePng({ width: 320, height: 320, seed: i, level: 1 }));
}

/** `jobs` ÷ 100 images × 100 combinations, in `dir`/bench.yaml. */
export function writeMatrixManifest(dir: string, jobs: number): string {
  writeImages(dir, Math.max(1, Math.round(jobs / 100)));
  const prompts = Array.from({ length: PROMPTS }, (_, i) => `"camera move ${i}: slow push-in"`).join(', ');
  writeFileSync(
    join(dir, MATRIX_MANIFEST),
    `version: 1\nname: bench\ndefaults: { model_name: kling-v2-6 }\nmatrix:\n  prompt: [${prompts}]\n  mode: [std, pro]\n  duration: [5, 10]\njobs:\n  - image: images/*.png\n`,
  );
  return MATRIX_MANIFEST;
}

/** A `rows`-row CSV (quoted captions, a name and two carried columns per row) over `rows` ÷ 100 images, in `dir`/table.yaml. */
export function writeTableManifest(dir: string, rows: number): string {
  const images = Math.max(1, Math.round(rows / 100));
  writeImages(dir, images);
  const lines = ['source_id,split,image_path,caption,name'];
  for (let i = 0; i < rows; i++) lines.push(`src-${i},${i % 10 ? 'train' : 'val'},${imageName(i % images)},"row ${i}: slow push-in, then a ""gentle"" pan",clip_${i}`);
  writeFileSync(join(dir, 'pairs.csv'), `${lines.join('\n')}\n`);
  writeFileSync(join(dir, TABLE_MANIFEST), 'version: 1\nname: bench-table\ndefaults: { model_name: kling-v2-5-turbo, mode: pro }\njobs:\n  - from: pairs.csv\n    columns: { image: image_path, prompt: caption }\n');
  return TABLE_MANIFEST;
}
