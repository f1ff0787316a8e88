// The three calls of the emulated provider (create, get one, list), each a function of the state
// and the clock that returns an Answer. Auth, rate limits, faults and the transport are server.ts's.
import { API_DEFAULTS, type CreateTaskBody, type TaskStatus } from '../api/schemas.js';
import { priceOf, priceParams } from '../data/prices.js';
import type { ModelTable, PriceTable } from '../data/tables.js';
import type { Clock } from '../effects.js';
import type { FaultInjector } from './faults.js';
import type { InFlight, RateLimiter } from './limits.js';
import type { EmulatorOptions } from './options.js';
import type { StatsCollector } from './stats.js';
import { statusAt, type TaskRecord, type TaskStore } from './tasks.js';
import { validateCreateBody } from './validate.js';
import type { VideoLinks } from './videos.js';
import { documentedTask, failure, liveTask, RawNumber, success, type Answer, type TaskFacts } from './wire.js';

export interface EmulatorState {
  /** Replaced as a whole by configure(). */
  options: EmulatorOptions;
  /** Set once the server listens. */
  baseUrl: string;
  readonly clock: Clock;
  readonly store: TaskStore;
  readonly inFlight: InFlight;
  readonly rate: RateLimiter;
  readonly stats: StatsCollector;
  readonly faults: FaultInjector;
  readonly links: VideoLinks;
  readonly models: ModelTable;
  readonly prices: PriceTable;
}

export const MODERATION_MESSAGE = 'Failure to pass the risk control system';
export const PROVIDER_FAILURE_MESSAGE = 'Task failed: internal error during video generation';

/** Real milliseconds for emulated seconds. */
export function realMs(state: EmulatorState, seconds: number): number {
  return seconds * 1000 * state.options.timeScale;
}

const toMicroUsd = (usd: number): number => (Number.isFinite(usd) ? Math.round(usd * 1e6) : usd);

function videoUrl(state: EmulatorState, task: TaskRecord, now: number): string {
  if (!task.link || now >= task.link.expiresAt) {
    const expiresAt = Math.ceil(now + realMs(state, state.options.urlTtlS));
    task.link = { token: state.links.mint(task, expiresAt), expiresAt };
  }
  return `${state.baseUrl}/__videos/${task.link.token}.mp4`;
}

/** A moment as the provider's clock writes it: `clockOffsetS` away from ours, in `createdAtUnit`. */
function providerTime(options: EmulatorOptions, ms: number): number {
  const at = ms + options.clockOffsetS * 1000;
  return options.createdAtUnit === 's' ? Math.floor(at / 1000) : at;
}

/** The status word on the wire: an unfinished task's as `inProgressStatus` says. */
function statusWord(options: EmulatorOptions, status: TaskStatus): string {
  const words = options.inProgressStatus;
  if (status === 'submitted') return typeof words === 'string' ? words : words[0];
  if (status === 'processing') return typeof words === 'string' ? words : words[1];
  return status;
}

/** The task object as the provider returns it at `now`, to a create call or a query. */
export function taskView(state: EmulatorState, task: TaskRecord, now: number, answer: 'create' | 'query' = 'query'): Record<string, unknown> {
  const { options } = state;
  const { status, updatedAt } = statusAt(task, now);
  const facts: TaskFacts = {
    taskId: options.numericTaskIds ? new RawNumber(task.taskId) : task.taskId,
    status: statusWord(options, status),
    failure: task.failure,
    externalTaskId: task.externalTaskId,
    createdAt: providerTime(options, task.createdAt),
    updatedAt: providerTime(options, updatedAt),
    video: status === 'succeed' ? { url: videoUrl(state, task, now), duration: task.duration } : undefined,
    priceMicroUsd: task.priceMicroUsd,
  };
  return options.profile === 'live' ? liveTask(facts, answer) : documentedTask(facts);
}

/** Billed like the plan estimates it, from the same tables: per second, by model, mode and sound. */
function priceMicroUsd(state: EmulatorState, body: Omit<CreateTaskBody, 'image'>): number {
  const usd = priceOf(state.prices, priceParams(body, state.models));
  return toMicroUsd(usd ?? state.options.unknownPriceUsd);
}

/** A model's own limit on unfinished tasks (concurrencyPerModel); Infinity when it has none. */
function modelLimit(options: EmulatorOptions, model: string): number {
  const limits = options.concurrencyPerModel;
  return typeof limits === 'number' ? limits : (limits[model] ?? Infinity);
}

export function createTask(state: EmulatorState, key: string, text: string, failTask: boolean): Answer {
  const { options, clock, store, stats } = state;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return failure(400, 1201, 'The request body is not valid JSON');
  }
  const validation = validateCreateBody(json, state.models);
  if (!validation.ok) return failure(400, 1201, validation.message);
  const body = validation.body;
  const model = body.model_name ?? API_DEFAULTS.model_name;
  if (options.noAccessModels.includes(model)) return failure(403, 1103, `No permission to use model ${model}: the account has no access to it`);
  if (body.prompt?.includes(options.rejectMarker)) {
    return failure(400, 1301, 'The content of the request did not pass the content security review');
  }
  const now = clock.now();
  const externalTaskId = body.external_task_id;
  const existing = externalTaskId === undefined ? undefined : store.byExternalId(key, externalTaskId);
  if (existing && options.duplicateExternalId === 'reject') return failure(400, 1201, 'external_task_id already exists');
  if (existing && options.duplicateExternalId === 'return-existing') return success(taskView(state, existing, now, 'create'));

  const price = priceMicroUsd(state, body);
  if (stats.billedMicroUsd + price > toMicroUsd(options.balanceUsd)) {
    return failure(429, 1102, 'Account balance is not enough: insufficient balance');
  }
  if (state.inFlight.unfinished(key, now) >= options.concurrency || state.inFlight.unfinished(key, now, model) >= modelLimit(options, model)) {
    return failure(429, 1303, 'Parallel task over resource pack limit');
  }
  const duration = body.duration ?? API_DEFAULTS.duration;
  const processingAt = now + realMs(state, options.queueS);
  const task = store.create({
    key,
    externalTaskId,
    duration,
    createdAt: now,
    processingAt,
    endAt: processingAt + realMs(state, options.processingSByDuration[duration] ?? options.processingS),
    failure: body.prompt?.includes(options.failMarker) ? MODERATION_MESSAGE : failTask ? PROVIDER_FAILURE_MESSAGE : undefined,
    priceMicroUsd: price,
  });
  state.inFlight.add(key, task.endAt, now, model);
  stats.taskCreated(externalTaskId, price);
  return success(taskView(state, task, now, 'create'));
}

/** Before a key's first call is answered: the tasks other tools left on its account. */
export function seedAccount(state: EmulatorState, key: string): void {
  const { options } = state;
  state.store.seedForeign(key, options.foreignTasks, state.clock.now(), (seconds) => realMs(state, seconds), toMicroUsd(options.unknownPriceUsd));
}

/** "No such task", in the profile's words: Kling's documented 404/1203, or the live service's 400/1201. */
function notFound(state: EmulatorState, id: string): Answer {
  if (state.options.profile === 'live') return failure(400, 1201, `Task not found by id ${id}`);
  return failure(404, 1203, 'Task not found: the requested resource does not exist');
}

/** Lookups by external id and the list see a task only `lookupLagS` after its create. */
const visibleUntil = (state: EmulatorState, now: number): number => now - realMs(state, state.options.lookupLagS);

/** GET by task_id, or by external_task_id in the same path slot when lookups by it are on. */
export function getTask(state: EmulatorState, key: string, id: string): Answer {
  const now = state.clock.now();
  const byExternalId = state.options.externalIdLookup ? state.store.byExternalId(key, id) : undefined;
  const task = state.store.byTaskId(key, id) ?? (byExternalId && byExternalId.createdAt <= visibleUntil(state, now) ? byExternalId : undefined);
  if (!task) return notFound(state, id);
  return success(taskView(state, task, now));
}

function pageParam(query: URLSearchParams, name: string, fallback: number, max: number): number | string {
  const raw = query.get(name);
  if (raw === null) return fallback;
  const value = Number(raw);
  if (/^\d+$/.test(raw) && value >= 1 && value <= max) return value;
  return `Invalid query parameter \`${name}\`: expected an integer from 1 to ${max}, got \`${raw}\``;
}

/** GET ?pageNum&pageSize: the key's tasks, newest first. */
export function listTasks(state: EmulatorState, key: string, query: URLSearchParams): Answer {
  const pageNum = pageParam(query, 'pageNum', 1, 1000);
  const pageSize = pageParam(query, 'pageSize', 30, 500);
  if (typeof pageNum === 'string') return failure(400, 1201, pageNum);
  if (typeof pageSize === 'string') return failure(400, 1201, pageSize);
  const now = state.clock.now();
  if (pageNum > state.options.listMaxPages) return success([]);
  return success(state.store.page(key, pageNum, pageSize, visibleUntil(state, now)).map((task) => taskView(state, task, now)));
}

/** The list switched off, as the live service answers it: the call refused with a JSON 400 (after auth). */
export function listRefused(): Answer {
  return failure(400, 1201, 'Invalid request parameters: a task id is required');
}
