// `klingrun emulate`: the offline emulator of CometAPI's Kling API as a local server, until Ctrl-C.
import { resolve } from 'node:path';
import { UsageError } from '../../errors.js';
import { loadEmulatorConfig, startEmulator, type EmulatorOptionsInput } from '../../emulator/index.js';
import { PROFILES } from '../../emulator/options.js';
import { booleanOption, numberOption, stringOption } from '../args.js';
import { EXIT } from '../exit-codes.js';
import type { CliIO, Command, CommandArgs } from '../io.js';

const USAGE =
  'klingrun emulate [--port N] [--config file.yaml] [--profile default|live] [--time-scale X] [--concurrency N] [--rpm N] [--balance USD] [--duplicate-external-id reject|return-existing|accept] [--no-external-id-lookup] [--key K]…';
const DUPLICATE_BEHAVIOURS = ['reject', 'return-existing', 'accept'] as const;

/** A flag that takes one of a few words. */
function choiceOption(args: CommandArgs, name: string, choices: readonly string[]): string | undefined {
  const value = stringOption(args, name);
  if (value !== undefined && !choices.includes(value)) throw new UsageError(`Expected \`--${name}\` to be one of ${choices.join(', ')}, got \`${value}\`.`);
  return value;
}

/** Flags given on the command line, as emulator options (absent flags leave the file's values). */
function flagOptions(args: CommandArgs): EmulatorOptionsInput {
  const options: Record<string, unknown> = {
    port: numberOption(args, 'port', { integer: true, min: 0, max: 65535 }),
    timeScale: numberOption(args, 'time-scale', { min: 0 }),
    concurrency: numberOption(args, 'concurrency', { integer: true, min: 1 }),
    rpm: numberOption(args, 'rpm', { integer: true, min: 1 }),
    balanceUsd: numberOption(args, 'balance', { min: 0 }),
  };
  if (options.timeScale === 0) throw new UsageError('Expected `--time-scale` to be a number > 0 (e.g. 0.001: a 3-minute task takes 180 ms), got `0`.');
  options.duplicateExternalId = choiceOption(args, 'duplicate-external-id', DUPLICATE_BEHAVIOURS);
  options.profile = choiceOption(args, 'profile', PROFILES);
  if (booleanOption(args, 'no-external-id-lookup')) options.externalIdLookup = false;
  const keys = args.values.key;
  if (Array.isArray(keys)) options.keys = keys.map(String);
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
}

function untilAborted(signal: AbortSignal): Promise<void> {
  return new Promise((done) => {
    if (signal.aborted) done();
    else signal.addEventListener('abort', () => done(), { once: true });
  });
}

export const emulateCommand: Command = {
  name: 'emulate',
  summary: 'Run the offline emulator of the CometAPI Kling API until Ctrl-C',
  usage: USAGE,
  options: {
    port: { type: 'string' },
    config: { type: 'string' },
    profile: { type: 'string' },
    'time-scale': { type: 'string' },
    concurrency: { type: 'string' },
    rpm: { type: 'string' },
    balance: { type: 'string' },
    'duplicate-external-id': { type: 'string' },
    'no-external-id-lookup': { type: 'boolean' },
    key: { type: 'string', multiple: true },
  },
  async run(args: CommandArgs, io: CliIO): Promise<number> {
    if (args.positionals.length > 0) throw new UsageError(`Unexpected argument \`${args.positionals[0]}\`. Usage: ${USAGE}`);
    const file = stringOption(args, 'config');
    const fromFile = file === undefined ? {} : loadEmulatorConfig(resolve(io.cwd, file), file);
    const options = { ...fromFile, ...flagOptions(args) };
    const emulator = await startEmulator(options);
    // The default key is a public fixture; keys the user chose may be real ones, so they stay hidden.
    const key = options.keys === undefined ? 'COMETAPI_KEY=emulator-key' : `one of the ${options.keys.length} key(s) you configured (not shown)`;
    io.stdout(
      [
        `Emulator of the CometAPI Kling API listening on ${emulator.url}${options.profile === 'live' ? ' (live profile: answers as the live service does)' : ''}`,
        `  key:   ${key}`,
        `  try:   klingrun run <manifest> --base-url ${emulator.url}`,
        `  stats: ${emulator.url}/__emulator/stats`,
        'Press Ctrl-C to stop.',
        '',
      ].join('\n'),
    );
    await untilAborted(io.signal);
    await emulator.close();
    const stats = emulator.stats();
    io.stdout(`Emulator stopped: ${stats.tasksCreated} task(s) created, $${stats.billedUsd.toFixed(2)} billed.\n`);
    return EXIT.ok;
  },
};
