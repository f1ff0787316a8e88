// `klingrun emulate`: the offline emulator of CometAPI's Kling API as a local server, until Ctrl-C.
import { resolve } from 'node:path';
import { UsageError } from '../../errors.js';
import { loadEmulatorConfig, startEmulator, type EmulatorOptionsInput } from '../../emulator/index.js';
import { PROFILES, resolveOptions } from '../../emulator/options.js';
import { booleanOption, numberOption, stringOption } from '../args.js';
import { EXIT } from '../exit-codes.js';
import { type CliIO, type CommandArgs, defineCommand } from '../io.js';

const USAGE = 'klingrun emulate [options]';
const DUPLICATE_BEHAVIOURS = ['reject', 'return-existing', 'accept'] as const;
/** The emulator's own defaults, shown in help. */
const DEFAULTS = resolveOptions({});

const OPTIONS = {
  port: { type: 'string', value: 'N', description: 'the port to listen on, on 127.0.0.1', defaultText: `${DEFAULTS.port}, any free port`, rule: { kind: 'number', integer: true, min: 0, max: 65535 } },
  config: { type: 'string', value: 'FILE', description: 'a YAML file of emulator options, faults included; flags override it', rule: { kind: 'path', must: 'exist' } },
  profile: {
    type: 'string',
    value: PROFILES.join('|'),
    description: 'answer as the documents say (default) or as the live service does (nulls, 400/1201 "not found", final_unit_deduction)',
    defaultText: DEFAULTS.profile,
    rule: { kind: 'choice', values: PROFILES },
  },
  'tasks-file': {
    type: 'string',
    value: 'FILE',
    description: 'keep the tasks in FILE, so a restarted emulator knows them',
    defaultText: 'none: tasks live as long as the emulator',
    rule: { kind: 'path', must: 'have-folder' },
  },
  'time-scale': {
    type: 'string',
    value: 'X',
    description: 'real time per emulated time: 0.01 makes a 65-second task take 0.65 s',
    defaultText: String(DEFAULTS.timeScale),
    rule: { kind: 'number', above: 0, hint: 'e.g. 0.001: a 3-minute task takes 180 ms' },
  },
  concurrency: { type: 'string', value: 'N', description: 'unfinished tasks per key; one more is refused with code 1303', defaultText: String(DEFAULTS.concurrency), rule: { kind: 'number', integer: true, min: 1 } },
  rpm: { type: 'string', value: 'N', description: 'requests per minute per key; more are refused with code 1302', defaultText: String(DEFAULTS.rpm), rule: { kind: 'number', integer: true, min: 1 } },
  balance: { type: 'string', value: 'USD', description: 'account balance; a create beyond it is refused with code 1102', defaultText: 'unlimited', rule: { kind: 'number', min: 0 } },
  'duplicate-external-id': {
    type: 'string',
    value: 'HOW',
    description: `what a create with a used external_task_id does: ${DUPLICATE_BEHAVIOURS.join(', ')}`,
    defaultText: DEFAULTS.duplicateExternalId,
    rule: { kind: 'choice', values: DUPLICATE_BEHAVIOURS },
  },
  'no-external-id-lookup': { type: 'boolean', description: 'find tasks by task_id only, like a provider without external-id lookups' },
  key: { type: 'string', value: 'K', multiple: true, description: 'an API key the emulator accepts', defaultText: DEFAULTS.keys.join(', ') },
} as const;

/** Flags given on the command line, as emulator options (absent flags leave the file's values); their rules were checked when parsed. */
function flagOptions(args: CommandArgs<typeof OPTIONS>): EmulatorOptionsInput {
  const options: Record<string, unknown> = {
    port: numberOption(args, 'port'),
    timeScale: numberOption(args, 'time-scale'),
    concurrency: numberOption(args, 'concurrency'),
    rpm: numberOption(args, 'rpm'),
    balanceUsd: numberOption(args, 'balance'),
    tasksFile: stringOption(args, 'tasks-file'),
    duplicateExternalId: stringOption(args, 'duplicate-external-id'),
    profile: stringOption(args, 'profile'),
  };
  if (booleanOption(args, 'no-external-id-lookup')) options.externalIdLookup = false;
  const keys = args.values.key;
  if (Array.isArray(keys)) options.keys = keys.map(String);
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
}

/**
 * The command that runs the shipped example against this emulator, on its clock: a run that
 * polls in real seconds would wait minutes for tasks that end in a second.
 */
export function suggestedRun(url: string, timeScale: number, defaultKey: boolean): string {
  return `${defaultKey ? 'COMETAPI_KEY=emulator-key ' : ''}klingrun run jobs/example.yaml --base-url ${url} --time-scale ${timeScale}`;
}

function untilAborted(signal: AbortSignal): Promise<void> {
  return new Promise((done) => {
    if (signal.aborted) done();
    else signal.addEventListener('abort', () => done(), { once: true });
  });
}

export const emulateCommand = defineCommand({
  usage: USAGE,
  options: OPTIONS,
  examples: [
    { command: 'klingrun emulate --port 8787 --time-scale 0.01', description: 'a local API at 100× speed, for curl or any client' },
    { command: 'klingrun emulate --config faults.yaml --rpm 60', description: 'with injected faults from a file and a tight rate limit' },
    { command: 'klingrun emulate --profile live --tasks-file tasks.jsonl', description: 'answering as the live service does, keeping its tasks across restarts' },
  ],
  async run(args, io: CliIO): Promise<number> {
    if (args.positionals.length > 0) throw new UsageError(`Unexpected argument \`${args.positionals[0]}\`. Usage: ${USAGE}`);
    const file = stringOption(args, 'config');
    const fromFile = file === undefined ? {} : loadEmulatorConfig(resolve(io.cwd, file), file);
    const given = { ...fromFile, ...flagOptions(args) };
    // A relative task file is the command's (the config file's value too: it names a file of the user's).
    const options = given.tasksFile === undefined ? given : { ...given, tasksFile: resolve(io.cwd, given.tasksFile) };
    const emulator = await startEmulator(options);
    // The default key is a public fixture; keys the user chose may be real ones, so they stay hidden.
    const defaultKey = options.keys === undefined;
    const key = defaultKey ? 'COMETAPI_KEY=emulator-key' : `one of the ${options.keys?.length ?? 0} key(s) you configured (not shown)`;
    const timeScale = options.timeScale ?? DEFAULTS.timeScale;
    io.stdout(
      [
        `Emulator of the CometAPI Kling API listening on ${emulator.url}${options.profile === 'live' ? ' (live profile: answers as the live service does)' : ''}`,
        `  key:   ${key}`,
        `  time:  scale ${timeScale}: a 65-second task takes ${+(65 * timeScale).toPrecision(3)} s`,
        `  try:   ${suggestedRun(emulator.url, timeScale, defaultKey)}`,
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
});
