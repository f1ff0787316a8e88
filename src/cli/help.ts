// `klingrun --help` and `klingrun <command> --help`, rendered from the command list and each
// command's option table (pure: text in, text out). Given a terminal's width, descriptions wrap at
// word boundaries under their own column; without one (a pipe, the README) each is one line.
import { CACHE_ENV, DEBUG_ENV, KEY_ENV } from './common-options.js';
import { wrapLine } from './fit.js';
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

/** The right column is no narrower than this: below it, a description starts on its own line. */
const MIN_DESCRIPTION = 24;

/** Two columns, the first padded to its widest cell; within `width`, the second wraps under itself. */
function columns(rows: readonly (readonly [string, string])[], width?: number): string[] {
  const left = Math.max(...rows.map(([cell]) => cell.length));
  const indent = ' '.repeat(left + 4);
  return rows.flatMap(([cell, right]) => {
    const line = `  ${cell.padEnd(left)}  ${right}`.trimEnd();
    if (width === undefined || line.length <= width) return [line];
    // Too narrow beside the names: the description goes under its name, indented.
    if (width - indent.length < MIN_DESCRIPTION) return [`  ${cell}`, ...wrapLine(`        ${right}`, width)];
    const [first = '', ...more] = wrapLine(right, width - indent.length);
    return [`  ${cell.padEnd(left)}  ${first}`, ...more.map((l) => `${indent}${l.trimStart()}`)];
  });
}

/** A line of prose within `width`, continuation lines indented. */
const prose = (text: string, width?: number): string[] => (width === undefined ? [text] : wrapLine(text, width));

function optionLeft(name: string, spec: OptionSpec): string {
  const flag = `${spec.short ? `-${spec.short}, ` : '    '}--${name}`;
  return spec.type === 'string' ? `${flag} ${spec.value}` : flag;
}

function optionRight(spec: OptionSpec): string {
  const notes = spec.type === 'string' ? [spec.defaultText === undefined ? '' : `default: ${spec.defaultText}`, spec.env === undefined ? '' : `env: ${spec.env}`, spec.multiple ? 'repeatable' : ''] : [];
  const shown = notes.filter(Boolean);
  return shown.length ? `${spec.description} (${shown.join('; ')})` : spec.description;
}

function exampleLines(examples: readonly Example[], width?: number): string[] {
  return examples.flatMap((example) => [...prose(`  # ${example.description}`, width).map((l, i) => (i ? l.replace(/^ {4}/, '  # ') : l)), ...prose(`  $ ${example.command}`, width)]);
}

/** The option lines of a table, `--help` last. */
export function optionLines(options: OptionTable, width?: number): string[] {
  const rows = [...Object.entries(options), ['help', HELP_OPTION] as const].map(([name, spec]) => [optionLeft(name, spec), optionRight(spec)] as const);
  return columns(rows, width);
}

/** A command's help; `width` (a terminal's) is what its lines fit. */
export function commandHelp(summary: CommandSummary, command: Command, width?: number): string {
  const environment = command.environment ?? [];
  return [
    ...prose(`Usage: ${command.usage}`, width),
    '',
    ...prose(summary.summary, width),
    '',
    'Options:',
    ...optionLines(command.options, width),
    ...(environment.length ? ['', 'Environment:', ...columns(environment.map((e) => [e.name, e.description] as const), width)] : []),
    '',
    'Examples:',
    ...exampleLines(command.examples, width),
  ].join('\n');
}

export function topHelp(commands: readonly CommandSummary[], version: string, width?: number): string {
  return [
    ...prose(`klingrun ${version}: Kling image-to-video batches on CometAPI, resumable, with an offline emulator.`, width),
    '',
    'Usage: klingrun <command> [options]',
    '',
    'Commands:',
    ...columns(commands.map((c) => [c.name, c.summary] as const), width),
    '',
    'Options:',
    ...columns(
      [
        ['-h, --help', 'show this help; `klingrun help <command>` shows one command'],
        ['-v, --version', 'print the version'],
      ],
      width,
    ),
    '',
    'Environment:',
    ...columns(ENVIRONMENT.map((e) => [e.name, e.description] as const), width),
    '',
    'Examples:',
    ...exampleLines(TOP_EXAMPLES, width),
    '',
    ...prose('Run `klingrun <command> --help` for its options and examples.', width),
  ].join('\n');
}
