// The CLI as a function: parses the command line, runs one command, maps the outcome to an exit
// code. No side effects at import time, so tests run it in-process with a recording CliIO;
// main.ts is the thin entry that builds the real io and calls it.
import { parseArgs } from 'node:util';
import { UsageError } from '../errors.js';
import { EXIT, exitCodeFor } from './exit-codes.js';
import { formatError } from './format-error.js';
import type { CliIO, Command } from './io.js';
import { commands } from './commands/index.js';
import { didYouMean } from '../manifest/suggest.js';

function usage(): string {
  const lines = ['Usage: klingrun <command> [options]', '', 'Commands:'];
  for (const command of commands) lines.push(`  ${command.name.padEnd(10)} ${command.summary}`);
  lines.push('', 'Run `klingrun <command> --help` for the options of one command.');
  return lines.join('\n');
}

function commandHelp(command: Command): string {
  const options = Object.entries(command.options).map(([name, o]) => `  --${name}${o.type === 'string' ? ' <value>' : ''}`);
  return [`Usage: ${command.usage}`, '', command.summary, ...(options.length ? ['', 'Options:', ...options] : [])].join('\n');
}

/** util.parseArgs' complaint in our words: an unknown option gets a "did you mean" instead of advice about `--`. */
function argsProblem(error: Error & { code?: string }, command: Command): string {
  const unknown = error.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? /'(-{1,2}[^']*)'/.exec(error.message)?.[1] : undefined;
  if (unknown === undefined) return `${error.message}.`;
  const hint = didYouMean(unknown.replace(/^-+/, '').replace(/=.*$/, ''), Object.keys(command.options));
  return `Unknown option \`${unknown}\` for \`klingrun ${command.name}\`.${hint ? ` ${hint.replace(/`([^`]+)`/, '`--$1`')}` : ''}`;
}

export async function main(argv: readonly string[], io: CliIO): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.stdout(usage() + '\n');
    return name ? EXIT.ok : EXIT.badInput;
  }
  if (name === '--version' || name === '-v') {
    io.stdout(`${(await import('../version.js')).VERSION}\n`);
    return EXIT.ok;
  }
  const command = commands.find((c) => c.name === name);
  try {
    if (!command) {
      const hint = didYouMean(name, commands.map((c) => c.name));
      throw new UsageError(`Unknown command \`${name}\`.${hint ? ` ${hint}` : ''} Run \`klingrun --help\` to see the commands.`);
    }
    if (rest.includes('--help') || rest.includes('-h')) {
      io.stdout(commandHelp(command) + '\n');
      return EXIT.ok;
    }
    let parsed;
    try {
      parsed = parseArgs({ args: [...rest], options: command.options, allowPositionals: true, strict: true });
    } catch (error) {
      throw new UsageError(`${argsProblem(error as Error & { code?: string }, command)} Usage: ${command.usage}`);
    }
    return await command.run(parsed, { ...io, argv: rest });
  } catch (error) {
    io.stderr(formatError(error) + '\n');
    return exitCodeFor(error);
  }
}
