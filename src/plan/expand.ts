// Manifest → Plan, purely: every job entry × image × matrix combination × repeat becomes one
// planned job (defaults < job entry < combination), checked against the model table, priced,
// identified by a content hash, and collapsed when identical. Images arrive already resolved.
import { API_DEFAULTS } from '../api/schemas.js';
import type { ModelTable, PriceTable } from '../data/tables.js';
import type { InputIssue } from '../errors.js';
import type { ResolvedImages } from '../manifest/images.js';
import { expandMatrix, matrixSpecOf, type Combination, type MatrixResult } from '../manifest/matrix.js';
import { checkRequest, type MergedFields } from '../manifest/rules.js';
import { MAX_COMBINATIONS, REQUEST_FIELDS, type JobEntry, type Manifest, type Matrix } from '../manifest/schema.js';
import { formatPath, type FieldPath, type Source } from '../manifest/source.js';
import { priceJob } from './cost.js';
import { externalTaskId, jobId } from './ids.js';
import { IssueCollector } from './issue-collector.js';
import type { ImageRef, JobRequest, Plan, PlannedJob } from './schema.js';

export interface ExpandContext {
  readonly source: Source;
  readonly images: ResolvedImages;
  readonly models: ModelTable;
  readonly prices: PriceTable;
  /** The manifest's file name, as recorded in the plan. */
  readonly manifestName: string;
}

type Origins = Partial<Record<keyof MergedFields, FieldPath>>;

/** Keys the matrix mentions anywhere: list keys, include and exclude entries, with where. */
function matrixKeys(matrix: Matrix, at: FieldPath): Map<string, FieldPath> {
  const keys = new Map<string, FieldPath>();
  const { include, exclude, ...lists } = matrix;
  for (const key of Object.keys(lists)) keys.set(key, [...at, key]);
  for (const [name, rows] of [['include', include], ['exclude', exclude]] as const) {
    rows?.forEach((row, j) => Object.keys(row).forEach((key) => keys.has(key) || keys.set(key, [...at, name, j, key])));
  }
  return keys;
}

/** A key in both the entry and its matrix would silently collapse combinations: name both places. */
function conflicts(entry: JobEntry, entryPath: FieldPath, matrix: Matrix | undefined, matrixPath: FieldPath, source: Source): InputIssue[] {
  if (!matrix) return [];
  const keys = matrixKeys(matrix, matrixPath);
  return REQUEST_FIELDS.filter((k) => entry[k] !== undefined && keys.has(k)).map((key) => {
    const other = keys.get(key) as FieldPath;
    const line = source.lineOf(other);
    return source.issue(
      [...entryPath, key],
      `\`${key}\` is set both in this job entry and in the matrix that applies to it (\`${formatPath(other)}\`${line ? `, line ${line}` : ''}); the entry's value would override every combination.`,
      'Remove it from one of the two places.',
      'key',
    );
  });
}

function variantText(values: Combination['values']): string {
  const parts = Object.entries(values).map(([k, v]) => `${k}=${v}`);
  return parts.length ? ` with ${parts.join(', ')}` : '';
}

/** Image specs → references, in the request's field order; undefined when an image failed to resolve. */
function withImages(fields: MergedFields, images: ResolvedImages): Omit<JobRequest, 'image'> | undefined {
  const one = (spec: string | undefined) => (spec === undefined ? undefined : images.get(spec)?.[0]);
  const { image_tail, static_mask, dynamic_masks, ...scalars } = fields;
  const masks = dynamic_masks?.map((m) => ({ mask: one(m.mask), trajectories: m.trajectories }));
  if ((image_tail && !one(image_tail)) || (static_mask && !one(static_mask)) || masks?.some((m) => !m.mask)) return undefined;
  return { ...scalars, image_tail: one(image_tail), static_mask: one(static_mask), dynamic_masks: masks as JobRequest['dynamic_masks'] };
}

/** The request with its keys in one fixed order, undefined fields dropped: plan bytes must not vary. */
function ordered(request: JobRequest): JobRequest {
  const out: Record<string, unknown> = {};
  for (const key of REQUEST_ORDER) if (request[key] !== undefined) out[key] = request[key];
  return out as JobRequest;
}
const REQUEST_ORDER = ['model_name', 'mode', 'duration', 'prompt', 'negative_prompt', 'cfg_scale', 'sound', 'callback_url', 'image', 'image_tail', 'static_mask', 'dynamic_masks'] as const;

const describeImage = (ref: ImageRef) => (ref.kind === 'file' ? ref.path : ref.url);

/** Keeps the first of identical jobs and counts the others, per pair of entries, for one warning each. */
class Collapser {
  private readonly seen = new Map<string, { entry: number; image: ImageRef }>();
  private readonly duplicates = new Map<string, { entry: number; first: number; count: number; example: string }>();

  /** True when the job is new; otherwise it is counted as a duplicate. */
  keep(id: string, entry: number, image: ImageRef): boolean {
    const first = this.seen.get(id);
    if (!first) {
      this.seen.set(id, { entry, image });
      return true;
    }
    const key = `${entry}:${first.entry}`;
    const [name, firstName] = [describeImage(image), describeImage(first.image)];
    const example = name === firstName ? `\`${name}\`` : `\`${name}\` has the same content as \`${firstName}\``;
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
 * The provider's defaults made explicit: the plan, the ids and the journal then say exactly what
 * the provider uses, and a change of its defaults can never silently change what an id stands for.
 */
function withApiDefaults(fields: MergedFields, models: ModelTable): MergedFields {
  const model_name = fields.model_name ?? API_DEFAULTS.model_name;
  const takesMode = (models[model_name]?.modes.length ?? 1) > 0;
  return {
    ...fields,
    model_name,
    duration: fields.duration ?? API_DEFAULTS.duration,
    ...(takesMode ? { mode: fields.mode ?? API_DEFAULTS.mode } : {}),
  };
}

/** Expands a validated manifest into its plan; problems come back as issues (the plan is then partial). */
export function expandManifest(manifest: Manifest, ctx: ExpandContext): { plan: Plan; issues: InputIssue[] } {
  const { source, images, models, prices } = ctx;
  const issues = new IssueCollector(source);
  const jobs: PlannedJob[] = [];
  const collapser = new Collapser();
  const expansions = new Map<Matrix | undefined, MatrixResult>();

  manifest.jobs.forEach((entry, i) => {
    const entryPath = ['jobs', i];
    const matrix = entry.matrix ?? manifest.matrix;
    const matrixPath = entry.matrix ? [...entryPath, 'matrix'] : ['matrix'];
    const conflict = conflicts(entry, entryPath, matrix, matrixPath, source);
    if (conflict.length) return issues.add(...conflict);
    let expansion = expansions.get(matrix);
    if (!expansion) expansions.set(matrix, (expansion = expandMatrix(matrixSpecOf(matrix), MAX_COMBINATIONS)));
    if (!expansion.ok) {
      return issues.add(...expansion.problems.map((p) => source.issue([...matrixPath, ...p.path], p.message, p.hint)));
    }

    const { image, repeat = 1, matrix: _ownMatrix, ...entryFields } = entry;
    // Each combination's request (all but the image) is merged, checked and priced once.
    const variants = expansion.combinations.flatMap((combination) => {
      const fields: MergedFields = { ...manifest.defaults, ...entryFields, ...combination.values };
      const origins: Origins = {};
      for (const key of Object.keys(manifest.defaults ?? {})) origins[key as keyof Origins] = ['defaults', key];
      for (const key of Object.keys(entryFields)) origins[key as keyof Origins] = [...entryPath, key];
      for (const [key, at] of Object.entries(combination.origins)) origins[key as keyof Origins] = [...matrixPath, ...at];
      const problems = checkRequest(fields, models);
      for (const p of problems) issues.addRule(origins[p.field] ?? entryPath, p.message, p.hint, `jobs[${i}]${variantText(combination.values)}`);
      const base = problems.length ? undefined : withImages(withApiDefaults(fields, models), images);
      return base ? [{ base, variant: combination.values, cost: priceJob(base as JobRequest, models, prices) }] : [];
    });

    // Images that failed to resolve were reported where they are named.
    for (const spec of typeof image === 'string' ? [image] : image) {
      for (const ref of images.get(spec) ?? []) {
        for (const { base, variant, cost } of variants) {
          const request = ordered({ ...base, image: ref });
          for (let r = 1; r <= repeat; r++) {
            const id = jobId(request, r, manifest.id_salt);
            if (!collapser.keep(id, i, ref)) continue;
            jobs.push({ id, external_task_id: externalTaskId(id), entry: i, repeat: r, repeats: repeat, variant, request, cost_usd: cost });
          }
        }
      }
    }
  });

  const plan: Plan = { version: 1, name: manifest.name, manifest: ctx.manifestName, id_salt: manifest.id_salt, jobs, warnings: collapser.warnings() };
  return { plan, issues: issues.list() };
}
