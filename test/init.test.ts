// `klingrun init`: the starter project plans as written, lands where its runs go to the project's
// output/, and never overwrites a file (the tarball run is in test/package.test.ts).
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { initCommand } from '../src/cli/commands/init.js';
import { loadPlan } from '../src/plan/index.js';
import { defaultOutputDir } from '../src/state/output-folder.js';
import { runCommand, tempTree } from './helpers/manifest.js';

const STARTER_FILES = ['.gitignore', 'data/clips.csv', 'images/harbor.png', 'images/meadow.jpg', 'klingrun.yaml'];

/** Every file under `dir`, relative to it, sorted. */
const filesIn = (dir: string): string[] =>
  readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name).slice(dir.length + 1))
    .sort();

describe('klingrun init', () => {
  it('writes a starter project whose manifest plans 4 jobs from its CSV and images, and prints what to run next', async () => {
    const dir = tempTree();
    const result = await runCommand(initCommand, { positionals: [] }, dir);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(filesIn(dir)).toEqual(STARTER_FILES);
    expect(readFileSync(join(dir, '.gitignore'), 'utf8')).toMatch(/^output\/$/m);
    const { plan } = await loadPlan('klingrun.yaml', { cwd: dir });
    expect(plan.jobs.map((job) => [job.request.mode, job.request.prompt])).toEqual([
      ['std', 'slow push-in on the harbor, the water shimmering'],
      ['pro', 'slow push-in on the harbor, the water shimmering'],
      ['std', 'wind moves through the meadow, clouds drift overhead'],
      ['pro', 'wind moves through the meadow, clouds drift overhead'],
    ]);
    for (const command of ['klingrun plan klingrun.yaml', 'klingrun run klingrun.yaml --emulator --yes', 'klingrun run klingrun.yaml ']) expect(result.stdout).toContain(command);
  });

  it("puts the runs in the project's own output/, even under a folder that already has one", async () => {
    const parent = tempTree({ 'output/.keep': '' });
    const result = await runCommand(initCommand, { positionals: ['clips/new'] }, parent);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('klingrun run clips/new/klingrun.yaml --emulator --yes');
    const project = join(parent, 'clips/new');
    expect(defaultOutputDir(join(project, 'klingrun.yaml'), 'starter', parent)).toBe(join(project, 'output/starter'));
  });

  it('names every starter file that exists and writes nothing; --force replaces only those files', async () => {
    const dir = tempTree({ 'klingrun.yaml': 'mine', 'images/harbor.png': 'mine too', 'notes.txt': 'untouched' });
    const refused = await runCommand(initCommand, { positionals: [] }, dir);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('already has klingrun.yaml, images/harbor.png: klingrun init never overwrites a file.');
    expect(refused.stderr).toContain('--force');
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    expect(filesIn(dir)).toEqual(['images/harbor.png', 'klingrun.yaml', 'notes.txt']);
    expect(readFileSync(join(dir, 'klingrun.yaml'), 'utf8')).toBe('mine');

    const forced = await runCommand(initCommand, { values: { force: true }, positionals: [] }, dir);
    expect(forced.code).toBe(0);
    expect(filesIn(dir)).toEqual([...STARTER_FILES, 'notes.txt'].sort());
    expect(readFileSync(join(dir, 'klingrun.yaml'), 'utf8')).toContain('name: starter');
    expect(readFileSync(join(dir, 'notes.txt'), 'utf8')).toBe('untouched');
  });

  it('says which path it cannot write, in one paragraph', async () => {
    const dir = tempTree();
    writeFileSync(join(dir, 'images'), 'a file where the folder goes');
    const result = await runCommand(initCommand, { positionals: [] }, dir);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^error: Cannot write \S+images: .*klingrun init <dir>/);
    expect(existsSync(join(dir, 'klingrun.yaml'))).toBe(false);
  });
});
