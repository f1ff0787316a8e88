// Manifest → Plan, purely: every job entry × image (or table row) × matrix combination × repeat
// becomes one planned job (defaults < job entry and its row < combination), checked against the
// model table, priced, identified by a content hash, and collapsed when identical. Images and
// tables arrive already read and resolved.
import { API_DEFAULTS } from '../api/schemas.js';
import { effectiveMode, endFrameOnlyModels, takesEndFrameOnly } from '../data/capabilities.js';
import type { ModelTable, PriceTable } from '../data/tables.js';
import type { InputIssue } from '../errors.js';
import type { ResolvedImages } from '../manifest/images.js';
import { expandMatrix, matrixKeys, matrixSpecOf, type Combination, type MatrixResult } from '../manifest/matrix.js';
import { checkRequest, type MergedFields } from '../manifest/rules.js';
import { MAX_COMBINATIONS, REQUEST_FIELDS, isEndFrameOnlyEntry, type JobEntry, type Manifest, type Matrix } from '../manifest/schema.js';
import { formatPath, type FieldPath, type Source } from '../manifest/source.js';
import { rowIssues, type TableEntry } from '../manifest/table-rows.js';
import type { TableRow } from '../manifest/table.js';
import { TemplateFiller, emptyPromptCell, knownVariables } from '../manifest/template-fill.js';
import { FIELD_NAMES, FIELDS, IMAGE_FIELDS, fieldText, type FieldName } from '../request/fields.js';
import { priceJob } from './cost.js';
import { externalTaskId, identityAround, jobId } from './ids.js';
import { IssueCollector } from './issue-collector.js';
import type { ImageRef, JobRequest, Plan, PlannedJob } from './schema.js';

export interface ExpandContext {
  readonly source: Source;
  readonly images: ResolvedImages;
  readonly models: ModelTable;
  readonly prices: PriceTable;
  /** The manifest's file name, as recorded in the plan. */
  readonly manifestName: string;
  /** The read rows of each `from:` entry by entry index; an entry missing here had problems, reported already. */
  readonly tables?: ReadonlyMap<number, TableEntry> | undefined;
}

/**
 * A key set both by the entry (or its table's columns) and by its matrix would silently collapse
 * combinations, or silently ignore a column: name both places.
 */
function conflicts(entry: JobEntry, entryPath: FieldPath, table: TableEntry | undefined, matrix: Matrix | undefined, matrixPath: FieldPath, source: Source): InputIssue[] {
  if (!matrix) return [];
  const keys = matrixKeys(matrix, matrixPath);
  const where = (key: string) => {
    const other = keys.get(key) as FieldPath;
    const line = source.lineOf(other);
    return `\`${formatPath(other)}\`${line ? `, line ${line}` : ''}`;
  };
  const fromEntry = REQUEST_FIELDS.filter((k) => entry[k] !== undefined && keys.has(k)).map((key) =>
    source.issue(
      [...entryPath, key],
      `\`${key}\` is set both in this job entry and in the matrix that applies to it (${where(key)}); one of the two values would be silently ignored.`,
      'Remove it from one of the two places.',
      'key',
    ),
  );
  const fromTable = [...(table?.fields ?? [])].filter((k) => keys.has(k)).map((key) => {
    const column = table?.columnOf.get(key) ?? key;
    return source.issue(
      entry.columns?.[key] !== undefined ? [...entryPath, 'columns', key] : [...entryPath, 'from'],
      `\`${key}\` is set both by the column \`${column}\` of ${table?.table.file} and by the matrix that applies to this entry (${where(key)}); the matrix would override the column in every row.`,
      'Remove the column or the matrix key.',
    );
  });
  // A template variable both a column and a matrix key: `{motion}` could mean either.
  const columns = new Set(table?.table.columns ?? []);
  const fromVariables = [...keys.keys()].filter((key) => !(key in FIELDS) && columns.has(key)).map((key) =>
    source.issue(
      [...entryPath, 'from'],
      `\`${key}\` is both a column of ${table?.table.file} and a template variable of the matrix that applies to this entry (${where(key)}); \`{${key}}\` in a prompt could mean either.`,
      'Rename the matrix key or the column.',
    ),
  );
  return [...fromEntry, ...fromTable, ...fromVariables];
}

function variantText(values: Combination['values']): string {
  const parts = Object.entries(values).map(([k, v]) => `${k}=${v !== null && k in FIELDS ? fieldText(k as FieldName, v) : v}`);
  return parts.length ? ` with ${parts.join(', ')}` : '';
}

/** The fields that name images besides `image`, which arrives per unit. */
const OTHER_IMAGES = IMAGE_FIELDS.filter((field): field is Exclude<(typeof IMAGE_FIELDS)[number], 'image'> => field !== 'image');

/** Image specs → references; undefined when an image failed to resolve (reported where it is named). */
function withImages(fields: MergedFields, images: ResolvedImages): Omit<JobRequest, 'image'> | undefined {
  // Most requests have no image besides `image`: nothing to resolve, nothing to copy.
  if (OTHER_IMAGES.every((field) => fields[field] === undefined)) return fields as Omit<JobRequest, 'image'>;
  const out: Record<string, unknown> = { ...fields };
  for (const field of OTHER_IMAGES) {
    const spec = fields[field];
    if (spec === undefined) continue;
    if (FIELDS[field].kind === 'masks') {
      const masks = (spec as NonNullable<MergedFields['dynamic_masks']>).map((m) => ({ mask: images.get(m.mask)?.[0], trajectories: m.trajectories }));
      if (masks.some((m) => !m.mask)) return undefined;
      out[field] = masks;
    } else {
      const ref = images.get(spec as string)?.[0];
      if (!ref) return undefined;
      out[field] = ref;
    }
  }
  return out as Omit<JobRequest, 'image'>;
}

/** Where a unit's images go in the request: `image`, or `image_tail` in an end-frame-only entry. */
type Slot = 'image' | 'image_tail';

/** The request with its image, keys in the registry's fixed order and undefined fields dropped: plan bytes must not vary. */
function withImage(base: Omit<JobRequest, 'image'>, image: ImageRef, slot: Slot): JobRequest {
  const out: Record<string, unknown> = {};
  for (const key of FIELD_NAMES) {
    const value = key === slot ? image : (base as Readonly<Record<string, unknown>>)[key];
    if (value !== undefined) out[key] = value;
  }
  return out as JobRequest;
}

const describeImage = (ref: ImageRef) => (ref.kind === 'file' ? ref.path : ref.url);

/**
 * What one entry contributes before its matrix: an `image:` entry is one unit with all its images;
 * a `from:` entry is one unit per row, with the row's fields, image, name and extra columns.
 */
interface Unit {
  /** Request fields of a table row (none for an `image:` entry). */
  readonly fields: MergedFields;
  readonly images: readonly ImageRef[];
  /** Where `images` go: `image_tail` for an end-frame-only entry, which has no `image`. */
  readonly slot: Slot;
  /** The table row this unit is, for messages. */
  readonly origin?: { readonly table: TableEntry; readonly row: TableRow };
  readonly name?: string | undefined;
  readonly extra?: Readonly<Record<string, string>> | undefined;
}

/** Names a table row in messages, e.g. `data/pairs.csv row 7`. */
const rowLabel = (origin: NonNullable<Unit['origin']>) => `${origin.table.table.file} row ${origin.row.number}`;

/** Names where a job comes from in messages: its table row, or its image. */
const labelOf = (origin: Unit['origin'], ref: ImageRef) => (origin ? rowLabel(origin) : describeImage(ref));

/** An entry's units, made one at a time so that none outlives its jobs (a table may have 100,000). */
function* unitsOf(entry: JobEntry, table: TableEntry | undefined, images: ResolvedImages): Generator<Unit> {
  // Images that failed to resolve were reported where they are named, and make no jobs.
  if (entry.from === undefined) {
    const slot = isEndFrameOnlyEntry(entry) ? 'image_tail' : 'image';
    const named = entry[slot];
    const specs = typeof named === 'string' ? [named] : (named ?? []);
    yield { fields: {}, images: specs.flatMap((spec) => images.get(spec) ?? []), slot };
    return;
  }
  if (!table) return;
  for (const { row, fields, name, extra } of table.jobs) {
    const ref = images.get(fields.image)?.[0];
    // `merge` skips the row's `image`: the image goes in through `images`, so no copy without it.
    yield { fields, images: ref ? [ref] : [], slot: 'image', origin: { table, row }, name, extra };
  }
}

/** Keeps the first of identical jobs and counts the others, per pair of entries, for one warning each. */
class Collapser {
  // Only what a warning needs is kept per job: holding whole units would keep every row alive.
  private readonly seen = new Map<string, { entry: number; origin: Unit['origin']; ref: ImageRef }>();
  private readonly duplicates = new Map<string, { entry: number; first: number; count: number; example: string }>();

  /** True when the job is new; otherwise it is counted as a duplicate. */
  keep(id: string, entry: number, origin: Unit['origin'], ref: ImageRef): boolean {
    const first = this.seen.get(id);
    if (!first) {
      this.seen.set(id, { entry, origin, ref });
      return true;
    }
    const key = `${entry}:${first.entry}`;
    const [label, firstLabel] = [labelOf(origin, ref), labelOf(first.origin, first.ref)];
    const example = label === firstLabel ? `\`${label}\`` : `\`${label}\` has the same content as \`${firstLabel}\``;
    const d = this.duplicates.get(key) ?? { entry, first: first.entry, count: 0, example };
    d.count += 1;
    this.duplicates.set(key, d);
    return false;
  }

  warnings(): string[] {
    return [...this.duplicates.values()].map(({ entry, first, count, example }) => {
      const of = entry === first ? 'other jobs of the same entry' : `jobs of jobs[${first}]`;
      return `jobs[${entry}]: ${count} job(s) are identical to ${of} (same request, image content and repeat; e.g. ${example}), so each is planned once.`;
    });
  }
}

/**
 * The layers merged, later ones winning; a null (from a zip) leaves the field out altogether. A
 * table row's `image` is not a request field here: it arrives as the unit's image.
 */
function merge(...layers: readonly (Readonly<Record<string, unknown>> | undefined)[]): MergedFields {
  const out: Record<string, unknown> = {};
  for (const layer of layers) {
    for (const key in layer) {
      // A matrix key that is no field is a template variable: it fills prompts, it is not sent.
      if (key === 'image' || !(key in FIELDS)) continue;
      const value = layer[key];
      if (value === null) delete out[key];
      else if (value !== undefined) out[key] = value;
    }
  }
  return out as MergedFields;
}

/**
 * An end-frame-only request on a model, mode or duration the table does not take it in: the
 * problem, at the entry's `image_tail`, naming the models that do; undefined when it is taken.
 */
function endFrameProblem(fields: MergedFields, models: ModelTable): { message: string; hint: string } | undefined {
  if (takesEndFrameOnly(fields, models)) return undefined;
  const model = fields.model_name ?? API_DEFAULTS.model_name;
  const mode = effectiveMode(models.models[model], fields.mode);
  const where = endFrameOnlyModels(models);
  const takers = where.length ? `${where.join(' and ')} do` : 'no model of the table does';
  return {
    message: `this entry has \`image_tail\` without \`image\` (an end-frame-only job), which ${model}${mode ? ` in ${mode} mode` : ''}${fields.duration ? ` for ${fields.duration} s` : ''} does not take; ${takers}.`,
    hint: `${where.length ? 'Use one of those models and modes, or give' : 'Give'} the entry an \`image\` as its first frame.`,
  };
}

/**
 * The provider's defaults made explicit: the plan, the ids and the journal then say exactly what
 * the provider uses, and a change of its defaults can never silently change what an id stands for.
 */
function withApiDefaults(fields: MergedFields, models: ModelTable): MergedFields {
  const model_name = fields.model_name ?? API_DEFAULTS.model_name;
  const mode = effectiveMode(models.models[model_name], fields.mode);
  return { ...fields, model_name, duration: fields.duration ?? API_DEFAULTS.duration, ...(mode !== undefined ? { mode } : {}) };
}

/**
 * A planned job, its keys in the plan's fixed order (the plan's bytes, and so `plan_sha256`, depend
 * on it). One literal per shape, not spread nor added to: a property added after a literal costs
 * an array of its own (40 bytes), and a run holds every job of a 100,000-row table.
 */
function plannedJob(id: string, entry: number, repeat: number, repeats: number, variant: Combination['values'], request: JobRequest, unit: Unit, cost_usd: number | null): PlannedJob {
  const external_task_id = externalTaskId(id);
  const { name, extra } = unit;
  if (name === undefined && extra === undefined) return { id, external_task_id, entry, repeat, repeats, variant, request, cost_usd };
  if (extra === undefined) return { id, external_task_id, entry, repeat, repeats, variant, request, name, cost_usd };
  if (name === undefined) return { id, external_task_id, entry, repeat, repeats, variant, request, extra, cost_usd };
  return { id, external_task_id, entry, repeat, repeats, variant, request, name, extra, cost_usd };
}

/** Expands a validated manifest into its plan; problems come back as issues (the plan is then partial). */
export function expandManifest(manifest: Manifest, ctx: ExpandContext): { plan: Plan; issues: InputIssue[] } {
  const { source, images, models, prices } = ctx;
  const issues = new IssueCollector(source);
  const jobs: PlannedJob[] = [];
  const collapser = new Collapser();
  const expansions = new Map<Matrix | undefined, MatrixResult>();
  const warnings: string[] = [];
  const filler = new TemplateFiller(source, issues);

  manifest.jobs.forEach((entry, i) => {
    const entryPath = ['jobs', i];
    const table = ctx.tables?.get(i);
    if (table) warnings.push(...table.warnings);
    const matrix = entry.matrix ?? manifest.matrix;
    const matrixPath = entry.matrix ? [...entryPath, 'matrix'] : ['matrix'];
    const conflict = conflicts(entry, entryPath, table, matrix, matrixPath, source);
    if (conflict.length) return issues.add(...conflict);
    let expansion = expansions.get(matrix);
    if (!expansion) expansions.set(matrix, (expansion = expandMatrix(matrixSpecOf(matrix), MAX_COMBINATIONS)));
    if (!expansion.ok) {
      return issues.add(...expansion.problems.map((p) => source.issue([...matrixPath, ...p.path], p.message, p.hint)));
    }
    const { combinations } = expansion;
    const known = knownVariables(matrix ? matrixKeys(matrix, matrixPath).keys() : [], table);

    const { image: _image, from: _from, columns: _columns, where: _where, repeat = 1, matrix: _ownMatrix, ...entryFields } = entry;
    const originOf = (field: keyof MergedFields, combination: Combination): FieldPath => {
      const inMatrix = combination.origins[field];
      if (inMatrix) return [...matrixPath, ...inMatrix];
      if (entryFields[field] !== undefined) return [...entryPath, field];
      return manifest.defaults?.[field] !== undefined ? ['defaults', field] : entryPath;
    };

    for (const unit of unitsOf(entry, table, images)) {
      // Each combination's request (all but the image) is merged, checked and priced once per unit.
      const variants = combinations.flatMap((combination) => {
        const context = () => `${unit.origin ? `jobs[${i}] ${rowLabel(unit.origin)}` : `jobs[${i}]`}${variantText(combination.values)}`;
        const job = { values: combination.values, origin: unit.origin, rowFields: unit.fields, originOf: (field: keyof MergedFields) => originOf(field, combination), context, entry: `jobs[${i}]` };
        const fields = filler.fill(merge(manifest.defaults, entryFields, unit.fields, combination.values), job, known);
        if (!fields) return [];
        const empty = emptyPromptCell(fields, unit.origin);
        if (empty) {
          issues.add(empty);
          return [];
        }
        const problems = checkRequest(fields, models);
        const endFrame = unit.slot === 'image_tail' && problems.length === 0 ? endFrameProblem(fields, models) : undefined;
        if (endFrame) issues.addRule([...entryPath, 'image_tail'], endFrame.message, endFrame.hint, `jobs[${i}]${variantText(combination.values)}`);
        for (const p of problems) {
          const variant = variantText(combination.values);
          if (unit.origin && unit.fields[p.field] !== undefined) {
            // The row's own value breaks the rule: point at its cell.
            const message = variant ? `${p.message.replace(/\.$/, '')} (${variant.trim()}).` : p.message;
            issues.add(rowIssues(unit.origin.table, unit.origin.row).issue([p.field], message, p.hint));
          } else {
            issues.addRule(originOf(p.field, combination), p.message, p.hint, context());
          }
        }
        if (problems.length || endFrame) return [];
        // An end-frame-only entry's `image_tail` names the unit's images: each job gets one of them.
        const own = unit.slot === 'image_tail' ? { ...fields, image_tail: undefined } : fields;
        const base = withImages(withApiDefaults(own, models), images);
        return base ? [{ base, variant: combination.values, cost: priceJob(base as JobRequest, models, prices), identity: identityAround(base, unit.slot) }] : [];
      });
      for (const ref of unit.images) {
        for (const { base, variant, cost, identity: identityWith } of variants) {
          const request = withImage(base, ref, unit.slot);
          const identity = identityWith(ref);
          for (let r = 1; r <= repeat; r++) {
            const id = jobId(request, r, manifest.id_salt, identity);
            if (!collapser.keep(id, i, unit.origin, ref)) continue;
            jobs.push(plannedJob(id, i, r, repeat, variant, request, unit, cost));
          }
        }
      }
    }
  });

  // A table read by several entries warns once.
  const plan: Plan = { version: 1, name: manifest.name, manifest: ctx.manifestName, id_salt: manifest.id_salt, jobs, warnings: [...new Set(warnings), ...collapser.warnings()] };
  return { plan, issues: issues.list() };
}
