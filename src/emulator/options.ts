// Emulator options: one zod schema shared by startEmulator(), `klingrun emulate` flags, YAML files
// (`--config`) and POST /__emulator/config, so all four accept exactly the same fields.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { z } from 'zod';
import type { ModelTable, PriceTable } from '../data/tables.js';
import type { Clock } from '../effects.js';
import { InputError } from '../errors.js';
import { didYouMean } from '../manifest/suggest.js';
import { echo, valueAt } from './value-at.js';

/** The routes a fault can target. */
export const ROUTES = ['create', 'get', 'list', 'download'] as const;
export type Route = (typeof ROUTES)[number];

export const FAULT_KINDS = [
  'http500',
  'http503',
  'http504',
  'html5xx',
  'html500',
  'html503',
  'rate1302',
  'hang',
  'hang-after-call',
  'lost-response',
  'reset',
  'malformed-json',
  'unexpected-json',
  'legacy-envelope',
  'truncated-download',
  'stale-url',
  'stalled-download',
  'task-failure',
  'storm1303',
  'late-create',
  'whitelist1304',
  'invalid-request500',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

const ANY_ROUTE: readonly Route[] = ROUTES;
/** Where each kind can fire; a fault without `on` fires on all of them. */
export const FAULT_ROUTES: Readonly<Record<FaultKind, readonly Route[]>> = {
  http500: ANY_ROUTE,
  http503: ANY_ROUTE,
  http504: ANY_ROUTE,
  html5xx: ANY_ROUTE,
  html500: ANY_ROUTE,
  html503: ANY_ROUTE,
  // A rate answer without Retry-After: the client must fall back to its own backoff.
  rate1302: ['create', 'get', 'list'],
  hang: ANY_ROUTE,
  // The call takes effect (a create makes a task), then no answer ever comes: a timeout that hides a task.
  'hang-after-call': ['create', 'get', 'list'],
  'lost-response': ANY_ROUTE,
  reset: ANY_ROUTE,
  'malformed-json': ['create', 'get', 'list'],
  // Valid JSON of a shape no provider answer has; the call took effect.
  'unexpected-json': ['create', 'get', 'list'],
  // The older wrapper nests one task object; the list call has no such form.
  'legacy-envelope': ['create', 'get'],
  'truncated-download': ['download'],
  // The URL expires now (answering as staleUrlAnswer says) until a lookup of the task issues a fresh one.
  'stale-url': ['download'],
  // Half the body, then nothing for downloadStallS, then the rest: a link that stalls.
  'stalled-download': ['download'],
  'task-failure': ['create'],
  storm1303: ['create'],
  // Held lateCreateS before the task is made (a gateway sitting on the POST), then answered.
  'late-create': ['create'],
  // HTTP 429 code 1304: this machine's IP is not on the account's whitelist.
  whitelist1304: ['create', 'get', 'list'],
  // CometAPI's gateway refusing a create: HTTP 500 with `{"error":{"code":"invalid_request"}}`; no task is made.
  // Create only: on an optional call (a lookup, the list) a refusal for good reads as "not offered".
  'invalid-request500': ['create'],
};

export const faultSchema = z
  .strictObject({
    kind: z.enum(FAULT_KINDS),
    /** Probability that a matching request triggers it. @default 1 */
    p: z.number().min(0).max(1).default(1),
    /** Routes it fires on. @default every route the kind applies to */
    on: z.array(z.enum(ROUTES)).min(1).optional(),
    /** Fires at most this many times. @default unlimited */
    count: z.number().int().min(1).optional(),
  })
  .superRefine((fault, ctx) => {
    const wrong = (fault.on ?? []).filter((route) => !FAULT_ROUTES[fault.kind].includes(route));
    if (wrong.length) {
      ctx.addIssue({
        code: 'custom',
        path: ['on'],
        message: `fault \`${fault.kind}\` cannot fire on ${wrong.join(', ')} (it applies to ${FAULT_ROUTES[fault.kind].join(', ')})`,
      });
    }
  });
export type Fault = z.infer<typeof faultSchema>;

/** A limit that may be switched off with Infinity (`.inf` in YAML). */
const limit = (min: number) =>
  z.union([z.number().min(min), z.literal(Infinity)], { error: `expected a number >= ${min}, or Infinity (.inf in YAML)` });
const seconds = z.number().nonnegative();

/** How answers are shaped: as documented, or as public clients observed the live service. */
export const PROFILES = ['default', 'live'] as const;
export type Profile = (typeof PROFILES)[number];

export const emulatorOptionsSchema = z.strictObject({
  /**
   * `live`: nulls where the OpenAPI allows them, numbers and strings swapped on every other task,
   * extra fields, `final_unit_deduction`, "not found" as HTTP 400 code 1201, a switched-off list
   * as a JSON 400 (docs/api.md). @default 'default'
   */
  profile: z.enum(PROFILES).default('default'),
  /** @default 0 (any free port) */
  port: z.number().int().min(0).max(65535).default(0),
  /** @default '127.0.0.1' */
  host: z.string().min(1).default('127.0.0.1'),
  /** Accepted bearer keys; an empty list revokes every key. @default ['emulator-key'] */
  keys: z.array(z.string().min(1)).default(['emulator-key']),
  /** Real ms per emulated ms, applied to every duration (0.001: a 3-minute task takes 180 ms). @default 1 */
  timeScale: z.number().positive().default(1),
  /** Emulated seconds a task stays `submitted`. @default 5 */
  queueS: seconds.default(5),
  /** Emulated seconds a task stays `processing`. @default 60 */
  processingS: seconds.default(60),
  /** Per-duration override of processingS, e.g. `{ "10": 120 }`. @default {} */
  processingSByDuration: z.record(z.string().regex(/^[1-9]\d*$/, { error: 'expected whole seconds, e.g. "10"' }), seconds).default({}),
  /** Unfinished tasks per key; more → HTTP 429 code 1303. @default 10 */
  concurrency: limit(1).default(10),
  /**
   * Unfinished tasks per key and model, as Kling counts them: one limit for every model, or a map
   * from model_name to its limit (a model it does not name has only `concurrency`); more → HTTP
   * 429 code 1303. @default Infinity
   */
  concurrencyPerModel: z.union([limit(1), z.record(z.string().min(1), limit(1))]).default(Infinity),
  /** Models the account may not use: a create for one → HTTP 403 code 1103. @default [] */
  noAccessModels: z.array(z.string().min(1)).default([]),
  /** API requests per emulated minute per key; more → HTTP 429 code 1302. @default 600 */
  rpm: limit(1).default(600),
  /** Account balance; a create that would exceed it → HTTP 429 code 1102. @default Infinity */
  balanceUsd: limit(0).default(Infinity),
  /** Price billed for a model/mode/duration the price table does not list. @default 0.1 */
  unknownPriceUsd: z.number().nonnegative().default(0.1),
  /** Emulated seconds a video URL stays valid; then it answers as `staleUrlAnswer` says. @default 3600 */
  urlTtlS: z.number().positive().default(3600),
  /**
   * How an expired video URL answers: 403 (an HTML page, like a CDN), 400 or 401 (an XML error,
   * like a cloud bucket's expired or refused signature), 500 (an HTML error page), or `html` (200
   * with a "link expired" HTML page). @default 403
   */
  staleUrlAnswer: z.union([z.literal(400), z.literal(401), z.literal(403), z.literal(500), z.literal('html')]).default(403),
  /** Emulated seconds a `stalled-download` answer sends nothing, half-way through the video. @default 90 */
  downloadStallS: seconds.default(90),
  /** What a create with an external_task_id the key already used does. @default 'reject' */
  duplicateExternalId: z.enum(['reject', 'return-existing', 'accept']).default('reject'),
  /** Whether GET .../{id} also finds tasks by external_task_id. @default true */
  externalIdLookup: z.boolean().default(true),
  /** Whether the list call exists (false: 404 HTML like an unknown gateway path; a JSON 400 in `live`). @default true */
  listSupported: z.boolean().default(true),
  /** Emulated seconds after a create during which lookups by external id and the list do not show the task yet. @default 0 */
  lookupLagS: seconds.default(0),
  /** The list answers empty pages beyond this one, like a scan cut short on a large account. @default Infinity */
  listMaxPages: limit(1).default(Infinity),
  /** Finished tasks of other tools already on each key's account (every other one with an external id), made at its first request. @default 0 */
  foreignTasks: z.number().int().min(0).default(0),
  /** A prompt containing it ends `failed` with the risk-control message. @default '[[moderate]]' */
  failMarker: z.string().min(1).default('[[moderate]]'),
  /** A prompt containing it is refused at submit (HTTP 400, code 1301). @default '[[reject]]' */
  rejectMarker: z.string().min(1).default('[[reject]]'),
  /** Emulated seconds a `late-create` fault holds a create before its task is made. @default 100 */
  lateCreateS: seconds.default(100),
  /** Task ids written as bare JSON numbers (19 digits, beyond what a JS number holds exactly). @default false */
  numericTaskIds: z.boolean().default(false),
  /** How an unfinished task's status reads: one word for both stages (`queued`), or [while queued, while processing]. @default ['submitted', 'processing'] */
  inProgressStatus: z.union([z.string().min(1), z.tuple([z.string().min(1), z.string().min(1)])]).default(['submitted', 'processing']),
  /** The unit of `created_at` and `updated_at`: milliseconds, or whole seconds. @default 'ms' */
  createdAtUnit: z.enum(['ms', 's']).default('ms'),
  /** Seconds the provider's clock is ahead of ours in the timestamps it sends (negative: behind); not scaled by timeScale. @default 0 */
  clockOffsetS: z.number().default(0),
  /** Injected faults, drawn in list order; the first that fires wins. @default [] */
  faults: z.array(faultSchema).default([]),
  /** Seed of the fault PRNG. @default 1 */
  seed: z.number().int().default(1),
  /** A file that keeps the tasks across restarts (created if missing). @default none: tasks live as long as the emulator */
  tasksFile: z.string().min(1).optional(),
});

export type EmulatorOptions = z.output<typeof emulatorOptionsSchema>;
/**
 * What callers pass: every field optional; the clock and the model and price tables only
 * programmatically (never from YAML or JSON). @default the shipped tables
 */
export type EmulatorOptionsInput = z.input<typeof emulatorOptionsSchema> & { readonly clock?: Clock; readonly models?: ModelTable; readonly prices?: PriceTable };

/** The option names a map at `path` takes: the top level's, or a fault's. */
const namesAt = (path: readonly PropertyKey[]): string[] => Object.keys(path[0] === 'faults' ? faultSchema.shape : emulatorOptionsSchema.shape);

/** A zod failure as one sentence naming the option (and the file, when there is one). */
function describeIssues(input: unknown, error: z.ZodError, source: string): string {
  const issue = error.issues[0];
  if (!issue) return `Invalid emulator options in ${source}.`;
  if (issue.code === 'unrecognized_keys') {
    // A typo (`time_scale`) gets the name it meant; names are camelCase, as in the API of startEmulator.
    return issue.keys
      .map((key) => {
        const hint = didYouMean(key, namesAt(issue.path));
        return `Unknown emulator option \`${[...issue.path, key].join('.')}\` in ${source}.${hint ? ` ${hint}` : ''}`;
      })
      .join(' ');
  }
  const value = valueAt(input, issue.path);
  // Keys may be real API keys: never echoed.
  const got = value === undefined || issue.path[0] === 'keys' ? '' : `, got ${echo(value)}`;
  return `Invalid emulator option \`${issue.path.join('.') || '(top level)'}\` in ${source}: ${issue.message}${got}.`;
}

/** Applies defaults and validates. Throws InputError naming the option. */
export function resolveOptions(input: unknown, source = 'the emulator options'): EmulatorOptions {
  const result = emulatorOptionsSchema.safeParse(input);
  if (!result.success) throw new InputError('input_invalid', describeIssues(input, result.error, source));
  return result.data;
}

/**
 * Reads a YAML options file (same field names as the options). Throws InputError naming the file
 * as `shownAs` (what the user typed, when `path` was resolved against a working directory).
 */
export function loadEmulatorConfig(path: string, shownAs = path): z.input<typeof emulatorOptionsSchema> {
  const file = shownAs;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new InputError('input_missing', `Cannot read the emulator config file ${file}: ${(cause as Error).message}.`, { cause });
  }
  let data: unknown;
  try {
    data = parse(text) ?? {};
  } catch (cause) {
    throw new InputError('input_invalid', `The emulator config file ${file} is not valid YAML: ${(cause as Error).message}`, { cause });
  }
  const result = emulatorOptionsSchema.safeParse(data);
  if (!result.success) throw new InputError('input_invalid', describeIssues(data, result.error, file));
  // Return what the file said, not the defaults, so command-line flags can still override it.
  return data as z.input<typeof emulatorOptionsSchema>;
}
