// How a report names the unit price its measured costs were worked out with, for the terminal
// summary and the gallery alike.
import type { Report } from './schema.js';

/** `$0.098 a unit (--unit-price)`: the price and the option or file that set it. */
export function unitPriceText(price: Report['cost']['unit_price']): string {
  // Reports of older versions say nothing: they priced units at $0.14.
  if (!price) return '$0.14 a unit';
  const from = price.from === 'option' ? '--unit-price' : price.from === 'table' ? `usd_per_unit in ${price.file ?? 'the price table'}` : "Kling's standard packs; set yours with --unit-price";
  return `$${String(price.usd_per_unit)} a unit (${from})`;
}
