// The typed option table: each command declares its options once, and util.parseArgs, the help
// text, the environment fallback and the typed readers in args.ts are all derived from it, so help
// and behaviour cannot drift. Adding an option is one entry in the command's `options` (plus the
// line that reads it); test/help.test.ts then requires it in the help and in the README.
import { type ParseArgsConfig, parseArgs } from 'node:util';

interface OptionBase {
  /** One line for `--help`: lower case, no final period. */
  readonly description: string;
  /** A one-letter alias, e.g. `y` for `-y`. */
  readonly short?: string;
}

export interface StringOptionSpec extends OptionBase {
  readonly type: 'string';
  /** The value's name in help and usage: `--concurrency N`. */
  readonly value: string;
  /** What applies when the option is absent, as help shows it. The command applies it; this only documents it. */
  readonly defaultText?: string;
  /** An environment variable used when the option is not on the command line. */
  readonly env?: string;
  /** May be given several times; the values arrive as a list. */
  readonly multiple?: boolean;
}

export interface BooleanOptionSpec extends OptionBase {
  readonly type: 'boolean';
}

export type OptionSpec = StringOptionSpec | BooleanOptionSpec;
export type OptionTable = Readonly<Record<string, OptionSpec>>;

type ValueOf<S extends OptionSpec> = S extends { type: 'boolean' } ? boolean : S extends { multiple: true } ? string[] : string;

/** Parsed values, typed by the table: a reader can only ask for an option the command declares. */
export type OptionValues<O extends OptionTable> = { readonly [K in keyof O]?: ValueOf<O[K]> };

/** Names of the table's options of one type. */
export type OptionName<O extends OptionTable, T extends OptionSpec['type']> = { [K in keyof O]: O[K]['type'] extends T ? K : never }[keyof O] & string;

/** Every command has these, handled before its own options are parsed. */
export const HELP_OPTION: BooleanOptionSpec = { type: 'boolean', short: 'h', description: 'show this help' };

/** The table as util.parseArgs options (only the keys parseArgs knows). */
export function parseArgsOptions(table: OptionTable): NonNullable<ParseArgsConfig['options']> {
  return Object.fromEntries(
    Object.entries(table).map(([name, spec]) => [
      name,
      { type: spec.type, ...(spec.short === undefined ? {} : { short: spec.short }), ...(spec.type === 'string' && spec.multiple ? { multiple: true } : {}) },
    ]),
  );
}

export interface ParsedArgs<O extends OptionTable> {
  readonly values: OptionValues<O>;
  readonly positionals: readonly string[];
}

/**
 * Parses a command's arguments strictly (util.parseArgs' own errors propagate), then fills options
 * left off the command line from their environment variable, when it is set and not empty.
 */
export function parseOptions<O extends OptionTable>(table: O, args: readonly string[], env: Readonly<Record<string, string | undefined>>): ParsedArgs<O> {
  const parsed = parseArgs({ args: [...args], options: parseArgsOptions(table), allowPositionals: true, strict: true });
  const values: Record<string, unknown> = { ...parsed.values };
  for (const [name, spec] of Object.entries(table)) {
    const fromEnv = spec.type === 'string' && spec.env !== undefined ? env[spec.env] : undefined;
    if (values[name] === undefined && fromEnv) values[name] = spec.type === 'string' && spec.multiple ? [fromEnv] : fromEnv;
  }
  return { values: values as OptionValues<O>, positionals: parsed.positionals };
}
