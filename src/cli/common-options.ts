// Options and environment variables several commands share, declared once so their help reads
// the same everywhere.
import type { StringOptionSpec } from './options.js';

export const KEY_ENV = { name: 'COMETAPI_KEY', description: 'your CometAPI key (not needed with --emulator); never printed, logged or stored' } as const;
export const DEBUG_ENV = { name: 'KLINGRUN_DEBUG', description: 'set to 1 for debug lines on stderr' } as const;

export const MODELS_OPTION: StringOptionSpec = {
  type: 'string',
  value: 'FILE',
  description: 'your own model capability table, e.g. an edited copy of the shipped models.yaml',
  defaultText: 'the shipped table',
};

export const PRICES_OPTION: StringOptionSpec = {
  type: 'string',
  value: 'FILE',
  description: 'your own price table, USD per second of video by model, mode and sound',
  defaultText: 'the shipped table',
};

export const UNIT_PRICE_OPTION = {
  type: 'string',
  value: 'USD',
  description: "USD per unit of what the provider says a task cost (final_unit_deduction): your resource pack's, e.g. 0.098 for Kling's trial packs, 0.126 for its larger packs",
  defaultText: "the price table's usd_per_unit, else 0.14",
  // A price, above nothing.
  rule: { kind: 'number', min: 0.001 },
} as const satisfies StringOptionSpec;

/** `--output` for commands that read a run's folder (run itself writes it). */
export const OUTPUT_FOLDER_OPTION: StringOptionSpec = {
  type: 'string',
  value: 'DIR',
  description: "the run's output folder, when it is not the default",
  defaultText: "output/<name>/ of the manifest's project",
};

export const CACHE_ENV = { name: 'KLINGRUN_CACHE_DIR', description: 'where `klingrun doctor` keeps what it learnt of a provider (default $XDG_CACHE_HOME/klingrun, else ~/.cache/klingrun)' } as const;
