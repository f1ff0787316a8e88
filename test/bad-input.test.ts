// The bad-input corpus (issue 6): every broken manifest and input in test/fixtures/bad/ goes
// through the CLI in-process, in a temp copy of its folder, and must be refused with exit 2 and a
// message naming the file, the line and the field, never a stack trace. One case also runs
// through the real binary, and one input klingrun deliberately accepts is pinned down.
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  CATEGORIES,
  CORPUS,
  type BadCase,
  type CliResult,
  type Expectation,
  loadCorpus,
  mismatches,
  prepareCase,
  runCase,
  runInProcess,
  STACK_FRAME,
} from './helpers/bad-input.js';
import { runCli } from './helpers/cli.js';

const corpus = loadCorpus();
const refused = corpus.filter((c) => c.expect.exit === 2);
const byName = (name: string): BadCase => {
  const found = corpus.find((c) => c.name === name);
  if (!found) throw new Error(`no case ${name} in ${CORPUS}`);
  return found;
};

/** Every file under the corpus with its size and mtime: the cases must never write into it. */
function listing(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => {
      const path = join(e.parentPath, e.name);
      const { size, mtimeMs } = statSync(path);
      return `${relative(dir, path)} ${size} ${mtimeMs}`;
    })
    .sort();
}
const before = listing(CORPUS);
afterAll(() => {
  expect(listing(CORPUS)).toEqual(before);
});

describe('the bad-input corpus', () => {
  it('holds at least 40 refused cases covering every category of issue 6', () => {
    expect(refused.length).toBeGreaterThanOrEqual(40);
    const covered = new Set(corpus.map((c) => c.expect.category));
    expect(CATEGORIES.filter((category) => !covered.has(category))).toEqual([]);
    // Only the duplicate-name question is answered with "accepted, and here is why".
    expect(corpus.filter((c) => c.expect.exit === 0).map((c) => c.expect.category)).toEqual(['duplicate-name']);
  });

  it.each(refused.map((c) => [c.name, c] as const))('%s', async (_, badCase) => {
    const result = await runCase(badCase);
    expect(mismatches(result, badCase.expect), `stderr:\n${result.stderr}`).toEqual([]);
  });
});

describe('the corpus check itself', () => {
  const expectation: Expectation = {
    what: 'x',
    category: 'typo',
    setup: [],
    command: ['validate', 'manifest.yaml'],
    env: {},
    exit: 2,
    file: 'manifest.yaml',
    line: 4,
    field: 'defaults.modle_name',
    fragments: ['Did you mean `model_name`?'],
  };
  const good: CliResult = {
    code: 2,
    stdout: '',
    stderr: 'error: manifest.yaml:4:3 at `defaults.modle_name`: unknown key `modle_name`. Did you mean `model_name`?\n',
  };

  it('passes a result that meets the expectation', () => {
    expect(mismatches(good, expectation)).toEqual([]);
  });

  it('fails a wrong exit code, a stack trace, a wrong line, a missing field or fragment', () => {
    expect(mismatches({ ...good, code: 70 }, expectation)).toEqual(['exit code 70, expected 2']);
    expect(mismatches({ ...good, stderr: `${good.stderr}TypeError: x\n    at parse (src/manifest/load.ts:12:5)\n` }, expectation)).toEqual([
      'stderr holds a stack trace',
    ]);
    expect(mismatches({ ...good, stderr: good.stderr.replace(':4:3', ':5:3') }, expectation)).toEqual([
      'no error paragraph names manifest.yaml + line 4 + `defaults.modle_name`',
    ]);
    expect(mismatches({ ...good, stderr: good.stderr.replace(' at `defaults.modle_name`', '') }, expectation)).toEqual([
      'no error paragraph names manifest.yaml + line 4 + `defaults.modle_name`',
    ]);
    expect(mismatches({ ...good, stderr: good.stderr.replace(' Did you mean `model_name`?', '') }, expectation)).toEqual([
      'output lacks "Did you mean `model_name`?"',
    ]);
    // Line 4 must not match line 42.
    expect(mismatches({ ...good, stderr: good.stderr.replace(':4:3', ':42:3') }, expectation)).toHaveLength(1);
    expect(mismatches({ ...good, stderr: `internal error: boom\n` }, expectation)).toContain('stderr reports an internal error');
  });

  it('accepts a journal-style position (`file, line N`)', () => {
    const journal = { ...expectation, file: 'output/x/state.jsonl', line: 3, field: null, fragments: ['not valid JSON'] };
    expect(mismatches({ code: 2, stdout: '', stderr: 'error: /tmp/a/output/x/state.jsonl, line 3: it is not valid JSON.\n' }, journal)).toEqual([]);
    expect(mismatches({ code: 2, stdout: '', stderr: 'error: /tmp/a/output/x/state.jsonl, line 31: it is not valid JSON.\n' }, journal)).toHaveLength(1);
  });
});

describe('duplicate names in one output folder', () => {
  const badCase = byName('duplicate-name-one-output');
  const submitted = (dir: string): string[] =>
    readFileSync(join(dir, 'shared', 'state.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { ev: string; job?: string })
      .filter((event) => event.ev === 'submitting')
      .map((event) => event.job as string);

  it('lets the second manifest continue in the folder without paying twice (see its expect.yaml)', async () => {
    const result = await runCase(badCase, async (dir) => {
      // a.yaml: 2 jobs; b.yaml: the one it shares with a.yaml (not resubmitted) and its own.
      const jobs = submitted(dir);
      expect(jobs).toHaveLength(3);
      expect(new Set(jobs).size).toBe(3);
      // Back to a.yaml: everything is done, nothing is submitted, its report lists b.yaml's job apart.
      const again = await runInProcess(['run', 'a.yaml', '--emulator', '--yes', '--output', 'shared'], dir);
      expect(again.code).toBe(0);
      expect(again.stdout).toContain('clips: 2 job(s) planned, nothing to run: all 2 have already finished.');
      expect(again.stdout).toContain('3 job(s) (1 of them no longer in the manifest): 3 succeeded');
      expect(submitted(dir)).toEqual(jobs);
    });
    expect(mismatches(result, badCase.expect), result.stderr).toEqual([]);
  });
});

describe('one pass (issue "never silent, never lost", point 4)', () => {
  it('reports a schema error, a missing image, model rules and a bad table row together, sorted by file and line', async () => {
    const result = await runCase(byName('one-pass-every-kind'));
    expect(result.code).toBe(2);
    const located = [...result.stderr.matchAll(/^error: (\S+?:\d+:\d+) at `([^`]+)`/gm)].map(([, where, field]) => `${where} ${field}`);
    expect(located).toEqual([
      'manifest.yaml:7:5 jobs[0].promt', // schema: a misspelt key
      'manifest.yaml:8:12 jobs[1].image', // a missing file…
      'manifest.yaml:10:11 jobs[1].mode', // …does not hide its entry's model rule
      'manifest.yaml:13:11 jobs[2].mode', // a valid entry beside a broken one is checked whole
      'rows.csv:2:27 row 1, column cfg_scale', // a table row
    ]);
  });
});

describe('the real binary', () => {
  it('refuses a damaged journal with exit 2, one error paragraph and no stack trace', async () => {
    const badCase = byName('state-no-header');
    const dir = await prepareCase(badCase);
    try {
      const result = await runCli(badCase.expect.command, { cwd: dir });
      expect(result.code).toBe(2);
      expect(result.stderr).not.toMatch(STACK_FRAME);
      expect(result.stderr).toMatch(/^error: .*output\/bad\/state\.jsonl, line 1: the journal does not start with its header/);
      expect(mismatches({ code: result.code ?? -1, stdout: result.stdout, stderr: result.stderr }, badCase.expect)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
