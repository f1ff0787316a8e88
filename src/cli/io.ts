// What a command may touch of the outside world. main.ts builds the real one; tests build their own.
import type { OptionTable, OptionValues } from './options.js';

export interface CliIO {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  /** Whether stdout is an interactive terminal (progress bars, confirmation prompts). */
  readonly isTTY: boolean;
  /**
   * The terminal's width when stdout is one: tables and bars fit it. Absent for pipes and files.
   * Main's is read when asked (a window may be resized): copy an io with ioWith, not a spread.
   */
  readonly columns?: number | undefined;
  /**
   * Asks a yes/no question on the terminal; only called when isTTY. No answer (Ctrl-D) is no;
   * Ctrl-C or a signal rejects with a KlingrunError of code `interrupted`.
   */
  readonly confirm: (question: string) => Promise<boolean>;
  /** The command's own arguments (after the command name), for the report's reproduce block. */
  readonly argv?: readonly string[];
  /**
   * Aborted on the first Ctrl-C, SIGTERM or SIGHUP, when the command listens to it (it then ends
   * in its own time); a second Ctrl-C or SIGTERM exits at once, as does the first when nothing listens (main.ts).
   */
  readonly signal: AbortSignal;
}

/** The io with some of its fields replaced; its accessors (a live `columns`) stay live, as a spread would not keep them. */
export function ioWith(io: CliIO, changes: Partial<CliIO>): CliIO {
  const replaced = Object.fromEntries(Object.entries(changes).map(([key, value]) => [key, { value, enumerable: true }]));
  return Object.defineProperties({}, { ...Object.getOwnPropertyDescriptors(io), ...replaced }) as CliIO;
}

/** An argument as a POSIX shell reads it back. */
const shellWord = (arg: string): string => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", "'\\''")}'`);

/**
 * The command line that runs klingrun with `args` again, the way the user started it: `npm start`
 * for the demo script, `npx klingrun …` from any other npm script or npx, else `klingrun …`.
 */
export function commandLine(args: readonly string[], env: CliIO['env']): string {
  if (env.npm_lifecycle_event === 'start') return 'npm start';
  const program = env.npm_lifecycle_event ? 'npx klingrun' : 'klingrun';
  return [program, ...args.map(shellWord)].join(' ');
}

/** A command's parsed arguments; `values` is typed by its option table. */
export interface CommandArgs<O extends OptionTable = OptionTable> {
  readonly values: OptionValues<O>;
  readonly positionals: readonly string[];
}

/** One example for `--help` and the README: the command line and what it does. */
export interface Example {
  readonly command: string;
  readonly description: string;
}

/**
 * One command. Its name and one-line summary live in commands/index.ts, so `klingrun --help`
 * lists every command without loading any of them.
 */
export interface Command<O extends OptionTable = OptionTable> {
  /** The synopsis, e.g. `klingrun plan <manifest> [options]`. */
  readonly usage: string;
  /** Every option the command accepts: parsing and help are both generated from it (options.ts). */
  readonly options: O;
  /** Two or three, each a command line the parser accepts (checked by test/help.test.ts). */
  readonly examples: readonly Example[];
  /** Environment variables the command reads beyond its options' own, for help. */
  readonly environment?: readonly { readonly name: string; readonly description: string }[];
  /** Resolves to the exit code. Throws KlingrunError / ProviderError for failures. */
  run(args: CommandArgs<O>, io: CliIO): Promise<number>;
}

/** Declares a command, keeping its option table's literal type for typed option reading. */
export function defineCommand<const O extends OptionTable>(command: Command<O>): Command<O> {
  return command;
}
