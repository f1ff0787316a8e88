// The CLI as a function: parses the command line, runs one command, maps the outcome to an exit
// code. No side effects at import time, so tests run it in-process with a recording CliIO;
// main.ts is the thin entry that builds the real io and calls it.
import { UsageError } from '../errors.js';
import { didYouMean } from '../manifest/suggest.js';
import { EXIT, exitCodeFor } from './exit-codes.js';
import { formatError } from './format-error.js';
import { commandHelp, topHelp } from './help.js';
import { type CliIO, type Command, ioWith } from './io.js';
import { type CommandEntry, commands } from './commands/index.js';
import { type OptionTable, parseOptions } from './options.js';

const HELP_FLAGS = ['--help', '-h'];

/** util.parseArgs' complaint in our words: an unknown option gets a "did you mean" instead of advice about `--`. */
function argsProblem(error: Error & { code?: string }, entry: CommandEntry, command: Command): string {
  const unknown = error.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? /'(-{1,2}[^']*)'/.exec(error.message)?.[1] : undefined;
  if (unknown === undefined) return `${error.message}.`;
  const hint = didYouMean(unknown.replace(/^-+/, '').replace(/=.*$/, ''), Object.keys(command.options));
  return `Unknown option \`${unknown}\` for \`klingrun ${entry.name}\`.${hint ? ` ${hint.replace(/`([^`]+)`/, '`--$1`')}` : ''}`;
}

/**
 * `--budget -1`: util.parseArgs reads `-1` as an option and refuses the line as ambiguous. A value
 * that reads as a negative number is given to the option before it stands, so the option's own
 * check says what is wrong with it (`Expected \`--budget\` to be a number >= 0, got \`-1\`.`).
 */
function withNegativeValues(options: OptionTable, args: readonly string[]): string[] {
  const takesValue = (arg: string): string | undefined => {
    const name = arg.startsWith('--') ? arg.slice(2) : Object.keys(options).find((key) => arg === `-${options[key]?.short ?? ''}`);
    return name !== undefined && options[name]?.type === 'string' ? name : undefined;
  };
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '--') return [...out, ...args.slice(i)];
    const name = takesValue(arg);
    const next = args[i + 1];
    if (name !== undefined && next !== undefined && /^-(\d|\.\d)/.test(next)) {
      out.push(`--${name}=${next}`);
      i++;
    } else {
      out.push(arg);
    }
  }
  return out;
}

function findCommand(name: string): CommandEntry {
  const entry = commands.find((c) => c.name === name);
  if (entry) return entry;
  const hint = didYouMean(name, commands.map((c) => c.name));
  throw new UsageError(`Unknown command \`${name}\`.${hint ? ` ${hint}` : ''} Run \`klingrun --help\` to see the commands.`);
}

async function version(): Promise<string> {
  return (await import('../version.js')).VERSION;
}

export async function main(argv: readonly string[], io: CliIO): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--version' || name === '-v') {
    io.stdout(`${await version()}\n`);
    return EXIT.ok;
  }
  try {
    // `klingrun help <command>` is `klingrun <command> --help`.
    if (name === 'help' && rest[0] !== undefined) {
      const entry = findCommand(rest[0]);
      io.stdout(commandHelp(entry, await entry.load(), io.columns) + '\n');
      return EXIT.ok;
    }
    if (!name || name === 'help' || HELP_FLAGS.includes(name)) {
      io.stdout(topHelp(commands, await version(), io.columns) + '\n');
      return name ? EXIT.ok : EXIT.badInput;
    }
    const entry = findCommand(name);
    const command = await entry.load();
    if (rest.some((arg) => HELP_FLAGS.includes(arg))) {
      io.stdout(commandHelp(entry, command, io.columns) + '\n');
      return EXIT.ok;
    }
    let parsed;
    try {
      parsed = parseOptions(command.options, withNegativeValues(command.options, rest), io.env, io.cwd);
    } catch (error) {
      // A value its option's rule refuses: the message already names the option and the fix.
      if (error instanceof UsageError) throw error;
      throw new UsageError(`${argsProblem(error as Error & { code?: string }, entry, command)} Usage: ${command.usage}. Run \`klingrun ${entry.name} --help\` for every option.`);
    }
    return await command.run(parsed, ioWith(io, { argv: rest }));
  } catch (error) {
    io.stderr(formatError(error) + '\n');
    return exitCodeFor(error);
  }
}
