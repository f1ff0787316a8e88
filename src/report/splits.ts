// Splits of a dataset export (train/test…), for `--format hf` and `--format webdataset`: by a
// column's value (`--split-by category`) or by a seeded ratio (`--split train=0.9,test=0.1`). A
// ratio split draws each clip's split from its job id and the seed alone, so a clip keeps its split
// when the batch grows or another subset is exported, and the same seed gives the same split.
import { InputError, UsageError } from '../errors.js';
import { sha256Hex } from '../plan/ids.js';
import { type ExportRow, columnsOf } from './export.js';
import { cellText, checkColumn } from './where.js';

export type SplitRule =
  | { readonly kind: 'column'; readonly column: string }
  | { readonly kind: 'ratio'; readonly parts: readonly (readonly [name: string, fraction: number])[]; readonly seed: number };

/** Every clip in `train` when no rule is given. */
export const DEFAULT_SPLIT = 'train';

/** Hugging Face's rule for a split name: letters, digits, `_` (ASCII here), dots between parts. */
const SPLIT_NAME = /^\w+(\.\w+)*$/;

/** Folders a split may not take: the dataset's own. */
const RESERVED = new Set(['images']);

/** `train=0.9,test=0.1`: names and fractions that add up to 1. */
export function parseRatio(text: string): readonly (readonly [string, number])[] {
  const parts = text.split(',').map((part) => part.trim()).filter(Boolean).map((part) => {
    const [name = '', fraction = ''] = part.split('=').map((s) => s.trim());
    const value = Number(fraction);
    if (!SPLIT_NAME.test(name) || RESERVED.has(name) || fraction === '' || !(value > 0 && value <= 1)) {
      throw new UsageError(`Expected \`--split\` to be NAME=FRACTION pairs that add up to 1, e.g. \`train=0.9,test=0.1\` (names of letters, digits and _, not \`images\`), got \`${text}\`.`);
    }
    return [name, value] as const;
  });
  const total = parts.reduce((sum, [, value]) => sum + value, 0);
  const names = new Set(parts.map(([name]) => name));
  if (parts.length === 0 || Math.abs(total - 1) > 1e-9 || names.size !== parts.length) {
    throw new UsageError(`Expected \`--split\` to name each split once with fractions that add up to 1, e.g. \`train=0.9,test=0.1\`, got \`${text}\` (they add up to ${Number(total.toFixed(6))}).`);
  }
  return parts;
}

/** A uniform draw in [0, 1) from the seed and the job id alone. */
function draw(seed: number, jobId: string): number {
  return parseInt(sha256Hex(`${seed}\n${jobId}`).slice(0, 13), 16) / 2 ** 52;
}

/** A column's value as a split name: runs of other characters become `_`. */
export function splitNameOf(value: string): string {
  return value.replace(/[^A-Za-z0-9_]+/g, '_').replace(/^_+|_+$/g, '');
}

function byColumn(rows: readonly ExportRow[], column: string): Map<string, string> {
  checkColumn(column, columnsOf(rows), `--split-by ${column}`);
  const splits = new Map<string, string>();
  const origin = new Map<string, string>();
  for (const row of rows) {
    const value = cellText(row[column]);
    const name = splitNameOf(value);
    if (name === '' || RESERVED.has(name)) {
      const why = value === '' ? `has no value in \`${column}\`` : `has \`${column}\` = \`${value}\`, which cannot name a split folder`;
      throw new InputError('input_invalid', `Cannot split by \`${column}\`: clip ${String(row.job_id)} ${why}. Leave such clips out with \`--where ${column}!=${value}\`, or split by another column or by ratio (\`--split train=0.9,test=0.1\`).`);
    }
    const seen = origin.get(name);
    if (seen !== undefined && seen !== value) {
      throw new InputError('input_invalid', `Cannot split by \`${column}\`: its values \`${seen}\` and \`${value}\` both make the split name \`${name}\`. Rename one in the table, or split by another column.`);
    }
    origin.set(name, value);
    splits.set(String(row.job_id), name);
  }
  return splits;
}

/** The split of every row, by job id. */
export function splitsOf(rows: readonly ExportRow[], rule: SplitRule | undefined): Map<string, string> {
  if (rule === undefined) return new Map(rows.map((row) => [String(row.job_id), DEFAULT_SPLIT]));
  if (rule.kind === 'column') return byColumn(rows, rule.column);
  return new Map(rows.map((row) => {
    const u = draw(rule.seed, String(row.job_id));
    let edge = 0;
    // The last split takes what rounding leaves, so every draw lands somewhere.
    const part = rule.parts.find(([, fraction]) => u < (edge += fraction)) ?? rule.parts[rule.parts.length - 1]!;
    return [String(row.job_id), part[0]];
  }));
}

/** How the splits were made, for the dataset card. */
export function describeRule(rule: SplitRule | undefined): string {
  if (rule === undefined) return `one split, \`${DEFAULT_SPLIT}\``;
  if (rule.kind === 'column') return `by the value of column \`${rule.column}\``;
  return `at random by ratio (${rule.parts.map(([name, f]) => `${name}=${f}`).join(', ')}), drawn from each job id with seed ${rule.seed}`;
}
