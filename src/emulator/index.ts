// startEmulator(): the offline stand-in for CometAPI's Kling image-to-video API, as a real HTTP
// server on 127.0.0.1, for the tests, the demo, the benchmarks and `klingrun emulate`.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadModelTable, loadPriceTable } from '../data/tables.js';
import { systemClock } from '../effects.js';
import { InputError } from '../errors.js';
import type { EmulatorState } from './api.js';
import { FaultInjector } from './faults.js';
import { InFlight, RateLimiter } from './limits.js';
import { resolveOptions, type EmulatorOptions, type EmulatorOptionsInput } from './options.js';
import { requestListener } from './server.js';
import { StatsCollector, type EmulatorStats } from './stats.js';
import { loadTasks, saveTask, startTaskFile } from './persist.js';
import { TaskStore } from './tasks.js';
import { VideoLinks } from './videos.js';

export { API_PATH } from './server.js';
export { MODERATION_MESSAGE, PROVIDER_FAILURE_MESSAGE } from './api.js';
export { loadEmulatorConfig, emulatorOptionsSchema, FAULT_KINDS } from './options.js';
export type { EmulatorOptions, EmulatorOptionsInput, Fault, FaultKind, Route } from './options.js';
export type { EmulatorStats } from './stats.js';

export interface EmulatorHandle {
  /** e.g. `http://127.0.0.1:43123`, no trailing slash. */
  readonly url: string;
  /** The same data as GET /__emulator/stats. */
  stats(): EmulatorStats;
  /** Changes options while running (limits, faults, keys, balance…); the same as POST /__emulator/config. */
  configure(patch: Partial<EmulatorOptions>): void;
  /** Stops listening and drops every open connection, hung requests included. */
  close(): Promise<void>;
}

/** Applies a patch on top of the current options; faults restart their counts when replaced. */
function reconfigure(state: EmulatorState, patch: unknown): void {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) {
    throw new InputError('input_invalid', 'Expected the emulator configuration patch to be an object of options');
  }
  // An explicit undefined means "leave as is", never "back to the default".
  const given = Object.fromEntries(Object.entries(patch).filter(([, value]) => value !== undefined));
  for (const fixed of ['port', 'host', 'tasksFile'] as const) {
    if (fixed in given && given[fixed] !== state.options[fixed]) {
      throw new InputError('input_invalid', `The emulator option \`${fixed}\` cannot change while it runs`);
    }
  }
  const next = resolveOptions({ ...state.options, ...given }, 'the configuration patch');
  state.options = next;
  if ('faults' in given || 'seed' in given) state.faults.reset(next.faults, next.seed);
}

export async function startEmulator(input: EmulatorOptionsInput = {}): Promise<EmulatorHandle> {
  const { clock = systemClock, models = loadModelTable(), prices = loadPriceTable(), ...rest } = input;
  const options = resolveOptions(rest);
  const { tasksFile } = options;
  const saved = tasksFile === undefined ? undefined : loadTasks(tasksFile, options.keys);
  const store = new TaskStore(saved, tasksFile === undefined ? undefined : (task) => saveTask(tasksFile, task));
  if (tasksFile !== undefined && !saved) startTaskFile(tasksFile, store.prefix);
  const inFlight = new InFlight();
  for (const task of store.all()) inFlight.add(task.key, task.endAt, clock.now());
  const state: EmulatorState = {
    options,
    baseUrl: '',
    clock,
    store,
    inFlight,
    rate: new RateLimiter(),
    stats: new StatsCollector(),
    faults: new FaultInjector(options.faults, options.seed),
    links: new VideoLinks(),
    models,
    prices,
  };
  const stats = (): EmulatorStats => state.stats.snapshot({ concurrentTasks: state.inFlight.peak, requestsPerWindow: state.rate.peak });
  const configure = (patch: unknown): void => reconfigure(state, patch);
  const server = createServer(requestListener(state, { stats, configure }));

  await new Promise<void>((resolve, reject) => {
    server.once('error', (cause) => reject(new InputError('input_invalid', `The emulator cannot listen on ${options.host}:${options.port}: ${cause.message}`, { cause })));
    server.listen(options.port, options.host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  state.baseUrl = `http://${host}:${port}`;

  let closing: Promise<void> | undefined;
  return {
    url: state.baseUrl,
    stats,
    configure,
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
