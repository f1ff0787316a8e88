// Validation of a create body as the provider does it: the OpenAPI schema (createTaskBodySchema),
// the image rules, mutually exclusive fields, then the model capability table. Every problem is
// one sentence naming the field, answered as HTTP 400 with code 1201.
import type { z } from 'zod';
import { API_DEFAULTS, createTaskBodySchema, type CreateTaskBody } from '../api/schemas.js';
import type { Feature, ModelTable } from '../data/tables.js';
import { checkImage } from './image-check.js';
import { valueAt } from './value-at.js';

export type Validation = { readonly ok: true; readonly body: CreateTaskBody } | { readonly ok: false; readonly message: string };

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

function imageProblems(body: CreateTaskBody): string | undefined {
  const fields: [string, string][] = [['image', body.image]];
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

function featureProblem(model: string, field: string, feature: Feature, mode: string | undefined, duration: string): string | undefined {
  if (feature === false) return `Model \`${model}\` does not support \`${field}\``;
  if (mode !== undefined && !feature.modes.includes(mode as never)) {
    return `Model \`${model}\` supports \`${field}\` only in mode ${feature.modes.join('/')} (got \`${mode}\`)`;
  }
  if (!feature.durations.includes(duration as never)) {
    return `Model \`${model}\` supports \`${field}\` only with duration ${feature.durations.join('/')} (got \`${duration}\`)`;
  }
  return undefined;
}

function capabilityProblem(body: CreateTaskBody, models: ModelTable): string | undefined {
  const model = body.model_name ?? API_DEFAULTS.model_name;
  const caps = models[model];
  if (!caps) return undefined; // a model the table does not describe: nothing to check against
  const duration = body.duration ?? API_DEFAULTS.duration;
  let mode: string | undefined;
  if (caps.modes.length === 0) {
    if (body.mode !== undefined) return `Model \`${model}\` has a single quality level: leave out \`mode\` (got \`${body.mode}\`)`;
  } else {
    mode = body.mode ?? API_DEFAULTS.mode;
    if (!caps.modes.includes(mode as never)) return `Model \`${model}\` does not support \`mode\` \`${mode}\` (it takes ${caps.modes.join('/')})`;
  }
  if (!caps.durations.includes(duration)) return `Model \`${model}\` does not support \`duration\` \`${duration}\``;
  if (body.cfg_scale !== undefined && !caps.cfg_scale) return `Model \`${model}\` does not support \`cfg_scale\``;
  if (body.image_tail !== undefined) {
    const problem = featureProblem(model, 'image_tail', caps.image_tail, mode, duration);
    if (problem) return problem;
    if (caps.image_tail_needs_silence && body.sound === 'on') return `Model \`${model}\` supports \`image_tail\` only with \`sound\` off`;
  }
  for (const field of ['static_mask', 'dynamic_masks'] as const) {
    const problem = body[field] === undefined ? undefined : featureProblem(model, field, caps.masks, mode, duration);
    if (problem) return problem;
  }
  if (body.sound === 'on') return featureProblem(model, 'sound', caps.sound, mode, duration);
  return undefined;
}

export function validateCreateBody(raw: unknown, models: ModelTable): Validation {
  const parsed = createTaskBodySchema.safeParse(raw);
  if (!parsed.success) return { ok: false, message: schemaProblem(raw, parsed.error.issues[0] as z.core.$ZodIssue) };
  const body = parsed.data;
  if (body.image_tail !== undefined && (body.static_mask !== undefined || body.dynamic_masks !== undefined)) {
    const masks = body.static_mask !== undefined ? 'static_mask' : 'dynamic_masks';
    return { ok: false, message: `Fields \`image_tail\` and \`${masks}\` are mutually exclusive: send one of them` };
  }
  const problem = imageProblems(body) ?? capabilityProblem(body, models);
  return problem ? { ok: false, message: problem } : { ok: true, body };
}
