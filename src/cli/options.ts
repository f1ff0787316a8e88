// The typed option table: each command declares its options once, and util.parseArgs, the help
// text, the environment fallback and the typed readers in args.ts are all derived from it, so help
// and behaviour cannot drift. Adding an option is one entry in the command's `options` (plus the
// line that reads it); test/help.test.ts then requires it in the help and in the README. An
// option's `rule` is checked as the line is parsed, before the command starts: a usage error
// never leaves a folder or a file behind.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { UsageError } from '../errors.js';
import { didYouMean, suggest } from '../manifest/suggest.js';

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
  /** What a value must be; checked before the command runs (parseOptions). */
  readonly rule?: OptionRule;
}

/** A number: `integer`, at least `min`, above `above`, at most `max`; `hint` says what a good value is. */
export interface NumberRule {
  readonly kind: 'number';
  readonly integer?: boolean;
  readonly min?: number;
  readonly above?: number;
  readonly max?: number;
  readonly hint?: string;
}

/** One of a few words. */
export interface ChoiceRule {
  readonly kind: 'choice';
  readonly values: readonly string[];
}

/** An http(s) URL. */
export interface UrlRule {
  readonly kind: 'url';
}

/** A path, from the current folder: one that must exist, or a file to write whose folder must exist. */
export interface PathRule {
  readonly kind: 'path';
  readonly must: 'exist' | 'have-folder';
}

export type OptionRule = NumberRule | ChoiceRule | UrlRule | PathRule;

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

/** Names of the table's options whose rule makes them numbers (checked when parsed). */
export type NumberOptionName<O extends OptionTable> = { [K in keyof O]: O[K] extends { readonly rule: NumberRule } ? K : never }[keyof O] & string;

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
 * left off the command line from their environment variable, when it is set and not empty, and
 * checks every value against its option's rule (a UsageError naming the option or the variable).
 * Paths are checked from `cwd`, when given (the CLI gives it; a parse of an example does not).
 */
export function parseOptions<O extends OptionTable>(table: O, args: readonly string[], env: Readonly<Record<string, string | undefined>>, cwd?: string): ParsedArgs<O> {
  const parsed = parseArgs({ args: [...args], options: parseArgsOptions(table), allowPositionals: true, strict: true });
  const values: Record<string, unknown> = { ...parsed.values };
  const fromEnv = new Set<string>();
  for (const [name, spec] of Object.entries(table)) {
    const value = spec.type === 'string' && spec.env !== undefined ? env[spec.env] : undefined;
    if (values[name] !== undefined || !value) continue;
    values[name] = spec.type === 'string' && spec.multiple ? [value] : value;
    fromEnv.add(name);
  }
  for (const [name, spec] of Object.entries(table)) {
    if (spec.type !== 'string' || spec.rule === undefined) continue;
    const given: unknown = values[name];
    for (const raw of Array.isArray(given) ? given : given === undefined ? [] : [given]) {
      const problem = ruleProblem(spec.rule, String(raw), cwd);
      if (problem === undefined) continue;
      const where = fromEnv.has(name) && spec.env ? `\`${spec.env}\` (the value of \`--${name}\` when the option is not given)` : `\`--${name}\``;
      throw new UsageError(`Expected ${where} to be ${problem.expected}, got \`${String(raw)}\`.${problem.fix ? ` ${problem.fix}` : ''}`);
    }
  }
  return { values: values as OptionValues<O>, positionals: parsed.positionals };
}

/** What is wrong with `raw` under `rule`: what was expected, and a way to fix it when one is known. */
export function ruleProblem(rule: OptionRule, raw: string, cwd?: string): { expected: string; fix?: string } | undefined {
  switch (rule.kind) {
    case 'number':
      return numberProblem(rule, raw);
    case 'choice':
      return rule.values.includes(raw) ? undefined : { expected: `one of ${rule.values.join(', ')}`, fix: didYouMean(raw, rule.values) };
    case 'url':
      return urlProblem(raw);
    case 'path':
      return cwd === undefined ? undefined : pathProblem(rule, raw, cwd);
  }
}

function pathProblem(rule: PathRule, raw: string, cwd: string): { expected: string; fix: string } | undefined {
  const path = resolve(cwd, raw);
  const folder = dirname(path);
  if (rule.must === 'have-folder') {
    return isFolder(folder) ? undefined : { expected: 'a file in a folder that exists', fix: `Create ${folder} first, or choose another place.` };
  }
  if (existsSync(path)) return undefined;
  // `fault.yaml` for `faults.yaml`, `Faults.yaml` on a case-sensitive disk: a near name beside it.
  const near = isFolder(folder) ? suggest(basename(path), readdirSync(folder)) : undefined;
  return { expected: 'a path that exists', fix: near === undefined ? `Nothing is at ${path}.` : `Did you mean \`${join(dirname(raw), near)}\`?` };
}

function isFolder(path: string): boolean {
  return statSync(path, { throwIfNoEntry: false })?.isDirectory() ?? false;
}

function numberProblem(rule: NumberRule, raw: string): { expected: string } | undefined {
  const value = Number(raw);
  const ok =
    raw.trim() !== '' &&
    Number.isFinite(value) &&
    (!rule.integer || Number.isInteger(value)) &&
    (rule.min === undefined || value >= rule.min) &&
    (rule.above === undefined || value > rule.above) &&
    (rule.max === undefined || value <= rule.max);
  if (ok) return undefined;
  const bounds = [
    rule.min !== undefined ? `>= ${rule.min}` : '',
    rule.above !== undefined ? `> ${rule.above}` : '',
    rule.max !== undefined ? `<= ${rule.max}` : '',
  ].filter(Boolean);
  return { expected: `${rule.integer ? 'an integer' : 'a number'}${bounds.length ? ` ${bounds.join(' and ')}` : ''}${rule.hint ? ` (${rule.hint})` : ''}` };
}

/** Hosts on this machine or a private network, which rarely speak TLS: `http://` for them, else `https://`. */
const LOCAL_HOST = /^(localhost|127\.|0\.0\.0\.0|10\.|192\.168\.|\[::1\])/i;

function urlProblem(raw: string): { expected: string; fix: string } | undefined {
  if (URL.canParse(raw) && /^https?:$/.test(new URL(raw).protocol)) return undefined;
  const expected = 'an http(s) URL';
  // `127.0.0.1:8787` or `api.example.com/v1`: the scheme was left off.
  const bare = raw.trim().replace(/^\/+/, '');
  if (/^[\w.-]+(:\d+)?(\/\S*)?$/.test(bare) || /^\[[\d:a-f]+\](:\d+)?/i.test(bare)) {
    const url = `${LOCAL_HOST.test(bare) ? 'http' : 'https'}://${bare}`;
    if (URL.canParse(url)) return { expected, fix: `Did you mean \`${url}\`?` };
  }
  return { expected, fix: 'Give the scheme and the host, e.g. `https://api.cometapi.com` or `http://127.0.0.1:8787`.' };
}
