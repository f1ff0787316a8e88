// `klingrun doctor`: before a large batch, what this key and base URL offer, found out with free
// GET requests only (never a create): whether the base URL answers and how fast, whether the key
// is accepted, whether the task list is there and how many tasks are unfinished on the account,
// and whether lookups by external_task_id work. One line per check; what it learnt is saved for `run`.
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { DEFAULT_BASE_URL, createClient } from '../../api/client.js';
import { ProviderError } from '../../api/errors.js';
import type { ProviderClient } from '../../api/provider.js';
import type { Task } from '../../api/schemas.js';
import { UsageError } from '../../errors.js';
import { DEFAULT_RUN_OPTIONS } from '../../runner/options.js';
import { booleanOption, stringOption } from '../args.js';
import { EXIT, exitCodeFor } from '../exit-codes.js';
import { CACHE_ENV, KEY_ENV } from '../common-options.js';
import { type CliIO, defineCommand } from '../io.js';
import { type ProviderFacts, normalizeBaseUrl, writeProviderFacts } from '../provider-facts.js';

const USAGE = 'klingrun doctor [options]';

/** A task id in Kling's format that no account holds: looking it up can only answer "not found" or refuse the key. */
const NO_SUCH_TASK = '0000000000000000000';
/** An external id nobody sends, to tell a missing lookup route from a lookup that merely found nothing. */
const NO_SUCH_EXTERNAL_ID = 'klingrun-doctor-probe';
const KEY_PROBES = 3;
const PAGE_SIZE = 500;
/** Unfinished tasks are the newest: a few pages show them all on any account that is not flooded. */
const MAX_PAGES = 4;
/** `run`'s default, the number a user compares the account's free slots with. */
const DEFAULT_CONCURRENCY = DEFAULT_RUN_OPTIONS.concurrency;
const REQUEST_TIMEOUT_MS = 15_000;

interface Line {
  readonly check: string;
  readonly verdict: string;
  readonly meaning: string;
}

interface Diagnosis {
  readonly lines: Line[];
  /** What stopped the checks; none when a run can go ahead. */
  readonly stop?: ProviderError;
  /** Set when every check that `run` relies on came to a verdict. */
  readonly facts?: Omit<ProviderFacts, 'base_url' | 'checked_at'>;
}

/** The provider's calls, timed; a ProviderError is returned as a value, anything else (an abort) thrown. */
function timedCalls(client: ProviderClient, signal: AbortSignal) {
  const answeredMs: number[] = [];
  const timed = async <T>(call: () => Promise<T>): Promise<T | ProviderError> => {
    const started = performance.now();
    try {
      const value = await call();
      answeredMs.push(performance.now() - started);
      return value;
    } catch (error) {
      if (!(error instanceof ProviderError)) throw error;
      if (!isTransport(error)) answeredMs.push(performance.now() - started);
      return error;
    }
  };
  return {
    answeredMs,
    getTask: (id: string) => timed(() => client.getTask(id, { signal })),
    findByExternalId: (id: string) => timed(() => client.findByExternalId(id, { signal })),
    listTasks: (pageNum: number) => timed(() => client.listTasks({ pageNum, pageSize: PAGE_SIZE, signal })),
  };
}

const isTransport = (error: ProviderError): boolean => error.code === 'network' || error.code === 'timeout' || error.code === 'unreachable';
/** Any status but the two final ones: a provider may say `queued` or `running`. */
const isUnfinished = (task: Task): boolean => task.task_status !== 'succeed' && task.task_status !== 'failed';

function latencyOf(answeredMs: readonly number[]): { p50: number; max: number } {
  const sorted = [...answeredMs].sort((a, b) => a - b);
  const p50 = sorted[Math.ceil(sorted.length / 2) - 1] ?? 0;
  return { p50: Math.round(p50), max: Math.round(sorted.at(-1) ?? 0) };
}

function baseUrlLine(answeredMs: readonly number[]): Line {
  const { p50, max } = latencyOf(answeredMs);
  return { check: 'base URL', verdict: 'answers', meaning: `${answeredMs.length} request(s): ${p50} ms (p50), ${max} ms at most` };
}

async function diagnose(client: ProviderClient, signal: AbortSignal): Promise<Diagnosis> {
  const calls = timedCalls(client, signal);
  const lines: Line[] = [];
  // The base URL's line goes first but counts every request, so it is written last.
  const done = (end: Omit<Diagnosis, 'lines'>): Diagnosis => ({ lines: [baseUrlLine(calls.answeredMs), ...lines], ...end });

  // 1. The base URL and the key: a few lookups of a task that cannot exist.
  const answers: (Task | ProviderError)[] = [];
  for (let i = 0; i < KEY_PROBES; i++) {
    const answer = await calls.getTask(NO_SUCH_TASK);
    answers.push(answer);
    // No answer, or a refused key, says all there is to say.
    if (answer instanceof ProviderError && (isTransport(answer) || answer.errorClass === 'fatal-run')) break;
  }
  const probe = answers.find((answer) => !(answer instanceof ProviderError && isTransport(answer))) ?? (answers[0] as ProviderError);
  if (probe instanceof ProviderError && isTransport(probe)) {
    return { lines: [{ check: 'base URL', verdict: 'no answer', meaning: `${probe.message}: check --base-url (or COMETAPI_BASE_URL) and the network` }], stop: probe };
  }
  const key = keyLine(probe);
  lines.push(key.line);
  if (key.stop) return done({ stop: key.stop });

  // 2. The list: how many tasks hold the account's slots now.
  const scanned: Task[] = [];
  let listError: ProviderError | undefined;
  let full = false;
  for (let pageNum = 1; pageNum <= MAX_PAGES; pageNum++) {
    const page = await calls.listTasks(pageNum);
    if (page instanceof ProviderError) {
      listError = page;
      break;
    }
    scanned.push(...page);
    full = page.length === PAGE_SIZE;
    if (!full) break;
  }
  if (listError && listError.code !== 'unsupported') {
    lines.push({ check: 'task list', verdict: 'failed', meaning: `${listError.message}; run \`klingrun doctor\` again later` });
    return done({ stop: listError });
  }
  const list = listError ? 'not_available' : 'available';
  const unfinished = listError ? null : scanned.filter(isUnfinished).length;
  lines.push(listLine(unfinished, full, listError));

  // 3. Lookups by external id: only provable on a task the account already has; without one,
  // a made-up id still tells a missing route ('unsupported') from a route that found nothing.
  const candidate = scanned.find((task) => task.task_info?.external_task_id !== undefined);
  const externalId = candidate?.task_info?.external_task_id ?? NO_SUCH_EXTERNAL_ID;
  const found = await calls.findByExternalId(externalId);
  if (found instanceof ProviderError && found.code !== 'unsupported') {
    lines.push({ check: 'external ids', verdict: 'failed', meaning: `${found.message}; run \`klingrun doctor\` again later` });
    return done({ stop: found });
  }
  let lookup: ProviderFacts['lookup_by_external_id'];
  if (found instanceof ProviderError) lookup = 'not_available';
  else if (candidate === undefined) lookup = 'unknown';
  else lookup = found?.task_info?.external_task_id === externalId || found?.task_id === candidate.task_id ? 'works' : 'not_available';
  lines.push(lookupLine(lookup, list));
  return done({ facts: { lookup_by_external_id: lookup, list, unfinished_tasks: unfinished, latency_ms: latencyOf(calls.answeredMs) } });
}

function keyLine(probe: Task | ProviderError | undefined): { line: Line; stop?: ProviderError } {
  const check = 'API key';
  if (!(probe instanceof ProviderError) || probe.code === 'not_found') {
    return { line: { check, verdict: 'accepted', meaning: 'a lookup of a task that cannot exist was answered "not found"' } };
  }
  if (probe.errorClass === 'fatal-run') {
    return { line: { check, verdict: 'refused', meaning: `${probe.message}: nothing can run with this key; check COMETAPI_KEY and the account` }, stop: probe };
  }
  if (typeof probe.code === 'number' && probe.errorClass === 'fatal-job') {
    return { line: { check, verdict: 'accepted', meaning: `the provider answered a lookup of a task that cannot exist with its own refusal (code ${probe.code})` } };
  }
  return { line: { check, verdict: 'unknown', meaning: `${probe.message}: the base URL does not answer as the Kling API does (or not now)` }, stop: probe };
}

function listLine(unfinished: number | null, full: boolean, error: ProviderError | undefined): Line {
  const check = 'task list';
  if (unfinished === null) {
    return { check, verdict: 'not available', meaning: `${error?.message ?? 'not offered'}: a create whose answer was lost cannot be looked for in the list` };
  }
  const count = `${full ? 'at least ' : ''}${unfinished} unfinished task(s) on the account now${full ? ` (newest ${MAX_PAGES * PAGE_SIZE} tasks scanned)` : ''}`;
  if (unfinished === 0) return { check, verdict: 'available', meaning: `${count}: none of the account's slots is in use` };
  return {
    check,
    verdict: 'available',
    meaning: `${count}: they hold ${unfinished} of the account's slots until they end, so a run at the default concurrency ${DEFAULT_CONCURRENCY} meets 1303 refusals unless the account allows ${unfinished + DEFAULT_CONCURRENCY} tasks at once (the runner then lowers its concurrency by itself)`,
  };
}

function lookupLine(lookup: ProviderFacts['lookup_by_external_id'], list: ProviderFacts['list']): Line {
  const check = 'external ids';
  const fallback = list === 'available' ? 'a lost answer is looked for in the task list instead (slower, and only as far as the scan goes)' : 'a lost answer will leave the job unconfirmed instead of being resent';
  if (lookup === 'works') return { check, verdict: 'works', meaning: 'a create whose answer was lost is found by its external_task_id and adopted, never paid twice' };
  if (lookup === 'not_available') return { check, verdict: 'not available', meaning: fallback };
  return { check, verdict: 'unknown', meaning: `could not test (no task with an external_task_id on this account); if lookups are not offered, ${fallback}` };
}

const format = (lines: readonly Line[]): string => lines.map((line) => `  ${line.check.padEnd(13)} ${line.verdict.padEnd(14)} ${line.meaning}`).join('\n');

export const doctorCommand = defineCommand({
  usage: USAGE,
  options: {
    'base-url': { type: 'string', value: 'URL', description: "the API's base URL to check", defaultText: DEFAULT_BASE_URL, env: 'COMETAPI_BASE_URL', rule: { kind: 'url' } },
    emulator: { type: 'boolean', description: 'check the built-in offline emulator instead (nothing is saved)' },
  },
  environment: [KEY_ENV, CACHE_ENV],
  examples: [
    { command: 'klingrun doctor', description: 'check the key and the service before a large batch; run uses what it learns' },
    { command: 'klingrun doctor --base-url https://proxy.example.com', description: 'check a proxy or another gateway' },
    { command: 'klingrun doctor --emulator', description: 'see what the checks look like, offline' },
  ],
  async run(args, io: CliIO) {
    if (args.positionals.length > 0) throw new UsageError(`Unexpected argument \`${args.positionals[0]}\`. Usage: ${USAGE}`);
    const useEmulator = booleanOption(args, 'emulator');
    const apiKey = useEmulator ? `emu-${randomBytes(12).toString('hex')}` : io.env.COMETAPI_KEY;
    if (!apiKey) throw new UsageError('No API key: set COMETAPI_KEY (e.g. `export COMETAPI_KEY=sk-...`), or add --emulator to check the built-in offline emulator.');
    const emulator = useEmulator ? await (await import('../../emulator/index.js')).startEmulator({ keys: [apiKey] }) : undefined;
    try {
      const baseUrl = normalizeBaseUrl(emulator?.url ?? stringOption(args, 'base-url'));
      const client = createClient({ baseUrl, apiKey, timeoutMs: REQUEST_TIMEOUT_MS });
      io.stdout(`klingrun doctor: ${baseUrl} (GET requests only: nothing is created or paid for)\n`);
      let diagnosis: Diagnosis;
      try {
        diagnosis = await diagnose(client, io.signal);
      } catch (error) {
        if (io.signal.aborted) return EXIT.interrupted;
        throw error;
      }
      io.stdout(`${format(diagnosis.lines)}\n`);
      if (diagnosis.stop) {
        io.stdout(`\nA run cannot go ahead: ${diagnosis.stop.errorClass === 'fatal-run' ? 'the provider refused the key.' : 'fix the check above, then run `klingrun doctor` again.'}\n`);
        return exitCodeFor(diagnosis.stop);
      }
      if (diagnosis.facts && !emulator) {
        const path = writeProviderFacts({ base_url: baseUrl, checked_at: new Date().toISOString(), ...diagnosis.facts }, io.env);
        io.stdout(`\nA run can go ahead. Saved what was learnt to ${path} for \`klingrun run\`.\n`);
      } else {
        io.stdout('\nA run can go ahead. Nothing saved: the embedded emulator lasts only as long as this command.\n');
      }
      return EXIT.ok;
    } finally {
      await emulator?.close();
    }
  },
});
