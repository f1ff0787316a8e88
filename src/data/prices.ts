// A request's price from the two tables: the provider's defaults filled in from the model table,
// the matching row of the price table (USD per second) times the duration. A price the table does
// not list is null ("unknown"), never 0.
import { API_DEFAULTS } from '../api/schemas.js';
import { effectiveMode, featureWorks, type CapabilityRequest } from './capabilities.js';
import type { ModelTable, PriceRow, PriceTable } from './tables.js';

export type Sound = 'on' | 'off';

/** What a request is priced by. */
export interface PriceParams {
  readonly model_name: string;
  /** Undefined for a single-quality model. */
  readonly mode: string | undefined;
  /** Whole seconds, as the API's string. */
  readonly duration: string;
  /** As priced: undefined where the model makes no sound (priced as `off`), else `on` or `off`. */
  readonly sound: Sound | undefined;
  /** The request leaves `sound` out where the model can make sound: Kling's default, `off`, applies. */
  readonly soundDefault: boolean;
  /** The request speaks with a `voice_list` (priced at the voice rate where the table has one). */
  readonly voice: boolean;
}

export function priceParams(request: CapabilityRequest, table: ModelTable): PriceParams {
  const model_name = request.model_name ?? API_DEFAULTS.model_name;
  const caps = table.models[model_name];
  const mode = effectiveMode(caps, request.mode);
  const duration = request.duration ?? API_DEFAULTS.duration;
  const canSound = caps !== undefined && featureWorks(caps.sound, mode, Number(duration));
  const soundDefault = canSound && request.sound === undefined;
  return { model_name, mode, duration, sound: canSound ? (request.sound === 'on' ? 'on' : 'off') : undefined, soundDefault, voice: request.voice_list !== undefined };
}

/** The request facts a price row may name, most telling first (mode outweighs sound, sound outweighs voice). */
interface PriceFacts {
  readonly model_name: string;
  readonly mode: string | undefined;
  readonly sound: Sound;
  readonly voice: boolean;
}

/** The most specific row for a request's facts: a row that leaves a fact out matches any value of it. */
function rowFor(table: PriceTable, p: PriceFacts): PriceRow | undefined {
  let best: PriceRow | undefined;
  let bestScore = -1;
  for (const row of table) {
    if (row.model_name !== p.model_name) continue;
    if (row.mode !== undefined && row.mode !== p.mode) continue;
    if (row.sound !== undefined && row.sound !== p.sound) continue;
    if (row.voice_list !== undefined && row.voice_list !== p.voice) continue;
    const score = (row.mode !== undefined ? 4 : 0) + (row.sound !== undefined ? 2 : 0) + (row.voice_list !== undefined ? 1 : 0);
    if (score > bestScore) [best, bestScore] = [row, score];
  }
  return best;
}

/** Rounded to a millionth of a dollar, so 0.042 × 5 is 0.21 and not 0.21000000000000002. */
const micro = (usd: number) => Math.round(usd * 1e6) / 1e6;

/** USD for one video, or null when the price table has no row for it. */
export function priceOf(table: PriceTable, p: Omit<PriceParams, 'soundDefault'>): number | null {
  const row = rowFor(table, { ...p, sound: p.sound ?? 'off' });
  return row ? micro(row.usd_per_second * Number(p.duration)) : null;
}

/** Whether the request's sound setting changes its price (then the plan shows it). */
export function soundChangesPrice(table: PriceTable, p: Pick<PriceParams, 'model_name' | 'mode' | 'sound' | 'voice'>): boolean {
  if (p.sound === undefined) return false;
  return rowFor(table, { ...p, sound: 'on' })?.usd_per_second !== rowFor(table, { ...p, sound: 'off' })?.usd_per_second;
}
