// The rules that span several fields of one request: the API's mutual exclusions and the model
// capability table (src/data/models.yaml). Single-field rules (enums, lengths, ranges) live in
// the zod schema. Each problem names the model, the field and what would work.
import { API_DEFAULTS } from '../api/schemas.js';
import type { Feature, ModelCapability, ModelTable } from '../data/tables.js';
import type { Defaults } from './schema.js';

/** The create-call fields of one job entry × combination, merged (images still as written). */
export type MergedFields = Defaults;

export interface RuleProblem {
  /** The field to point at. */
  readonly field: keyof MergedFields;
  readonly message: string;
  readonly hint?: string;
}

const list = (values: readonly string[]) => values.join(' or ');

function modelsWhere(models: ModelTable, has: (caps: ModelCapability) => boolean): string {
  const names = Object.keys(models).filter((name) => has(models[name] as ModelCapability));
  return names.length ? `Models that do: ${names.join(', ')}.` : 'No model in the table does.';
}

function featureProblems(
  field: keyof MergedFields,
  feature: Feature,
  ctx: { model: string; caps: ModelCapability; mode: string | undefined; duration: string; models: ModelTable },
  featureOf: (caps: ModelCapability) => Feature,
): RuleProblem[] {
  const { model, caps, mode, duration, models } = ctx;
  if (feature === false) {
    return [{ field, message: `${model} does not support \`${field}\`.`, hint: `Remove it, or use another model. ${modelsWhere(models, (c) => featureOf(c) !== false)}` }];
  }
  const problems: RuleProblem[] = [];
  if (caps.modes.length && mode !== undefined && !(feature.modes as readonly string[]).includes(mode)) {
    problems.push({ field, message: `\`${field}\` needs mode ${list(feature.modes)} on ${model}; this job has mode ${mode}.`, hint: `Set \`mode: ${feature.modes[0] ?? 'pro'}\` for it.` });
  }
  if (!(feature.durations as readonly string[]).includes(duration)) {
    problems.push({ field, message: `\`${field}\` needs duration ${list(feature.durations)} on ${model}; this job has duration ${duration}.`, hint: `Set \`duration: ${feature.durations[0] ?? 5}\` for it.` });
  }
  return problems;
}

/** Everything wrong with one merged request under the model table; [] when it is fine. */
export function checkRequest(fields: MergedFields, models: ModelTable): RuleProblem[] {
  const problems: RuleProblem[] = [];
  const masks = fields.static_mask !== undefined || fields.dynamic_masks !== undefined;
  if (fields.image_tail !== undefined && masks) {
    problems.push({ field: 'image_tail', message: '`image_tail` cannot be combined with `static_mask` or `dynamic_masks`; the API takes one or the other.', hint: 'Remove one of them.' });
  }
  const model = fields.model_name ?? API_DEFAULTS.model_name;
  const caps = models[model];
  if (!caps) {
    return [...problems, { field: 'model_name', message: `${model} is not in the model capability table.`, hint: `Add it to a copy of src/data/models.yaml and pass it with --models <file>. Known models: ${Object.keys(models).join(', ')}.` }];
  }
  if (fields.mode !== undefined && caps.modes.length === 0) {
    problems.push({ field: 'mode', message: `${model} has a single quality level: remove \`mode\`.` });
  } else if (fields.mode !== undefined && !caps.modes.includes(fields.mode)) {
    problems.push({ field: 'mode', message: `${model} takes mode ${list(caps.modes)}, not ${fields.mode}.` });
  }
  const duration = fields.duration ?? API_DEFAULTS.duration;
  if (!caps.durations.includes(duration)) {
    problems.push({ field: fields.duration ? 'duration' : 'model_name', message: `${model} makes videos of ${list(caps.durations)} seconds, not ${duration}.`, hint: `Set \`duration: ${caps.durations[0]}\`.` });
  }
  if (fields.cfg_scale !== undefined && !caps.cfg_scale) {
    problems.push({ field: 'cfg_scale', message: `${model} does not take \`cfg_scale\`: remove it.`, hint: modelsWhere(models, (c) => c.cfg_scale) });
  }
  // Without `mode`, the provider uses std; single-quality models have no mode at all.
  const ctx = { model, caps, mode: caps.modes.length ? (fields.mode ?? API_DEFAULTS.mode) : undefined, duration, models };
  if (fields.image_tail !== undefined) {
    problems.push(...featureProblems('image_tail', caps.image_tail, ctx, (c) => c.image_tail));
    if (caps.image_tail_needs_silence && fields.sound !== 'off') {
      problems.push({ field: 'image_tail', message: `\`image_tail\` on ${model} works only for silent video.`, hint: 'Set `sound: "off"` for it.' });
    }
  }
  if (masks) {
    const field = fields.static_mask !== undefined ? 'static_mask' : 'dynamic_masks';
    problems.push(...featureProblems(field, caps.masks, ctx, (c) => c.masks));
  }
  // `sound: "off"` asks for what every sound-less model makes anyway, so only "on" is checked.
  if (fields.sound === 'on') problems.push(...featureProblems('sound', caps.sound, ctx, (c) => c.sound));
  return problems;
}
