// Help that teaches, and cannot drift from what the parser accepts: every option of every command
// is in its `--help` (with its description, default and environment variable) and in the README;
// every example parses; unknown commands and options keep their "did you mean".
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';
import { commands } from '../src/cli/commands/index.js';
import type { Command } from '../src/cli/io.js';
import { parseArgsOptions, parseOptions } from '../src/cli/options.js';
import { VERSION } from '../src/version.js';
import { runInProcess } from './helpers/bad-input.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const loaded: [string, Command][] = await Promise.all(commands.map(async (entry) => [entry.name, await entry.load()] as [string, Command]));

/** The arguments of an example command line, after `klingrun <name>`, up to a shell redirect or pipe. */
function exampleArgs(line: string): string[] {
  const words = line.split(/\s+/);
  const end = words.findIndex((word) => word === '>' || word === '|');
  return words.slice(2, end < 0 ? undefined : end);
}

describe('klingrun <command> --help', () => {
  it.each(loaded)('%s: documents every option the parser accepts, with its description, default and environment variable', async (name, command) => {
    const { code, stdout } = await runInProcess([name, '--help'], ROOT);
    expect(code).toBe(0);
    expect(stdout).toContain(`Usage: ${command.usage}\n`);
    const accepted = parseArgsOptions(command.options);
    expect(Object.keys(accepted).length).toBeGreaterThan(0);
    for (const [option, config] of Object.entries(accepted)) {
      const spec = command.options[option];
      if (!spec) throw new Error(`--${option} has no table entry`);
      const line = stdout.split('\n').find((l) => new RegExp(`^\\s+(-\\w, )?--${option}(?![\\w-])`).test(l));
      expect(line, `--${option} in \`klingrun ${name} --help\``).toBeDefined();
      expect(line).toContain(spec.description);
      if (config.short) expect(line).toContain(`-${config.short}, --${option}`);
      if (spec.type === 'string') {
        expect(line).toContain(`--${option} ${spec.value}`);
        if (spec.defaultText !== undefined) expect(line).toContain(`default: ${spec.defaultText}`);
        if (spec.env !== undefined) expect(line).toContain(`env: ${spec.env}`);
      }
    }
    expect(stdout).toMatch(/\n {2}-h, --help +show this help\n/);
  });

  it.each(loaded)('%s: has two or three examples, each a command line its parser accepts', async (name, command) => {
    expect(command.examples.length).toBeGreaterThanOrEqual(2);
    expect(command.examples.length).toBeLessThanOrEqual(3);
    const { stdout } = await runInProcess([name, '--help'], ROOT);
    for (const example of command.examples) {
      expect(example.command === `klingrun ${name}` || example.command.startsWith(`klingrun ${name} `)).toBe(true);
      expect(stdout).toContain(`  # ${example.description}\n  $ ${example.command}\n`);
      expect(() => parseOptions(command.options, exampleArgs(example.command), {})).not.toThrow();
    }
  });

  it('`klingrun help <command>` is `klingrun <command> --help`, and -h works too', async () => {
    for (const [name] of loaded) {
      const help = await runInProcess(['help', name], ROOT);
      expect(help).toEqual(await runInProcess([name, '--help'], ROOT));
      expect(help).toEqual(await runInProcess([name, 'some.yaml', '-h'], ROOT));
    }
  });

  it('shows the environment variables a command reads', async () => {
    const { stdout } = await runInProcess(['run', '--help'], ROOT);
    expect(stdout).toMatch(/\nEnvironment:\n {2}COMETAPI_KEY +your CometAPI key/);
    expect(stdout).toMatch(/--base-url URL +the API's base URL \(default: https:\/\/api\.cometapi\.com; env: COMETAPI_BASE_URL\)/);
  });
});

describe('klingrun --help', () => {
  it('lists every command with its summary, the global options, the environment and examples', async () => {
    const { code, stdout } = await runInProcess(['--help'], ROOT);
    expect(code).toBe(0);
    expect(stdout.startsWith(`klingrun ${VERSION}: `)).toBe(true);
    for (const entry of commands) expect(stdout).toMatch(new RegExp(`\\n {2}${entry.name} +${entry.summary.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\n`));
    expect(stdout).toContain('-v, --version');
    expect(stdout).toMatch(/\nEnvironment:\n {2}COMETAPI_KEY /);
    expect(stdout).toContain('$ klingrun run jobs/example.yaml --emulator --yes');
    expect(await runInProcess(['help'], ROOT)).toEqual({ code: 0, stdout, stderr: '' });
    expect(await runInProcess(['-h'], ROOT)).toEqual({ code: 0, stdout, stderr: '' });
  });

  it('without a command, prints it and exits 2', async () => {
    const result = await runInProcess([], ROOT);
    expect(result.code).toBe(2);
    expect(result.stdout).toContain('Usage: klingrun <command> [options]');
  });

  it('prints the version with --version and -v', async () => {
    expect(await runInProcess(['--version'], ROOT)).toEqual({ code: 0, stdout: `${VERSION}\n`, stderr: '' });
    expect(await runInProcess(['-v'], ROOT)).toEqual({ code: 0, stdout: `${VERSION}\n`, stderr: '' });
  });
});

describe('unknown commands and options', () => {
  it('suggest the closest command, also after `help`', async () => {
    const hint = 'error: Unknown command `vaildate`. Did you mean `validate`? Run `klingrun --help` to see the commands.\n';
    expect(await runInProcess(['vaildate', 'm.yaml'], ROOT)).toEqual({ code: 2, stdout: '', stderr: hint });
    expect(await runInProcess(['help', 'vaildate'], ROOT)).toEqual({ code: 2, stdout: '', stderr: hint });
  });

  it('suggest the closest option of that command and point to its help', async () => {
    const result = await runInProcess(['run', 'jobs/example.yaml', '--concurency', '3'], ROOT);
    expect(result).toEqual({
      code: 2,
      stdout: '',
      stderr: 'error: Unknown option `--concurency` for `klingrun run`. Did you mean `--concurrency`? Usage: klingrun run <manifest> [options]. Run `klingrun run --help` for every option.\n',
    });
    expect((await runInProcess(['validate', 'm.yaml', '--fast'], ROOT)).stderr).toBe(
      'error: Unknown option `--fast` for `klingrun validate`. Usage: klingrun validate <manifest>… [options]. Run `klingrun validate --help` for every option.\n',
    );
  });
});

describe('environment variables of options', () => {
  const run = loaded.find(([name]) => name === 'run')?.[1] as Command;

  it('fill an option left off the command line; the command line wins', () => {
    const env = { COMETAPI_BASE_URL: 'http://127.0.0.1:9' };
    expect(parseOptions(run.options, ['m.yaml'], env).values['base-url']).toBe('http://127.0.0.1:9');
    expect(parseOptions(run.options, ['m.yaml', '--base-url', 'http://localhost:1'], env).values['base-url']).toBe('http://localhost:1');
    expect(parseOptions(run.options, ['m.yaml'], { COMETAPI_BASE_URL: '' }).values['base-url']).toBeUndefined();
  });

  it('reach the command through the CLI', async () => {
    // An invalid URL is refused before any request: the message proves the variable got there.
    const output = mkdtempSync(join(tmpdir(), 'klingrun-help-'));
    onTestFinished(() => rmSync(output, { recursive: true, force: true }));
    const result = await runInProcess(['run', 'jobs/example.yaml', '--yes', '--output', output], ROOT, { COMETAPI_KEY: 'sk-test', COMETAPI_BASE_URL: 'not a url' });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('Expected `COMETAPI_BASE_URL` (the value of `--base-url` when the option is not given) to be an http(s) URL, got `not a url`.');
  });
});

describe('the README', () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

  it.each(loaded)('%s: documents every option in its command-line reference section', (name, command) => {
    const start = readme.indexOf(`### \`klingrun ${name}\`\n`);
    expect(start, `a "### \`klingrun ${name}\`" section`).toBeGreaterThan(0);
    const section = readme.slice(start, readme.indexOf('\n### ', start + 1));
    for (const [option, spec] of Object.entries(command.options)) {
      const row = section.split('\n').find((line) => new RegExp(`^\\| \`(-\\w, )?--${option}[ \`]`).test(line));
      expect(row, `--${option} in the README's ${name} section`).toBeDefined();
      expect(row).toContain(` | ${spec.description.replaceAll('<', '&lt;')} | `);
    }
  });
});
