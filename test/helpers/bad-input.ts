// The bad-input corpus (test/fixtures/bad/<case>/): each case folder holds the broken inputs and
// an `expect.yaml` saying which command to run, the exit code, and what the error must name.
// A case runs in a temp copy of its folder (never in the fixtures), through the CLI in-process.
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { z } from 'zod';
import type { CliIO } from '../../src/cli/io.js';
import { main } from '../../src/cli/run-cli.js';
import { makePng } from './images.js';

export const FIXTURES = fileURLToPath(new URL('../fixtures', import.meta.url));
export const CORPUS = join(FIXTURES, 'bad');

/** A stack frame as Node prints it: `    at fn (file.ts:12:5)`. */
export const STACK_FRAME = /\n\s+at .+:\d+:\d+/;

/** The categories issue 6 asks the corpus to cover; each needs at least one case. */
export const CATEGORIES = [
  'yaml-syntax',
  'tabs',
  'wrong-type',
  'unknown-key',
  'typo',
  'out-of-range',
  'model-rule',
  'empty-glob',
  'missing-file',
  'not-an-image',
  'small-image',
  'aspect',
  'oversize',
  'huge-matrix',
  'include-exclude',
  'duplicate-name',
  'state-corrupt',
  'state-other-manifest',
  'prices',
  'models',
  'cli-usage',
  'api-key',
] as const;

/** `{dir}` in an argument stands for the case's temp folder (for --prices/--models, read from the process cwd). */
const arg = z.string();

const setupStep = z.union([
  /** Copies a file from test/fixtures/ into the case folder, only its first `keep_bytes` bytes if given (a cut-off copy). */
  z.strictObject({ copy: z.string(), to: z.string(), keep_bytes: z.number().int().positive().optional() }),
  /** Writes a real PNG of at least `megabytes` MB (random pixels, stored): too big to commit. */
  z.strictObject({ generate_png: z.string(), megabytes: z.number().positive() }),
  /** Runs a command first (e.g. a run that leaves a journal) and checks its exit code. */
  z.strictObject({ cli: z.array(arg).min(1), exit: z.number().int() }),
  /** Inserts a line before line `line` (1-based) of a file, e.g. garbage into the middle of a journal. */
  z.strictObject({ insert: z.string(), line: z.number().int().min(1), text: z.string() }),
]);
export type SetupStep = z.infer<typeof setupStep>;

export const expectSchema = z
  .strictObject({
    /** What is broken, one sentence. */
    what: z.string().min(1),
    category: z.enum(CATEGORIES),
    setup: z.array(setupStep).default([]),
    command: z.array(arg).min(1),
    /** Environment of the command (nothing from the test process leaks in). */
    env: z.record(z.string(), z.string()).default({}),
    /** 2 for every refused input; 0 only with `accepted`, for input klingrun deliberately takes. */
    exit: z.union([z.literal(2), z.literal(0)]),
    /** Why klingrun accepts this input, and why that is right (exit 0 cases only). */
    accepted: z.string().min(1).optional(),
    /** The file the message must name; null when no file is involved (a flag, the environment). */
    file: z.string().min(1).nullable(),
    /** The line the message must point at; null when the problem has no line (a missing file, a flag). */
    line: z.number().int().min(1).nullable(),
    /** The field, key or flag the message must name; null when there is none (a YAML syntax error, a damaged journal line). */
    field: z.string().min(1).nullable(),
    /** Further text the message must contain (stderr; stdout too for accepted cases). */
    fragments: z.array(z.string().min(1)).min(1),
  })
  .refine((e) => (e.exit === 0) === (e.accepted !== undefined), { error: 'exit 0 needs `accepted` (and `accepted` needs exit 0)' })
  .refine((e) => e.line === null || e.file !== null, { error: 'a line needs a file' });
export type Expectation = z.infer<typeof expectSchema>;

export interface BadCase {
  readonly name: string;
  readonly dir: string;
  readonly expect: Expectation;
}

/** Every case of the corpus, sorted by folder name; throws on a malformed expect.yaml. */
export function loadCorpus(root = CORPUS): BadCase[] {
  return readdirSync(root, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort()
    .map((name) => {
      const dir = join(root, name);
      const file = join(dir, 'expect.yaml');
      const result = expectSchema.safeParse(parse(readFileSync(file, 'utf8')));
      if (!result.success) throw new Error(`${file}: ${z.prettifyError(result.error)}`);
      return { name, dir, expect: result.data };
    });
}

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `klingrun <argv>` in-process, as bin/klingrun.js would, with a recording io. */
export async function runInProcess(argv: readonly string[], cwd: string, env: Record<string, string> = {}): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const io: CliIO = {
    stdout: (text) => void (stdout += text),
    stderr: (text) => void (stderr += text),
    env,
    cwd,
    isTTY: false,
    confirm: async () => false,
    signal: new AbortController().signal,
  };
  const code = await main(argv, io);
  return { code, stdout, stderr };
}

const expand = (args: readonly string[], dir: string): string[] => args.map((a) => a.split('{dir}').join(dir));

async function applyStep(step: SetupStep, dir: string): Promise<void> {
  if ('copy' in step) {
    mkdirSync(dirname(join(dir, step.to)), { recursive: true });
    cpSync(join(FIXTURES, step.copy), join(dir, step.to));
    if (step.keep_bytes !== undefined) truncateSync(join(dir, step.to), step.keep_bytes);
  } else if ('generate_png' in step) {
    // Random pixels stored without compression: the file is as big as its pixels.
    const side = Math.ceil(Math.sqrt((step.megabytes * 1024 * 1024) / 3)) + 16;
    writeFileSync(join(dir, step.generate_png), makePng({ width: side, height: side, noise: true, level: 0 }));
  } else if ('cli' in step) {
    const result = await runInProcess(expand(step.cli, dir), dir);
    if (result.code !== step.exit) {
      throw new Error(`setup \`klingrun ${step.cli.join(' ')}\` exited ${result.code}, not ${step.exit}:\n${result.stderr}`);
    }
  } else {
    const file = join(dir, step.insert);
    const lines = readFileSync(file, 'utf8').split('\n');
    if (step.line > lines.length) throw new Error(`setup: ${step.insert} has only ${lines.length} line(s)`);
    lines.splice(step.line - 1, 0, step.text);
    writeFileSync(file, lines.join('\n'));
  }
}

/** A temp copy of the case's folder with its setup applied; remove it with `rmSync(dir, { recursive: true })`. */
export async function prepareCase(badCase: BadCase): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), `klingrun-bad-${badCase.name}-`));
  cpSync(badCase.dir, dir, { recursive: true, filter: (src) => !src.endsWith('expect.yaml') });
  for (const step of badCase.expect.setup) await applyStep(step, dir);
  return dir;
}

/** Runs one case end to end in a temp folder, removed afterwards; `inspect` may look at the folder first. */
export async function runCase(badCase: BadCase, inspect?: (dir: string) => Promise<void> | void): Promise<CliResult> {
  const dir = await prepareCase(badCase);
  try {
    const result = await runInProcess(expand(badCase.expect.command, dir), dir, badCase.expect.env);
    await inspect?.(dir);
    return result;
  } finally {
    if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
  }
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Everything wrong with a result against its expectation ([] when it meets it): the exit code,
 * no stack trace, and one error paragraph that names the file, the line (`file:line[:col]` or
 * `file, line N`) and the field; every fragment somewhere in stderr.
 */
export function mismatches(result: CliResult, expect: Expectation): string[] {
  const problems: string[] = [];
  const { stderr } = result;
  if (result.code !== expect.exit) problems.push(`exit code ${result.code}, expected ${expect.exit}`);
  if (STACK_FRAME.test(stderr)) problems.push('stderr holds a stack trace');
  if (/internal error/i.test(stderr)) problems.push('stderr reports an internal error');
  if (expect.exit === 0) {
    if (/^error:/m.test(stderr)) problems.push('an accepted input printed an error');
  } else if (!/^error: /.test(stderr)) {
    problems.push('stderr does not start with `error: `');
  }
  if (expect.file !== null || expect.field !== null) {
    const file = expect.file === null ? '' : escape(expect.file);
    const located =
      expect.line === null ? new RegExp(file) : new RegExp(`${file}(?::${expect.line}(?::\\d+)?\\b|, line ${expect.line}\\b)`);
    const paragraphs = stderr.split(/\n\s*\n/);
    if (!paragraphs.some((p) => located.test(p) && (expect.field === null || p.includes(expect.field)))) {
      const where = [expect.file, expect.line === null ? '' : `line ${expect.line}`, expect.field === null ? '' : `\`${expect.field}\``].filter(Boolean);
      problems.push(`no error paragraph names ${where.join(' + ')}`);
    }
  }
  const output = expect.exit === 0 ? result.stdout + stderr : stderr;
  for (const fragment of expect.fragments) if (!output.includes(fragment)) problems.push(`output lacks ${JSON.stringify(fragment)}`);
  return problems;
}
