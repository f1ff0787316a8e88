// Input that would pay for nothing or miss a file: an empty prompt cell is refused at its row and
// column, and a path that differs from a real file only in case gets that file as a did-you-mean
// (on a case-sensitive disk), worked out only for paths that are missing.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatError } from '../src/cli/format-error.js';
import { ManifestError } from '../src/errors.js';
import { nodeFs, type ManifestFs } from '../src/manifest/fs.js';
import { loadPlan } from '../src/plan/index.js';
import { png, tempTree } from './helpers/manifest.js';

const HEAD = 'version: 1\nname: test\ndefaults: { model_name: kling-v2-6, mode: std }\n';

async function planErrors(files: Record<string, string | Uint8Array>, fs?: ManifestFs): Promise<string> {
  const dir = tempTree({ 'images/cat.png': png(1), 'images/dog.png': png(2), ...files });
  try {
    await loadPlan('m.yaml', { cwd: dir, ...(fs ? { fs } : {}) });
    return '';
  } catch (error) {
    if (!(error instanceof ManifestError)) throw error;
    return formatError(error);
  }
}

describe('an empty prompt cell', () => {
  it('is refused at its file, line, column and row, in CSV and JSONL, blank or missing, unless the defaults give one', async () => {
    const out = await planErrors({
      'm.yaml': `${HEAD}jobs:\n  - from: data/t.csv\n    columns: { prompt: caption }\n  - from: data/t.jsonl\n`,
      'data/t.csv': 'image,caption\nimages/cat.png,a cat\nimages/dog.png,\nimages/dog.png,"  "\n',
      'data/t.jsonl': '{"image": "images/cat.png", "prompt": "a cat"}\n{"image": "images/dog.png", "prompt": ""}\n{"image": "images/dog.png"}\n',
    });
    expect(out).toContain('data/t.csv:3:16 at `row 2, column caption (prompt)`: the prompt is empty, and neither the defaults nor the entry give this job one: a job without a prompt is paid for like any other.');
    expect(out).toContain('Write the prompt in the cell, give the entry or `defaults` a `prompt` for rows without one, or leave the row out (delete it, or filter the table with `where`).');
    expect(out).toContain('data/t.csv:4:16 at `row 3, column caption (prompt)`: the prompt is empty');
    expect(out).toContain('data/t.jsonl:2:39 at `row 2, column prompt`: the prompt is empty');
    expect(out).toContain('data/t.jsonl:3:1 at `row 3, column prompt`: the prompt is empty');
    expect(out.match(/the prompt is empty/g)).toHaveLength(4);
    // With a prompt in the defaults, an empty cell keeps it, as an empty cell of any field does.
    const dir = tempTree({
      'images/cat.png': png(1),
      'm.yaml': 'version: 1\nname: test\ndefaults: { model_name: kling-v2-6, mode: std, prompt: a default }\njobs:\n  - from: t.csv\n',
      't.csv': 'image,prompt\nimages/cat.png,\n',
    });
    const { plan } = await loadPlan('m.yaml', { cwd: dir });
    expect(plan.jobs.map((job) => job.request.prompt)).toEqual(['a default']);
  });
});

describe('a path that differs only in case', () => {
  it('gets the real path as a did-you-mean, in the manifest, in a table cell, for the table itself and the folders of a glob', async () => {
    const out = await planErrors({
      'm.yaml': `${HEAD}jobs:\n  - image: Images/Cat.PNG\n    prompt: a cat\n  - from: data/t.csv\n  - from: Data/T.csv\n  - image: "IMAGES/*.png"\n    prompt: all\n`,
      'data/t.csv': 'image,prompt\nimages/DOG.png,a dog\n',
    });
    expect(out).toContain('m.yaml:5:12 at `jobs[0].image`: `Images/Cat.PNG` does not exist (paths are relative to the manifest\'s folder). Did you mean `images/cat.png`? Only the case differs, and file names here are case-sensitive.');
    expect(out).toContain('data/t.csv:2:1 at `row 1, column image`: `images/DOG.png` does not exist (paths are relative to the manifest\'s folder). Did you mean `images/dog.png`?');
    expect(out).toContain('m.yaml:9:12 at `jobs[3].image`: the glob `IMAGES/*.png` matches no files (globs are relative to the manifest\'s folder). Did you mean `images/*.png`?');
    expect(out).toContain('m.yaml:8:11 at `jobs[2].from`: `Data/T.csv` does not exist (paths are relative to the manifest\'s folder). Did you mean `data/t.csv`?');
  });

  it('lists folders only for the missing path, once each, never for the paths that exist or a glob', async () => {
    const listed: string[] = [];
    const fs: ManifestFs = { ...nodeFs, readdir: async (path) => (listed.push(path), nodeFs.readdir?.(path)) };
    const out = await planErrors(
      { 'm.yaml': `${HEAD}jobs:\n  - image: "images/*.png"\n    prompt: all\n  - image: [images/cat.png, IMAGES/nope.png, IMAGES/nope2.png]\n    prompt: some\n` },
      fs,
    );
    expect(out).toContain('`IMAGES/nope.png` does not exist (paths are relative to the manifest\'s folder).\n');
    expect(out).not.toContain('Did you mean');
    expect(listed.map((path) => path.split('klingrun-manifest-')[1]?.replace(/^[^/\\]+/, '') ?? path).sort()).toEqual(['', join('/', 'images')]);
  });
});
