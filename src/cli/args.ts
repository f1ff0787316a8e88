// Typed readers for parsed command-line options, with messages that echo the bad value.
import { UsageError } from '../errors.js';
import type { CommandArgs } from './io.js';
import type { OptionName, OptionTable } from './options.js';

// The name parameters are typed by the command's option table: reading an undeclared option is a
// compile error, so every option the code reads is one its help documents.

export function stringOption<O extends OptionTable>(args: CommandArgs<O>, name: OptionName<O, 'string'>): string | undefined {
  const value: unknown = args.values[name];
  return typeof value === 'string' ? value : undefined;
}

export function booleanOption<O extends OptionTable>(args: CommandArgs<O>, name: OptionName<O, 'boolean'>): boolean {
  return args.values[name] === true;
}

/** A numeric option, e.g. `--concurrency 5`; undefined when absent. */
export function numberOption<O extends OptionTable>(
  args: CommandArgs<O>,
  name: OptionName<O, 'string'>,
  rule: { integer?: boolean; min?: number; max?: number } = {},
): number | undefined {
  const raw = stringOption(args, name);
  if (raw === undefined) return undefined;
  const value = Number(raw);
  const kind = rule.integer ? 'an integer' : 'a number';
  const bounds = [rule.min !== undefined ? `>= ${rule.min}` : '', rule.max !== undefined ? `<= ${rule.max}` : ''].filter(Boolean).join(' and ');
  const ok =
    raw.trim() !== '' &&
    Number.isFinite(value) &&
    (!rule.integer || Number.isInteger(value)) &&
    (rule.min === undefined || value >= rule.min) &&
    (rule.max === undefined || value <= rule.max);
  if (!ok) throw new UsageError(`Expected \`--${name}\` to be ${kind}${bounds ? ` ${bounds}` : ''}, got \`${raw}\`.`);
  return value;
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
