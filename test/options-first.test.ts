// Every option is checked against its rule in the command's option table before the command
// starts (src/cli/options.ts): a usage error is one line naming the option (or its environment
// variable), the bad value and the fix, exits 2, and leaves no folder or file behind.
import { cpSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXIT } from '../src/cli/exit-codes.js';
import { parseOptions } from '../src/cli/options.js';
import { runCommand } from '../src/cli/commands/run.js';
import { runInProcess } from './helpers/bad-input.js';
import { tempTree } from './helpers/manifest.js';
import { ROOT } from './helpers/reports.js';

/** A project folder with the example manifest, its images, an emulator config and an empty output/, as a user has one. */
function project(): string {
  const dir = tempTree();
  cpSync(join(ROOT, 'jobs'), join(dir, 'jobs'), { recursive: true });
  mkdirSync(join(dir, 'output'));
  writeFileSync(join(dir, 'faults.yaml'), 'rpm: 60\n');
  return dir;
}

/** Every file and folder under `dir`, relative, sorted. */
function listing(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((path) => relative(dir, join(dir, path)))
    .sort();
}

interface BadCase {
  readonly argv: readonly string[];
  readonly env?: Record<string, string>;
  /** The whole of stderr, after `error: `. */
  readonly error: string | RegExp;
}

const KEY = { COMETAPI_KEY: 'sk-test-options-first' };
const URL_FIX = (got: string, url: string) => `to be an http(s) URL, got \`${got}\`. Did you mean \`${url}\`?`;

// `{out}` is a folder the command would create: it must not exist afterwards.
const CASES: Record<string, readonly BadCase[]> = {
  run: [
    { argv: ['run', 'jobs/example.yaml', '--base-url', '127.0.0.1:8787', '--yes', '--output', '{out}'], env: KEY, error: `Expected \`--base-url\` ${URL_FIX('127.0.0.1:8787', 'http://127.0.0.1:8787')}` },
    { argv: ['run', 'jobs/example.yaml', '--base-url', 'api.example.com/v1', '--yes'], env: KEY, error: `Expected \`--base-url\` ${URL_FIX('api.example.com/v1', 'https://api.example.com/v1')}` },
    {
      argv: ['run', 'jobs/example.yaml', '--yes', '--output', '{out}'],
      env: { ...KEY, COMETAPI_BASE_URL: 'localhost:8787' },
      error: `Expected \`COMETAPI_BASE_URL\` (the value of \`--base-url\` when the option is not given) ${URL_FIX('localhost:8787', 'http://localhost:8787')}`,
    },
    {
      argv: ['run', 'jobs/example.yaml', '--base-url', 'ftp://files.example.com', '--yes'],
      env: KEY,
      error: 'Expected `--base-url` to be an http(s) URL, got `ftp://files.example.com`. Give the scheme and the host, e.g. `https://api.cometapi.com` or `http://127.0.0.1:8787`.',
    },
    { argv: ['run', 'jobs/example.yaml', '--emulator', '--yes', '--time-scale', '0'], error: 'Expected `--time-scale` to be a number > 0 (e.g. 0.01 for a provider 100 times faster than real time), got `0`.' },
    { argv: ['run', 'jobs/example.yaml', '--emulator', '--yes', '--rpm', '2.5'], error: 'Expected `--rpm` to be an integer >= 1, got `2.5`.' },
    { argv: ['run', 'jobs/example.yaml', '--emulator', '--yes', '--unit-price', '0'], error: 'Expected `--unit-price` to be a number >= 0.001, got `0`.' },
  ],
  report: [{ argv: ['report', 'jobs/example.yaml', '--html', '--unit-price', 'cheap', '--output', '{out}'], error: 'Expected `--unit-price` to be a number >= 0.001, got `cheap`.' }],
  status: [{ argv: ['status', 'jobs/example.yaml', '--unit-price', '-1'], error: 'Expected `--unit-price` to be a number >= 0.001, got `-1`.' }],
  doctor: [
    { argv: ['doctor', '--base-url', '127.0.0.1:8787'], env: KEY, error: `Expected \`--base-url\` ${URL_FIX('127.0.0.1:8787', 'http://127.0.0.1:8787')}` },
    { argv: ['doctor'], env: { ...KEY, COMETAPI_BASE_URL: 'api.cometapi.com' }, error: `Expected \`COMETAPI_BASE_URL\` (the value of \`--base-url\` when the option is not given) ${URL_FIX('api.cometapi.com', 'https://api.cometapi.com')}` },
  ],
  emulate: [
    { argv: ['emulate', '--profile', 'lve', '--tasks-file', '{out}/tasks.jsonl'], error: 'Expected `--profile` to be one of default, live, got `lve`. Did you mean `live`?' },
    { argv: ['emulate', '--port', '70000'], error: 'Expected `--port` to be an integer >= 0 and <= 65535, got `70000`.' },
    { argv: ['emulate', '--duplicate-external-id', 'rejects'], error: 'Expected `--duplicate-external-id` to be one of reject, return-existing, accept, got `rejects`. Did you mean `reject`?' },
    { argv: ['emulate', '--time-scale', '0'], error: 'Expected `--time-scale` to be a number > 0 (e.g. 0.001: a 3-minute task takes 180 ms), got `0`.' },
    { argv: ['emulate', '--config', 'fault.yaml'], error: 'Expected `--config` to be a path that exists, got `fault.yaml`. Did you mean `faults.yaml`?' },
    { argv: ['emulate', '--tasks-file', 'nowhere/tasks.jsonl'], error: /^Expected `--tasks-file` to be a file in a folder that exists, got `nowhere\/tasks\.jsonl`\. Create \/.*\/nowhere first, or choose another place\.$/ },
  ],
  // The formats grow; the message lists them all.
  export: [
    { argv: ['export', 'jobs/example.yaml', '--format', 'xml', '--copy-to', '{out}'], error: /^Expected `--format` to be one of jsonl, csv(, [\w-]+)*, got `xml`\.$/ },
    { argv: ['export', 'jobs/example.yaml', '--copy-to', '{out}', '--out', 'rows/all.jsonl'], error: /^Expected `--out` to be a file in a folder that exists, got `rows\/all\.jsonl`\. Create \/.*\/rows first, or choose another place\.$/ },
  ],
  plan: [{ argv: ['plan', 'jobs/example.yaml', '--concurrency', '5'], error: 'Unknown option `--concurrency` for `klingrun plan`. Usage: klingrun plan <manifest> [options] | klingrun plan [<manifest>] --check <report.json>. Run `klingrun plan --help` for every option.' }],
};

const rows = Object.entries(CASES).flatMap(([command, cases]) => cases.map((c) => [command, c.argv.slice(1).join(' '), c] as const));

describe('a bad option is refused before any work', () => {
  it.each(rows)('%s %s: one line naming it, exit 2, nothing created', async (_command, _line, badCase) => {
    const dir = project();
    const out = join(dir, 'made-by-the-command');
    // A cache folder inside the project, so `doctor` writing there would show in the listing.
    const env = { KLINGRUN_CACHE_DIR: join(dir, 'cache'), ...badCase.env };
    const before = listing(dir);
    const result = await runInProcess(
      badCase.argv.map((arg) => arg.replace('{out}', out)),
      dir,
      env,
    );
    if (typeof badCase.error === 'string') expect(result.stderr).toBe(`error: ${badCase.error}\n`);
    else expect(result.stderr.replace(/^error: /, '').replace(/\n$/, '')).toMatch(badCase.error);
    expect(result.code).toBe(EXIT.badInput);
    expect(result.stdout).toBe('');
    expect(listing(dir)).toEqual(before);
  });
});

describe('the rules are in the option table', () => {
  it('parseOptions refuses a value its rule does not allow, from the line or the environment', () => {
    expect(() => parseOptions(runCommand.options, ['m.yaml', '--concurrency', 'many'], {})).toThrow('Expected `--concurrency` to be an integer >= 1, got `many`.');
    expect(() => parseOptions(runCommand.options, ['m.yaml'], { COMETAPI_BASE_URL: 'nope' })).toThrow(/^Expected `COMETAPI_BASE_URL` .* got `nope`\./);
    // The command line wins over the environment: a bad variable it overrides does not matter.
    expect(parseOptions(runCommand.options, ['m.yaml', '--base-url', 'http://127.0.0.1:1'], { COMETAPI_BASE_URL: 'nope' }).values['base-url']).toBe('http://127.0.0.1:1');
  });

  it('every numeric option of run has a rule, so none is read unchecked', () => {
    const numeric = ['concurrency', 'rpm', 'budget', 'time-scale', 'poll-interval', 'task-timeout', 'absence-window', 'transit-window', 'request-timeout', 'download-timeout', 'max-video-mb', 'unit-price'] as const;
    for (const name of numeric) expect(runCommand.options[name].rule?.kind, name).toBe('number');
  });
});
