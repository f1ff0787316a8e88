// The rules between fields of one request that hold on every model (where a field works per model
// is the model table's business, data/capabilities.ts). Each problem is one sentence and a hint,
// shared by the manifest rules and the emulator, so the plan and the emulated provider agree.
import type { ManifestFieldName } from './fields.js';
import { API_DEFAULTS } from './values.js';

export interface CrossProblem {
  readonly field: ManifestFieldName;
  readonly message: string;
  readonly hint: string;
}

/** The request fields the checks read. */
export interface CheckedRequest {
  readonly duration?: string | undefined;
  readonly sound?: string | undefined;
  readonly prompt?: string | undefined;
  readonly multi_shot?: unknown;
  readonly shot_type?: unknown;
  readonly multi_prompt?: unknown;
  readonly voice_list?: unknown;
}

type Shots = readonly { readonly duration: string | number }[];

/** kling-v3's multi-shot fields go together: multi_shot: true with a shot_type, customize with its shots. */
function multiShotProblems(request: CheckedRequest): CrossProblem[] {
  const { multi_shot, shot_type, multi_prompt } = request;
  if (multi_shot === undefined && shot_type === undefined && multi_prompt === undefined) return [];
  const problems: CrossProblem[] = [];
  if (multi_shot !== true) {
    const field = shot_type !== undefined ? 'shot_type' : 'multi_prompt';
    if (shot_type !== undefined || multi_prompt !== undefined) {
      problems.push({ field: multi_shot === undefined ? field : 'multi_shot', message: '`shot_type` and `multi_prompt` need `multi_shot: true`.', hint: 'Set `multi_shot: true`, or remove them for a single shot.' });
    }
    return problems;
  }
  if (shot_type === undefined) {
    problems.push({ field: 'multi_shot', message: '`multi_shot: true` needs a `shot_type`: customize (your `multi_prompt` shots) or intelligence (Kling splits the prompt).', hint: 'Add `shot_type: customize` and the shots in `multi_prompt`, or `shot_type: intelligence`.' });
  } else if (shot_type === 'customize' && multi_prompt === undefined) {
    problems.push({ field: 'shot_type', message: '`shot_type: customize` needs the shots in `multi_prompt`.', hint: 'Add `multi_prompt: [{ prompt: …, duration: … }, …]`, or use `shot_type: intelligence`.' });
  } else if (shot_type !== 'customize' && multi_prompt !== undefined) {
    problems.push({ field: 'multi_prompt', message: '`multi_prompt` is only used with `shot_type: customize`.', hint: 'Set `shot_type: customize`, or remove `multi_prompt`.' });
  }
  if (Array.isArray(multi_prompt)) {
    const total = (multi_prompt as Shots).reduce((sum, shot) => sum + Number(shot.duration), 0);
    const video = Number(request.duration ?? API_DEFAULTS.duration);
    if (total !== video) {
      problems.push({ field: 'multi_prompt', message: `the shots of \`multi_prompt\` last ${total} s in all, but the video lasts ${video} s; they must add up to the video's duration.`, hint: `Make the shots' durations add up to ${video}, or set \`duration: ${total}\` where the model makes it.` });
    }
  }
  return problems;
}

/** Voices speak: they need sound on, and the prompt may only name the voices the list has. */
function voiceProblems(request: CheckedRequest): CrossProblem[] {
  const voices = Array.isArray(request.voice_list) ? request.voice_list.length : 0;
  const problems: CrossProblem[] = [];
  if (request.voice_list !== undefined && request.sound !== 'on') {
    problems.push({ field: 'voice_list', message: '`voice_list` needs `sound: "on"` (left out, Kling makes silent video).', hint: 'Set `sound: "on"` for it.' });
  }
  const named = [...(request.prompt ?? '').matchAll(/<<<voice_(\d+)>>>/g)].map((match) => Number(match[1]));
  const missing = named.find((n) => n < 1 || n > voices);
  if (missing !== undefined) {
    problems.push({ field: 'prompt', message: `the prompt names <<<voice_${missing}>>>, but \`voice_list\` has ${voices} voice${voices === 1 ? '' : 's'}.`, hint: `Add the voice to \`voice_list\` (at most 2), or refer to <<<voice_1>>>${voices > 1 ? ' or <<<voice_2>>>' : ''}.` });
  }
  return problems;
}

/** Every rule between fields of one request that it breaks, in a fixed order; [] when none. */
export function crossChecks(request: CheckedRequest): CrossProblem[] {
  return [...multiShotProblems(request), ...voiceProblems(request)];
}
