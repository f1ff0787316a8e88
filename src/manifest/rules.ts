// The rules that span several fields of one request, all from the model capability table
// (src/data/models.yaml or --models): which models, modes and durations exist, where each feature
// works, and which features exclude each other. Single-field rules (types, lengths, ranges) live
// in the zod schema. Each problem names the model, the field and what would work.
import {
  capabilityProblems,
  describeDurations,
  firstDuration,
  modelsWhere,
  type CapabilityProblem,
  type FeatureField,
} from '../data/capabilities.js';
import { DEFAULT_MODELS_FILE, shippedName, type FeatureName, type ModelTable } from '../data/tables.js';
import type { Defaults } from './schema.js';
import { didYouMean } from './suggest.js';

/** The create-call fields of one job entry × combination, merged (images still as written). */
export type MergedFields = Defaults;

export interface RuleProblem {
  /** The field to point at. */
  readonly field: keyof MergedFields;
  readonly message: string;
  readonly hint?: string;
}

const list = (values: readonly string[]) => values.join(' or ');

/** Where to change the table: the shipped one in a copy passed with --models, a user's own in place. */
function inTable(table: ModelTable): string {
  const where = table.file === shippedName(DEFAULT_MODELS_FILE) ? `a copy of ${table.file}, passed with --models <file>` : table.file;
  return `${where} (see docs/models-and-prices.md)`;
}

const maskField = (fields: MergedFields): FeatureField => (fields.static_mask !== undefined ? 'static_mask' : 'dynamic_masks');

/** How a feature reads in a sentence: its field, or plain "sound" (which may be in use unset). */
function featureWords(feature: FeatureName, fields: MergedFields): string {
  if (feature === 'sound') return 'sound';
  return `\`${feature === 'masks' ? maskField(fields) : feature}\``;
}

function ruleProblem(problem: CapabilityProblem, table: ModelTable, fields: MergedFields): RuleProblem {
  const where = (has: (caps: ModelTable['models'][string]) => boolean) => {
    const names = modelsWhere(table, has);
    return names.length ? `Models that do: ${names.join(', ')}.` : 'No model in the table does.';
  };
  switch (problem.kind) {
    case 'unknown_model': {
      const known = Object.keys(table.models);
      const typo = didYouMean(problem.model, known);
      return {
        field: 'model_name',
        message: `${problem.model} is not in the model table ${table.file}.`,
        hint: `${typo ? `${typo} ` : ''}To use another model, add a row for it to ${inTable(table)}. Known models: ${known.join(', ')}.`,
      };
    }
    case 'no_modes':
      return { field: 'mode', message: `${problem.model} has a single quality level: remove \`mode\`.` };
    case 'mode':
      return {
        field: 'mode',
        message: `${problem.model} takes mode ${list(problem.modes)}, not ${problem.mode}.`,
        hint: didYouMean(problem.mode, problem.modes) ?? `If the provider offers ${problem.mode} for this model, add it to the model's \`modes\` in ${inTable(table)}.`,
      };
    case 'duration':
      return {
        // Without a duration of its own, the job has the API default: the model is what breaks it.
        field: fields.duration !== undefined ? 'duration' : 'model_name',
        message: `${problem.model} makes videos of ${describeDurations(problem.durations)} seconds, not ${problem.seconds}.`,
        hint: `Set \`duration: ${firstDuration(problem.durations)}\`, or, if the provider makes ${problem.seconds} s videos with this model, widen its \`durations\` in ${inTable(table)}.`,
      };
    case 'too_long':
      return {
        field: problem.field,
        message: `\`${problem.field}\` is ${problem.length} characters long; the limit is ${problem.max} on ${problem.model} (\`limits\` in the model table ${table.file}).`,
        hint: `Shorten it, or, if your provider takes longer text, raise \`limits.${problem.field}\` in ${inTable(table)}.`,
      };
    case 'unsupported':
      return {
        field: problem.field,
        message: `${problem.model} does not support \`${problem.field}\`.`,
        hint: `Remove it, or use another model. ${where((caps) => caps[problem.feature] !== false && caps[problem.feature] !== undefined)}`,
      };
    case 'feature_mode':
      return {
        field: problem.field,
        message: `\`${problem.field}\` needs mode ${list(problem.modes)} on ${problem.model}; this job has mode ${problem.mode}.`,
        hint: `Set \`mode: ${problem.modes[0]}\` for it.`,
      };
    case 'feature_duration':
      return {
        field: problem.field,
        message: `\`${problem.field}\` needs duration ${describeDurations(problem.durations)} on ${problem.model}; this job has duration ${problem.seconds}.`,
        hint: `Set \`duration: ${firstDuration(problem.durations)}\` for it.`,
      };
    case 'feature_type':
      return {
        field: problem.field,
        message: `${problem.model} takes \`${problem.field}\` of type ${list(problem.types)} only, not ${problem.type}.`,
        hint: `Use type ${problem.types[0]}, or another model. ${where((caps) => { const spec = caps[problem.feature]; return spec === true || (typeof spec === 'object' && (spec.types === undefined || spec.types.includes(problem.type))); })}`,
      };
    case 'cross':
      return { field: problem.field, message: problem.message.replace(/^./, (c) => c.toUpperCase()), hint: problem.hint };
    case 'excluded': {
      const [first, ...others] = problem.features.map((f) => featureWords(f, fields));
      const silence = problem.features.includes('sound');
      return {
        field: problem.field,
        message: `${first} cannot be combined with ${others.join(' or ')} on ${problem.model}${silence ? ' (it works only for silent video)' : ''}.`,
        hint: silence ? 'Leave `sound` out or set it to "off" for it.' : 'Remove one of them.',
      };
    }
  }
}

/** Everything wrong with one merged request under the model table; [] when it is fine. */
export function checkRequest(fields: MergedFields, table: ModelTable): RuleProblem[] {
  return capabilityProblems(fields, table).map((problem) => ruleProblem(problem, table, fields));
}
