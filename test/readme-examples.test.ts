// The README's examples, run: every fenced block right after a line
// `<!-- checked by test/readme-examples.test.ts -->` in README.md is run by the built CLI in a temp
// copy of the repository's `jobs/` (with an `output/` folder, as in the repository), in README
// order, through bash (for globs and redirects), `npx klingrun` and `klingrun` alike.
// - A block of `$ ` lines is a transcript: each command exits 0 and prints (on stdout) what the
//   README shows under it. Runs of spaces, and latencies (`0.7 s`, which vary from run to run), are
//   compared loosely; everything else word for word.
// - A block without `$ ` is a list of commands (a `# comment` after each), each of which exits 0.
// Only examples that need no key and no network are marked; `status`, `report` and `export` read the
// demo's run, which runs first (the command `npm start` runs, README "Getting started").
import { execFile } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from './helpers/reports.js';

const MARK = '<!-- checked by test/readme-examples.test.ts -->';
const DEMO = 'klingrun run jobs/example.yaml --emulator --yes';

interface Step {
  readonly command: string;
  /** What the README shows it printing; undefined when it shows nothing. */
  readonly output?: string;
}

interface Block {
  /** The README line the block starts on, to find it. */
  readonly line: number;
  readonly steps: readonly Step[];
}

/** The marked blocks of a README text. */
function checkedBlocks(readme: string): Block[] {
  const lines = readme.split('\n');
  const blocks: Block[] = [];
  lines.forEach((line, i) => {
    if (line.trim() !== MARK) return;
    const open = i + 1;
    if (!/^\s*```/.test(lines[open] ?? '')) throw new Error(`README.md:${i + 1}: the mark is not followed by a fenced block`);
    const close = lines.findIndex((l, k) => k > open && /^\s*```\s*$/.test(l));
    // A block inside a list item is indented like its fence.
    const indent = /^ */.exec(lines[open] ?? '')?.[0].length ?? 0;
    const body = lines.slice(open + 1, close).map((l) => (l.slice(0, indent).trim() === '' ? l.slice(indent) : l));
    const steps: Step[] = [];
    if (body.some((l) => l.startsWith('$ '))) {
      for (const l of body) {
        if (l.startsWith('$ ')) steps.push({ command: l.slice(2), output: '' });
        else if (steps.length) {
          const last = steps[steps.length - 1] as Step;
          steps[steps.length - 1] = { ...last, output: `${last.output}${l}\n` };
        }
      }
    } else {
      for (const l of body) if (l.trim()) steps.push({ command: l.replace(/\s+#.*$/, '') });
    }
    blocks.push({ line: open + 1, steps });
  });
  return blocks;
}

/** Output compared loosely: trailing blank lines, runs of spaces and latencies do not count. */
const loose = (text: string): string =>
  text
    .replace(/\b\d+\.\d s\b/g, '#.# s')
    .split('\n')
    .map((line) => line.replace(/ {2,}/g, ' ').trimEnd())
    .join('\n')
    .trim();

const exec = promisify(execFile);

describe("the README's examples", () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const blocks = checkedBlocks(readme);
  let dir: string;
  let env: Record<string, string>;

  /** Runs one README command line in the project, as a user's shell would. */
  const run = async (command: string) => {
    const line = command.replace(/^npx klingrun\b/, 'klingrun');
    try {
      const { stdout, stderr } = await exec('bash', ['-c', line], { cwd: dir, env, maxBuffer: 16 * 1024 * 1024 });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const failed = error as { code?: number; stdout?: string; stderr?: string };
      return { code: failed.code ?? -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
    }
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'klingrun-readme-'));
    cpSync(join(ROOT, 'jobs'), join(dir, 'jobs'), { recursive: true });
    mkdirSync(join(dir, 'output'));
    // `klingrun` on the PATH is the built CLI, as after `npm install -g`.
    const bin = join(dir, '.bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'klingrun'), `#!/bin/sh\nexec "${process.execPath}" "${join(ROOT, 'bin', 'klingrun.js')}" "$@"\n`);
    chmodSync(join(bin, 'klingrun'), 0o755);
    env = { PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}`, HOME: dir, LANG: 'C.UTF-8' };
    const demo = await run(DEMO);
    expect(demo.code, demo.stderr).toBe(0);
    expect(demo.stdout).toContain('8 job(s): 8 succeeded.');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('marks the blocks it checks: help, plan, validate, status, report and export', () => {
    const commands = blocks.flatMap((block) => block.steps.map((step) => step.command.replace(/^npx /, '').split(' ').slice(0, 2).join(' ')));
    expect(new Set(commands)).toEqual(new Set(['klingrun help', 'klingrun plan', 'klingrun validate', 'klingrun status', 'klingrun report', 'klingrun export']));
  });

  it.each(checkedBlocks(readFileSync(join(ROOT, 'README.md'), 'utf8')).map((block) => [block.line, block] as const))('the block at README.md line %i', async (_, block) => {
    for (const step of block.steps) {
      const result = await run(step.command);
      expect(result.code, `${step.command}\n${result.stderr}`).toBe(0);
      if (step.output !== undefined) expect(loose(result.stdout), step.command).toBe(loose(step.output));
    }
  });
});
