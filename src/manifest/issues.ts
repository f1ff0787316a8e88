// zod issues → located, human issues: each names the field, echoes the bad value and, where
// we can tell, suggests the fix (a "did you mean" for misspelt keys and values).
import { z } from 'zod';
import type { InputIssue } from '../errors.js';
import type { FieldPath, IssueMaker } from './source.js';
import { didYouMean } from './suggest.js';

/** Keys with a dedicated explanation instead of a generic "unknown key". */
const MISPLACED_KEYS: Readonly<Record<string, string>> = {
  external_task_id: 'klingrun sets `external_task_id` itself (kr- + the job id) so that resumed runs never pay twice: remove it.',
  image: '`image` belongs in each `jobs[]` entry (a matrix varies the other fields): move it there.',
};

/** The keys an object schema accepts at `path`, for suggestions; [] when the path leads elsewhere. */
export function knownKeys(schema: z.ZodType, path: FieldPath): string[] {
  let node: z.ZodType | undefined = schema;
  for (let i = 0; node && i <= path.length; ) {
    if (node instanceof z.ZodOptional || node instanceof z.ZodDefault || node instanceof z.ZodNullable) {
      node = node.unwrap() as z.ZodType;
    } else if (node instanceof z.ZodPipe) {
      node = node.in as z.ZodType;
    } else if (node instanceof z.ZodUnion) {
      // Follow the first member that is a list or a map (the image spec unions hold no maps).
      node = (node.options as z.ZodType[]).find((o) => o instanceof z.ZodObject || o instanceof z.ZodArray);
    } else if (i === path.length) {
      break;
    } else if (node instanceof z.ZodArray && typeof path[i] === 'number') {
      node = node.element as z.ZodType;
      i++;
    } else if (node instanceof z.ZodObject && typeof path[i] === 'string') {
      node = (node.shape as Record<string, z.ZodType>)[path[i] as string];
      i++;
    } else if (node instanceof z.ZodRecord) {
      // A table keyed by name (the model table): every value has the same shape.
      node = node.valueType as z.ZodType;
      i++;
    } else {
      return [];
    }
  }
  return node instanceof z.ZodObject ? Object.keys(node.shape) : [];
}

/** zod's type names in the user's words (YAML has lists and maps, not arrays and objects). */
const EXPECTED: Readonly<Record<string, string>> = {
  int: 'a whole number',
  number: 'a number',
  string: 'text',
  array: 'a list',
  object: 'a map of keys',
  boolean: 'true or false',
};

function validKeys(known: readonly string[]): string | undefined {
  return known.length ? `Valid keys here: ${known.join(', ')}.` : undefined;
}

function entries(n: number): string {
  return n === 1 ? '1 entry' : `${n} entries`;
}

function valueAt(data: unknown, path: FieldPath): unknown {
  let value = data;
  for (const part of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string | number, unknown>)[part];
  }
  return value;
}

/** A short, quoted rendering of a bad value with its type, e.g. `` `fast` (string) ``. */
export function describeValue(value: unknown): string {
  if (value === null) return '`null`';
  if (Array.isArray(value)) return `a list of ${value.length}`;
  if (typeof value === 'object') return 'a map';
  const text = String(value);
  const shown = text.length > 40 ? `${text.slice(0, 40)}…` : text;
  return `\`${shown}\` (${typeof value})`;
}

function sizeMessage(issue: z.core.$ZodIssueTooBig | z.core.$ZodIssueTooSmall, value: unknown): string {
  const big = issue.code === 'too_big';
  const limit = Number(big ? issue.maximum : issue.minimum);
  const strict = issue.inclusive === false;
  if (typeof value === 'string') {
    return big ? `is ${value.length} characters long; the limit is ${limit}.` : 'must not be empty.';
  }
  if (Array.isArray(value)) {
    return big ? `has ${entries(value.length)}; at most ${limit} are allowed.` : `has ${entries(value.length)}; at least ${limit} ${limit === 1 ? 'is' : 'are'} needed.`;
  }
  const relation = big ? (strict ? '<' : '≤') : strict ? '>' : '≥';
  return `must be ${relation} ${limit}, got ${describeValue(value)}.`;
}

/** `unknown key` at `path` (its last part the key), with the fix when we can tell; `otherwise` when no key is close. */
export function unknownKeyIssue(source: IssueMaker, path: FieldPath, known: readonly string[], otherwise?: string): InputIssue {
  const key = String(path[path.length - 1]);
  const valid = validKeys(known);
  const fallback = otherwise && valid ? `${valid} ${otherwise}` : (otherwise ?? valid);
  return source.issue(path, `unknown key \`${key}\`.`, MISPLACED_KEYS[key] ?? didYouMean(key, known) ?? fallback, 'key');
}

/** One zod issue as located input issues (an unknown-keys issue becomes one per key). */
export function toInputIssues(issue: z.core.$ZodIssue, source: IssueMaker, data: unknown, schema: z.ZodType): InputIssue[] {
  const path = issue.path as (string | number)[];
  // Checks that write a whole sentence (schema.ts marks them `complete`) are shown as written.
  if (issue.code === 'custom' && issue.params?.['complete'] === true) return [source.issue(path, issue.message)];
  const value = valueAt(data, path);
  if (value === undefined && issue.code !== 'unrecognized_keys') return [source.issue(path, 'is required but missing.')];
  switch (issue.code) {
    case 'unrecognized_keys': {
      const known = knownKeys(schema, path);
      return issue.keys.map((key) => unknownKeyIssue(source, [...path, key], known));
    }
    case 'invalid_type':
      return [source.issue(path, `expected ${EXPECTED[issue.expected] ?? issue.expected}, got ${describeValue(value)}.`)];
    case 'invalid_value': {
      const allowed = issue.values.map(String);
      if (allowed.length === 1) return [source.issue(path, `${issue.message}, got ${describeValue(value)}.`)];
      // `durations: [5]` where the table wants the text "5": say so, instead of "5 is not one of 5, 10".
      const hint = typeof value === 'string' ? didYouMean(value, allowed) : allowed.includes(String(value)) ? `Quote it: "${String(value)}".` : undefined;
      return [source.issue(path, `${describeValue(value)} is not one of ${allowed.join(', ')}.`, hint)];
    }
    case 'too_big':
    case 'too_small':
      return [source.issue(path, sizeMessage(issue, value))];
    default:
      return [source.issue(path, `${issue.message}, got ${describeValue(value)}.`)];
  }
}
