// Validation of a create body as the provider does it: the OpenAPI schema (createTaskBodySchema),
// the image rules, then the model capability table (models, modes, durations, text lengths,
// features and the fields that exclude each other) and the rules between fields (request/checks.ts). Every problem is one sentence naming the field, answered as
// HTTP 400 with code 1201.
import type { z } from 'zod';
import { API_DEFAULTS, createTaskBodySchema } from '../api/schemas.js';
import { capabilityProblems, describeDurations, effectiveMode, featureWorks, modelsWhere } from '../data/capabilities.js';
import type { ModelTable } from '../data/tables.js';
import { checkImage } from './image-check.js';
import { valueAt } from './value-at.js';

/** A body the emulator took: `image` is absent only in an end-frame-only job the model table allows. */
export type ReceivedBody = z.infer<typeof createTaskBodySchema>;
export type Validation = { readonly ok: true; readonly body: ReceivedBody } | { readonly ok: false; readonly message: string };

/** `['dynamic_masks', 0, 'mask']` → `dynamic_masks[0].mask` */
function fieldPath(path: readonly PropertyKey[]): string {
  return path.map((part, i) => (typeof part === 'number' ? `[${part}]` : `${i ? '.' : ''}${String(part)}`)).join('');
}

function schemaProblem(raw: unknown, issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') {
    const where = issue.path.length ? ` in \`${fieldPath(issue.path)}\`` : '';
    return `Unknown field(s)${where}: ${issue.keys.map((k) => `\`${k}\``).join(', ')}`;
  }
  if (issue.path.length === 0) return 'The request body must be a JSON object';
  if (valueAt(raw, issue.path) === undefined) return `Missing required field \`${fieldPath(issue.path)}\``;
  return `Invalid field \`${fieldPath(issue.path)}\`: ${issue.message}`;
}

function imageProblems(body: ReceivedBody): string | undefined {
  const fields: [string, string][] = body.image !== undefined ? [['image', body.image]] : [];
  if (body.image_tail !== undefined) fields.push(['image_tail', body.image_tail]);
  if (body.static_mask !== undefined) fields.push(['static_mask', body.static_mask]);
  body.dynamic_masks?.forEach((m, i) => fields.push([`dynamic_masks[${i}].mask`, m.mask]));
  let source: { width: number; height: number } | undefined;
  for (const [field, value] of fields) {
    const check = checkImage(value);
    if (!check.ok) return `Invalid field \`${field}\`: the image ${check.problem}`;
    if (field === 'image') source = check.size;
    // Masks must match the source image's resolution; only checkable when both came inline.
    else if (field !== 'image_tail' && source && check.size && (check.size.width !== source.width || check.size.height !== source.height)) {
      return `Invalid field \`${field}\`: the mask is ${check.size.width}x${check.size.height} px but \`image\` is ${source.width}x${source.height} px; they must match`;
    }
  }
  return undefined;
}

/**
 * `image` is required, except in an end-frame-only job (`image_tail` alone) on a model, mode and
 * duration whose `end_frame_only` feature the model table allows.
 */
function missingImage(body: ReceivedBody, models: ModelTable): string | undefined {
  if (body.image !== undefined) return undefined;
  if (body.image_tail === undefined) return 'Missing required field `image`';
  const model = body.model_name ?? API_DEFAULTS.model_name;
  const caps = models.models[model];
  const mode = effectiveMode(caps, body.mode);
  if (caps === undefined || featureWorks(caps.end_frame_only, mode, Number(body.duration ?? API_DEFAULTS.duration))) return undefined;
  const where = modelsWhere(models, (c) => c.end_frame_only !== undefined && c.end_frame_only !== false);
  return `Missing required field \`image\`: model \`${model}\`${mode ? ` in mode ${mode}` : ''} takes no end-frame-only job (\`image_tail\` without \`image\`)${where.length ? `; ${where.join(', ')} do, where the model table says` : ''}`;
}

/** The provider's wording of what the model table refuses (the first problem only, as a provider answers). */
function capabilityProblem(body: ReceivedBody, models: ModelTable): string | undefined {
  const [problem] = capabilityProblems(body, models);
  if (!problem) return undefined;
  const model = `Model \`${problem.model}\``;
  switch (problem.kind) {
    case 'unknown_model':
      return `Invalid field \`model_name\`: \`${problem.model}\` is not a model of this service (it offers ${Object.keys(models.models).join(', ')})`;
    case 'no_modes':
      return `${model} has a single quality level: leave out \`mode\` (got \`${problem.mode}\`)`;
    case 'mode':
      return `${model} does not support \`mode\` \`${problem.mode}\` (it takes ${problem.modes.join('/')})`;
    case 'duration':
      return `${model} does not support \`duration\` \`${problem.seconds}\` (it makes ${describeDurations(problem.durations)} s)`;
    case 'too_long':
      return `Invalid field \`${problem.field}\`: ${problem.length} characters; ${model} takes at most ${problem.max}`;
    case 'unsupported':
      return `${model} does not support \`${problem.field}\``;
    case 'feature_mode':
      return `${model} supports \`${problem.field}\` only in mode ${problem.modes.join('/')} (got \`${problem.mode}\`)`;
    case 'feature_duration':
      return `${model} supports \`${problem.field}\` only with duration ${describeDurations(problem.durations)} (got \`${problem.seconds}\`)`;
    case 'feature_type':
      return `${model} supports \`${problem.field}\` only of type ${problem.types.join('/')} (got \`${problem.type}\`)`;
    case 'cross':
      return `Invalid field \`${problem.field}\`: ${problem.message.replace(/\.$/, '')}`;
    case 'excluded': {
      const fields = problem.features.map((f) => `\`${f === 'masks' ? (body.static_mask !== undefined ? 'static_mask' : 'dynamic_masks') : f}\``);
      const sound = problem.features.includes('sound') ? ' (`sound` counts when it is `on`)' : '';
      return `Fields ${fields.join(' and ')} are mutually exclusive on model \`${problem.model}\`${sound}: send one of them`;
    }
  }
}

export function validateCreateBody(raw: unknown, models: ModelTable): Validation {
  const parsed = createTaskBodySchema.safeParse(raw);
  if (!parsed.success) return { ok: false, message: schemaProblem(raw, parsed.error.issues[0] as z.core.$ZodIssue) };
  const body = parsed.data;
  const problem = missingImage(body, models) ?? imageProblems(body) ?? capabilityProblem(body, models);
  return problem ? { ok: false, message: problem } : { ok: true, body };
}
