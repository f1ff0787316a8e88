// `klingrun --help` and `klingrun <command> --help`, rendered from the command list and each
// command's option table (pure: text in, text out).
import { CACHE_ENV, DEBUG_ENV, KEY_ENV } from './common-options.js';
import type { Command, Example } from './io.js';
import { HELP_OPTION, type OptionSpec, type OptionTable } from './options.js';

/** What the top-level help knows of a command without loading it. */
export interface CommandSummary {
  readonly name: string;
  readonly summary: string;
}

/** Variables klingrun reads, for the top-level help. */
export const ENVIRONMENT = [
  KEY_ENV,
  { name: 'COMETAPI_BASE_URL', description: 'the API base URL when `--base-url` (of `run` and `doctor`) is not given' },
  CACHE_ENV,
  DEBUG_ENV,
] as const;

const TOP_EXAMPLES: readonly Example[] = [
  { command: 'klingrun validate jobs/*.yaml', description: 'check manifests without calling the API' },
  { command: 'klingrun run jobs/example.yaml --emulator --yes', description: 'the demo: 8 jobs against the built-in emulator, offline' },
  { command: 'klingrun help run', description: 'every option of one command, with examples' },
];

/** Two columns, the first padded to its widest cell. */
function columns(rows: readonly (readonly [string, string])[]): string[] {
  const width = Math.max(...rows.map(([left]) => left.length));
  return rows.map(([left, right]) => `  ${left.padEnd(width)}  ${right}`.trimEnd());
}

function optionLeft(name: string, spec: OptionSpec): string {
  const flag = `${spec.short ? `-${spec.short}, ` : '    '}--${name}`;
  return spec.type === 'string' ? `${flag} ${spec.value}` : flag;
}

function optionRight(spec: OptionSpec): string {
  const notes = spec.type === 'string' ? [spec.defaultText === undefined ? '' : `default: ${spec.defaultText}`, spec.env === undefined ? '' : `env: ${spec.env}`, spec.multiple ? 'repeatable' : ''] : [];
  const shown = notes.filter(Boolean);
  return shown.length ? `${spec.description} (${shown.join('; ')})` : spec.description;
}

function exampleLines(examples: readonly Example[]): string[] {
  return examples.flatMap((example) => [`  # ${example.description}`, `  $ ${example.command}`]);
}

/** The option lines of a table, `--help` last. */
export function optionLines(options: OptionTable): string[] {
  const rows = [...Object.entries(options), ['help', HELP_OPTION] as const].map(([name, spec]) => [optionLeft(name, spec), optionRight(spec)] as const);
  return columns(rows);
}

export function commandHelp(summary: CommandSummary, command: Command): string {
  const environment = command.environment ?? [];
  return [
    `Usage: ${command.usage}`,
    '',
    summary.summary,
    '',
    'Options:',
    ...optionLines(command.options),
    ...(environment.length ? ['', 'Environment:', ...columns(environment.map((e) => [e.name, e.description] as const))] : []),
    '',
    'Examples:',
    ...exampleLines(command.examples),
  ].join('\n');
}

export function topHelp(commands: readonly CommandSummary[], version: string): string {
  return [
    `klingrun ${version}: Kling image-to-video batches on CometAPI, resumable, with an offline emulator.`,
    '',
    'Usage: klingrun <command> [options]',
    '',
    'Commands:',
    ...columns(commands.map((c) => [c.name, c.summary] as const)),
    '',
    'Options:',
    ...columns([
      ['-h, --help', 'show this help; `klingrun help <command>` shows one command'],
      ['-v, --version', 'print the version'],
    ]),
    '',
    'Environment:',
    ...columns(ENVIRONMENT.map((e) => [e.name, e.description] as const)),
    '',
    'Examples:',
    ...exampleLines(TOP_EXAMPLES),
    '',
    'Run `klingrun <command> --help` for its options and examples.',
  ].join('\n');
}
