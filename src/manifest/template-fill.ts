// Filling one job's prompt templates during expansion, with every problem located: a malformed or
// unknown `{variable}` at its place in the manifest, an empty cell a prompt needs at its row and
// column, a prompt that fills to nothing naming its row. A job without a prompt costs as much as
// one with, so none is planned on a guess.
import type { InputIssue } from '../errors.js';
import { FIELDS, fieldText, type FieldName } from '../request/fields.js';
import type { MatrixValue } from './matrix.js';
import type { MergedFields } from './rules.js';
import { formatPath, type FieldPath, type Source } from './source.js';
import { didYouMean } from './suggest.js';
import { cellText, type TableEntry } from './table-rows.js';
import type { TableRow } from './table.js';
import { TEMPLATE_FIELDS, fillTemplate, parseTemplate, type Template, type TemplateField } from './template.js';

/** Where problems go: located issues, and rule-like ones said once for every job they apply to. */
export interface FillReport {
  add(...issues: InputIssue[]): void;
  addRule(path: FieldPath, message: string, hint: string | undefined, context: string): void;
}

/** One job's side of a fill: its matrix values, its row, where its fields are written, how to name it. */
export interface FillJob {
  readonly values: Readonly<Record<string, MatrixValue>>;
  readonly origin?: { readonly table: TableEntry; readonly row: TableRow } | undefined;
  /** The fields the table row sets: they are data, never templates. */
  readonly rowFields: Readonly<Record<string, unknown>>;
  readonly originOf: (field: TemplateField) => FieldPath;
  /** E.g. `jobs[0] data/clips.csv row 3 with motion=dolly in`; made only for a message. */
  readonly context: () => string;
  /** The entry's name in messages, `jobs[0]`. */
  readonly entry: string;
}

const valueText = (name: string, value: MatrixValue): string => {
  if (value === null) return '';
  if (typeof value !== 'object') return String(value);
  return name in FIELDS ? fieldText(name as FieldName, value) : JSON.stringify(value);
};

/** The variables an entry has: its matrix keys (`keys`), then its table's columns. */
export function knownVariables(keys: Iterable<string>, table: TableEntry | undefined): string[] {
  return [...new Set([...keys, ...(table?.table.columns ?? [])])];
}

export class TemplateFiller {
  private readonly templates = new Map<string, Template>();

  constructor(
    private readonly source: Source,
    private readonly report: FillReport,
  ) {}

  private parse(text: string): Template {
    let template = this.templates.get(text);
    if (!template) this.templates.set(text, (template = parseTemplate(text)));
    return template;
  }

  /**
   * One text filled, or undefined after a problem was reported. `known`: the entry's variables.
   * A `prompt` needs every cell it names: an empty one is reported at its row and column.
   */
  private fillText(text: string, field: TemplateField, job: FillJob, known: readonly string[]): string | undefined {
    const template = this.parse(text);
    const at = job.originOf(field);
    if (!template.ok) {
      this.report.add(this.source.issueAtToken(at, template.token, template.message, template.hint));
      return undefined;
    }
    let ok = true;
    const filled = fillTemplate(template.parts, (name) => {
      if (name in job.values) return valueText(name, job.values[name] as MatrixValue);
      const { origin } = job;
      if (origin && origin.table.table.columns.includes(name)) {
        const cell = cellText(origin.row.cells[name]);
        if (field === 'prompt' && cell.trim() === '') {
          ok = false;
          const message = `\`${name}\` is empty, and the prompt \`${text}\` (${this.where(at)}) needs it: the job would be paid for without its ${name}.`;
          this.report.add(origin.table.table.issue(origin.row.number, message, { column: name }, `Fill the cell, or leave the row out (delete it, or filter the table with \`where\`).`));
        }
        return cell;
      }
      ok = false;
      if (known.includes(name)) {
        this.report.addRule(at, `\`{${name}}\` has no value: only some combinations of the matrix set \`${name}\``, 'Set it in every `include` entry that adds a combination, or leave it out of this prompt.', job.context());
      } else {
        const variables = known.length ? `The variables of ${job.entry}: ${known.join(', ')}.` : `${job.entry} has no variables.`;
        const hint = `${didYouMean(name, known) ?? ''} ${variables} A variable is a column of the entry's table or a key of its matrix; for a literal brace, write \`{{\` or \`}}\`.`.trim();
        const token = template.variables.find((v) => v.name === name)?.token ?? `{${name}}`;
        this.report.add(this.source.issueAtToken(at, token, `unknown variable \`${name}\` in this template of ${job.entry}.`, hint));
      }
      return '';
    });
    if (!ok) return undefined;
    if (filled.trim() === '' && text.trim() !== '') {
      const message = `the template \`${text}\` (${this.where(at)}) fills to empty text; the job would be paid for without a ${field === 'negative_prompt' ? 'negative prompt' : 'prompt'}.`;
      if (job.origin) this.report.add(job.origin.table.table.issue(job.origin.row.number, message.replace(/\.$/, ` (${job.context()}).`), {}, 'Fill the cells it names, or leave the row out.'));
      else this.report.addRule(at, message, 'Give its variables text.', job.context());
      return undefined;
    }
    return filled;
  }

  private where(path: FieldPath): string {
    const line = this.source.lineOf(path);
    return `\`${formatPath(path)}\`${line ? `, line ${line} of ${this.source.file}` : ''}`;
  }

  /** The fields with their templates filled; undefined when a problem was reported. */
  fill(fields: MergedFields, job: FillJob, known: readonly string[]): MergedFields | undefined {
    let out: Record<string, unknown> | undefined;
    for (const field of TEMPLATE_FIELDS) {
      const value = fields[field];
      if (value === undefined || job.rowFields[field] !== undefined) continue;
      let filled: unknown;
      if (field === 'multi_prompt') {
        const shots = (value as NonNullable<MergedFields['multi_prompt']>).map((shot) => ({ ...shot, prompt: this.fillText(shot.prompt, field, job, known) }));
        if (shots.some((shot) => shot.prompt === undefined)) return undefined;
        filled = shots;
      } else {
        filled = this.fillText(value as string, field, job, known);
        if (filled === undefined) return undefined;
        if (filled === value) continue;
      }
      out ??= { ...fields };
      out[field] = filled;
    }
    return (out as MergedFields | undefined) ?? fields;
  }
}

/**
 * A row whose prompt cell is empty (or blank) while nothing else gives its job a prompt: at the
 * cell. An empty cell keeps a prompt of the defaults or the entry, like any other field.
 */
export function emptyPromptCell(fields: MergedFields, origin: FillJob['origin']): InputIssue | undefined {
  const column = origin?.table.columnOf.get('prompt');
  if (!origin || column === undefined || (fields.prompt ?? '').trim() !== '') return undefined;
  return origin.table.table.issue(
    origin.row.number,
    'the prompt is empty, and neither the defaults nor the entry give this job one: a job without a prompt is paid for like any other.',
    { column, field: 'prompt' },
    'Write the prompt in the cell, give the entry or `defaults` a `prompt` for rows without one, or leave the row out (delete it, or filter the table with `where`).',
  );
}
