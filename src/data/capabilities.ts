// What the model table says about one request, as data: the problems found, not messages. The
// manifest rules (manifest/rules.ts) and the emulator (emulator/validate.ts) word them for their
// own readers, so the plan and the emulated provider can never disagree on what a model takes.
import { API_DEFAULTS } from '../api/schemas.js';
import type { Durations, Feature, FeatureName, ModelCapability, ModelTable } from './tables.js';
import { FEATURES } from './tables.js';

/** The request fields the table has rules for; manifests and create bodies both fit. */
export interface CapabilityRequest {
  readonly model_name?: string | undefined;
  readonly mode?: string | undefined;
  /** Whole seconds as the API's string, e.g. "5". */
  readonly duration?: string | undefined;
  readonly cfg_scale?: unknown;
  readonly sound?: string | undefined;
  readonly image_tail?: unknown;
  readonly static_mask?: unknown;
  readonly dynamic_masks?: unknown;
}

/** The request field a feature problem is about (for masks: the one the request uses). */
export type FeatureField = 'image_tail' | 'static_mask' | 'dynamic_masks' | 'sound' | 'cfg_scale';

export type CapabilityProblem =
  | { readonly kind: 'unknown_model'; readonly model: string }
  /** `mode` given to a model with a single quality level. */
  | { readonly kind: 'no_modes'; readonly model: string; readonly mode: string }
  | { readonly kind: 'mode'; readonly model: string; readonly mode: string; readonly modes: readonly string[] }
  | { readonly kind: 'duration'; readonly model: string; readonly seconds: number; readonly durations: Durations }
  | { readonly kind: 'unsupported'; readonly model: string; readonly field: FeatureField; readonly feature: FeatureName }
  | { readonly kind: 'feature_mode'; readonly model: string; readonly field: FeatureField; readonly mode: string; readonly modes: readonly string[] }
  | { readonly kind: 'feature_duration'; readonly model: string; readonly field: FeatureField; readonly seconds: number; readonly durations: Durations }
  | { readonly kind: 'excluded'; readonly model: string; readonly field: FeatureField; readonly features: readonly FeatureName[] };

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

/** Whether a feature works in this mode and duration. */
export function featureWorks(feature: Feature, mode: string | undefined, seconds: number): boolean {
  if (typeof feature === 'boolean') return feature;
  return (mode === undefined || feature.modes === undefined || feature.modes.includes(mode)) && (feature.durations === undefined || allowsDuration(feature.durations, seconds));
}

/**
 * The request fields that use a feature, [] when it does not. `sound` is used by `"on"`; in
 * `excludes` it also counts when left out where the model can make sound (the provider's default
 * is not documented, so only `"off"` is sure to be silent).
 */
function fieldsUsing(feature: FeatureName, request: CapabilityRequest, orDefault: boolean): FeatureField[] {
  switch (feature) {
    case 'masks':
      return (['static_mask', 'dynamic_masks'] as const).filter((f) => request[f] !== undefined);
    case 'sound':
      return request.sound === 'on' || (orDefault && request.sound === undefined) ? ['sound'] : [];
    default:
      return request[feature] !== undefined ? [feature] : [];
  }
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
  const mode = effectiveMode(caps, request.mode);
  for (const feature of FEATURES) {
    const spec = caps[feature];
    for (const field of fieldsUsing(feature, request, false)) {
      if (spec === false) problems.push({ kind: 'unsupported', model, field, feature });
      else if (typeof spec === 'object' && mode !== undefined && spec.modes !== undefined && !spec.modes.includes(mode)) {
        problems.push({ kind: 'feature_mode', model, field, mode, modes: spec.modes });
      } else if (typeof spec === 'object' && spec.durations !== undefined && !allowsDuration(spec.durations, seconds)) {
        problems.push({ kind: 'feature_duration', model, field, seconds, durations: spec.durations });
      }
    }
  }
  for (const features of caps.excludes ?? []) {
    const used = features.map((f) => fieldsUsing(f, request, f === 'sound' && featureWorks(caps.sound, mode, seconds)));
    // The problem points at the first field the request really sets (sound may be in use unset).
    const field = used.flat().find((f) => request[f] !== undefined);
    if (field && used.every((fields) => fields.length > 0)) problems.push({ kind: 'excluded', model, field, features });
  }
  return problems;
}

/** The models of the table for which `has` holds, for "models that do" hints. */
export function modelsWhere(table: ModelTable, has: (caps: ModelCapability) => boolean): string[] {
  return Object.entries(table.models)
    .filter(([, caps]) => has(caps))
    .map(([name]) => name);
}
