// What the model table says about one request, as data: the problems found, not messages. The
// manifest rules (manifest/rules.ts) and the emulator (emulator/validate.ts) word them for their
// own readers, so the plan and the emulated provider can never disagree on what a model takes.
import { API_DEFAULTS } from '../api/schemas.js';
import { crossChecks } from '../request/checks.js';
import { LENGTH_LIMITED, fieldsOfFeature, usesField, type LengthLimitedField, type ManifestFieldName } from '../request/fields.js';
import type { Durations, Feature, FeatureName, ModelCapability, ModelTable } from './tables.js';
import { FEATURES } from './tables.js';

/** The request fields the table has rules for; manifests and create bodies both fit. */
export type CapabilityRequest = { readonly [F in ManifestFieldName]?: unknown } & {
  readonly model_name?: string | undefined;
  readonly mode?: string | undefined;
  /** Whole seconds as the API's string, e.g. "5". */
  readonly duration?: string | undefined;
  readonly sound?: string | undefined;
  readonly prompt?: string | undefined;
  readonly negative_prompt?: string | undefined;
};

/** The request field a problem is about (for masks: the one the request uses). */
export type FeatureField = ManifestFieldName;

export type CapabilityProblem =
  | { readonly kind: 'unknown_model'; readonly model: string }
  /** `mode` given to a model with a single quality level. */
  | { readonly kind: 'no_modes'; readonly model: string; readonly mode: string }
  | { readonly kind: 'mode'; readonly model: string; readonly mode: string; readonly modes: readonly string[] }
  | { readonly kind: 'duration'; readonly model: string; readonly seconds: number; readonly durations: Durations }
  | { readonly kind: 'too_long'; readonly model: string; readonly field: LengthLimitedField; readonly length: number; readonly max: number }
  | { readonly kind: 'unsupported'; readonly model: string; readonly field: FeatureField; readonly feature: FeatureName }
  | { readonly kind: 'feature_mode'; readonly model: string; readonly field: FeatureField; readonly mode: string; readonly modes: readonly string[] }
  | { readonly kind: 'feature_duration'; readonly model: string; readonly field: FeatureField; readonly seconds: number; readonly durations: Durations }
  | { readonly kind: 'feature_type'; readonly model: string; readonly field: FeatureField; readonly feature: FeatureName; readonly type: string; readonly types: readonly string[] }
  | { readonly kind: 'excluded'; readonly model: string; readonly field: FeatureField; readonly features: readonly FeatureName[] }
  /** A rule between fields of the request itself (request/checks.ts), worded once for both readers. */
  | { readonly kind: 'cross'; readonly model: string; readonly field: FeatureField; readonly message: string; readonly hint: string };

/** Whether `seconds` is one of `durations` (a list or a range). */
export function allowsDuration(durations: Durations, seconds: number): boolean {
  return Array.isArray(durations) ? durations.includes(seconds) : seconds >= durations.min && seconds <= durations.max;
}

/** `5 or 10`, `3 to 15`. */
export function describeDurations(durations: Durations): string {
  return Array.isArray(durations) ? durations.join(' or ') : `${durations.min} to ${durations.max}`;
}

/** The shortest duration of a list or range: what a hint proposes. */
export const firstDuration = (durations: Durations): number => (Array.isArray(durations) ? (durations[0] as number) : durations.min);

/** Every duration a list or range names (a range in full), for suggestions. */
export function listDurations(durations: Durations): number[] {
  if (Array.isArray(durations)) return [...durations];
  return Array.from({ length: durations.max - durations.min + 1 }, (_, i) => durations.min + i);
}

/** The mode the provider uses: as sent, std when left out, none for a single-quality model. */
export function effectiveMode(caps: ModelCapability | undefined, mode: string | undefined): string | undefined {
  if (caps === undefined) return mode;
  return caps.modes.length === 0 ? undefined : (mode ?? API_DEFAULTS.mode);
}

/** Whether a feature works in this mode and duration (a feature a row leaves out does not). */
export function featureWorks(feature: Feature | undefined, mode: string | undefined, seconds: number): boolean {
  if (feature === undefined || typeof feature === 'boolean') return feature === true;
  return (mode === undefined || feature.modes === undefined || feature.modes.includes(mode)) && (feature.durations === undefined || allowsDuration(feature.durations, seconds));
}

/** The request fields that use a feature, [] when it does not (`sound` is used by "on" alone: Kling's default is off). */
function fieldsUsing(feature: FeatureName, request: CapabilityRequest): FeatureField[] {
  return fieldsOfFeature(feature).filter((field): field is FeatureField => field !== 'image' && usesField(field, request[field as FeatureField]));
}

/** The `type` of a typed field's value (camera_control), for a feature's `types`. */
const typeOf = (value: unknown): string | undefined => (typeof value === 'object' && value !== null && 'type' in value ? String(value.type) : undefined);

/** Where one used field of a feature breaks the feature's row: unsupported, or the wrong mode, duration or type. */
function featureProblem(spec: Feature | undefined, at: { model: string; field: FeatureField; feature: FeatureName; mode: string | undefined; seconds: number; value: unknown }): CapabilityProblem | undefined {
  const { model, field, mode, seconds } = at;
  if (typeof spec !== 'object') return undefined;
  if (mode !== undefined && spec.modes !== undefined && !spec.modes.includes(mode)) return { kind: 'feature_mode', model, field, mode, modes: spec.modes };
  if (spec.durations !== undefined && !allowsDuration(spec.durations, seconds)) return { kind: 'feature_duration', model, field, seconds, durations: spec.durations };
  const type = typeOf(at.value);
  if (spec.types !== undefined && type !== undefined && !spec.types.includes(type)) return { kind: 'feature_type', model, field, feature: at.feature, type, types: spec.types };
  return undefined;
}

/** The rules that span several fields of one request, in a fixed order. */
function crossProblems(request: CapabilityRequest, model: string): CapabilityProblem[] {
  return crossChecks(request).map((problem) => ({ kind: 'cross', model, ...problem }));
}

/** Everything the table refuses in one request, in a fixed order; [] when the model takes it. */
export function capabilityProblems(request: CapabilityRequest, table: ModelTable): CapabilityProblem[] {
  const model = request.model_name ?? API_DEFAULTS.model_name;
  const caps = table.models[model];
  if (!caps) return [{ kind: 'unknown_model', model }];
  const problems: CapabilityProblem[] = [];
  if (request.mode !== undefined && caps.modes.length === 0) problems.push({ kind: 'no_modes', model, mode: request.mode });
  else if (request.mode !== undefined && !caps.modes.includes(request.mode)) problems.push({ kind: 'mode', model, mode: request.mode, modes: caps.modes });
  const seconds = Number(request.duration ?? API_DEFAULTS.duration);
  if (!allowsDuration(caps.durations, seconds)) problems.push({ kind: 'duration', model, seconds, durations: caps.durations });
  for (const field of LENGTH_LIMITED) {
    const max = caps.limits?.[field];
    const length = request[field]?.length ?? 0;
    if (max !== undefined && length > max) problems.push({ kind: 'too_long', model, field, length, max });
  }
  const mode = effectiveMode(caps, request.mode);
  for (const feature of FEATURES) {
    const spec = caps[feature];
    for (const field of fieldsUsing(feature, request)) {
      if (spec === false || spec === undefined) problems.push({ kind: 'unsupported', model, field, feature });
      else {
        const problem = featureProblem(spec, { model, field, feature, mode, seconds, value: request[field] });
        if (problem) problems.push(problem);
      }
    }
  }
  for (const features of caps.excludes ?? []) {
    const used = features.map((f) => fieldsUsing(f, request));
    const field = used.flat()[0];
    if (field && used.every((fields) => fields.length > 0)) problems.push({ kind: 'excluded', model, field, features });
  }
  return [...problems, ...crossProblems(request, model)];
}

/** The models of the table for which `has` holds, for "models that do" hints. */
export function modelsWhere(table: ModelTable, has: (caps: ModelCapability) => boolean): string[] {
  return Object.entries(table.models)
    .filter(([, caps]) => has(caps))
    .map(([name]) => name);
}

/** A feature's conditions in a few words, e.g. `pro`, `pro, 5 s`; '' when it has none. */
function featureConditions(feature: Feature): string {
  if (typeof feature !== 'object') return '';
  return [feature.modes?.join('/'), feature.durations && `${describeDurations(feature.durations)} s`].filter(Boolean).join(', ');
}

/** The models that take an end-frame-only job (`image_tail` without `image`), with where: `kling-v1-6 (pro)`. */
export function endFrameOnlyModels(table: ModelTable): string[] {
  return Object.entries(table.models).flatMap(([name, caps]) => {
    const feature = caps.end_frame_only;
    if (feature === undefined || feature === false) return [];
    const conditions = featureConditions(feature);
    return [conditions ? `${name} (${conditions})` : name];
  });
}

/** Whether the table lets this request be an end-frame-only job (an unknown model is reported elsewhere). */
export function takesEndFrameOnly(request: CapabilityRequest, table: ModelTable): boolean {
  const caps = table.models[request.model_name ?? API_DEFAULTS.model_name];
  return caps === undefined || featureWorks(caps.end_frame_only, effectiveMode(caps, request.mode), Number(request.duration ?? API_DEFAULTS.duration));
}
