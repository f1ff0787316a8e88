// Typed readers for parsed command-line options, with messages that echo the bad value.
import { UsageError } from '../errors.js';
import type { CommandArgs } from './io.js';
import { type NumberOptionName, type NumberRule, type OptionName, type OptionTable, ruleProblem } from './options.js';

const NUMBER: NumberRule = { kind: 'number' };

// The name parameters are typed by the command's option table: reading an undeclared option is a
// compile error, so every option the code reads is one its help documents.

export function stringOption<O extends OptionTable>(args: CommandArgs<O>, name: OptionName<O, 'string'>): string | undefined {
  const value: unknown = args.values[name];
  return typeof value === 'string' ? value : undefined;
}

export function booleanOption<O extends OptionTable>(args: CommandArgs<O>, name: OptionName<O, 'boolean'>): boolean {
  return args.values[name] === true;
}

/**
 * A numeric option, e.g. `--concurrency 5`; undefined when absent. Its bounds are its rule in the
 * option table, checked when the line was parsed (options.ts); here a value is only read.
 */
export function numberOption<O extends OptionTable>(args: CommandArgs<O>, name: NumberOptionName<O>): number | undefined {
  const raw: unknown = args.values[name];
  if (typeof raw !== 'string') return undefined;
  // A command run without parseOptions (as tests may) still never gets NaN.
  const problem = ruleProblem(NUMBER, raw);
  if (problem) throw new UsageError(`Expected \`--${name}\` to be ${problem.expected}, got \`${raw}\`.`);
  return Number(raw);
}

/** Exactly `count` positional arguments, named for the message. */
export function positionals(args: Pick<CommandArgs, 'positionals'>, names: readonly string[], usage: string): string[] {
  if (args.positionals.length !== names.length) {
    throw new UsageError(
      `Expected ${names.map((n) => `<${n}>`).join(' ')}, got ${args.positionals.length} argument(s). Usage: ${usage}`,
    );
  }
  return [...args.positionals];
}
