// The ProviderClient over HTTP: CometAPI's Kling image-to-video endpoints, or the emulator.
import { InputError } from '../errors.js';
import { VERSION } from '../version.js';
import { ProviderError } from './errors.js';
import { type Exchange, type HttpConfig, send } from './http.js';
import { type ParseContext, type RawResponse, parseResponse } from './parse.js';
import type { CallOptions, ListOptions, ProviderClient } from './provider.js';
import type { CreateTaskBody, Task } from './schemas.js';

export const DEFAULT_BASE_URL = 'https://api.cometapi.com';
export const DEFAULT_TIMEOUT_MS = 30_000;
const TASKS_PATH = '/kling/v1/videos/image2video';

export interface ClientOptions {
  /** Without a trailing slash; a path prefix (a proxy) is kept. @default 'https://api.cometapi.com' */
  readonly baseUrl?: string;
  /** The CometAPI key. Never echoed, not even in the error for an invalid one. */
  readonly apiKey: string;
  /** @default globalThis.fetch */
  readonly fetch?: typeof fetch;
  /** Per request, reading the answer included. @default 30_000 */
  readonly timeoutMs?: number;
  /** @default `klingrun/<version>` */
  readonly userAgent?: string;
  /** Clock for HTTP-date Retry-After values. @default Date.now */
  readonly now?: () => number;
}

export function createClient(options: ClientOptions): ProviderClient {
  const config = resolve(options);
  const now = options.now ?? Date.now;

  const request = async (exchange: Exchange, parsing: Pick<ParseContext, 'optionalRoute' | 'oneTask'> = {}): Promise<[RawResponse, ParseContext]> => {
    const raw = await send(config, exchange);
    return [raw, { label: `${exchange.method} ${exchange.path}`, secret: config.apiKey, now: now(), ...parsing }];
  };

  return {
    async createTask(body: CreateTaskBody, callOptions?: CallOptions): Promise<Task> {
      const [raw, context] = await request({ method: 'POST', path: TASKS_PATH, body, signal: callOptions?.signal });
      return orThrow(parseResponse(raw, 'task', context));
    },

    async getTask(taskId: string, callOptions?: CallOptions): Promise<Task> {
      const path = `${TASKS_PATH}/${encodeURIComponent(taskId)}`;
      const [raw, context] = await request({ method: 'GET', path, signal: callOptions?.signal }, { oneTask: true });
      return orThrow(parseResponse(raw, 'task', context));
    },

    async findByExternalId(externalTaskId: string, callOptions?: CallOptions): Promise<Task | null> {
      const path = `${TASKS_PATH}/${encodeURIComponent(externalTaskId)}`;
      const [raw, context] = await request({ method: 'GET', path, signal: callOptions?.signal }, { oneTask: true, optionalRoute: 'looking up tasks by external_task_id' });
      const result = parseResponse(raw, 'task', context);
      if (result instanceof ProviderError && result.code === 'not_found') return null;
      const task = orThrow(result);
      // The slot also takes task ids: an answer naming another external id is some other task.
      const named = task.task_info?.external_task_id;
      return named === undefined || named === externalTaskId ? task : null;
    },

    async listTasks(listOptions: ListOptions): Promise<Task[]> {
      const pageNum = checkInteger('pageNum', listOptions.pageNum, 1, 1000);
      const pageSize = checkInteger('pageSize', listOptions.pageSize, 1, 500);
      const path = `${TASKS_PATH}?pageNum=${pageNum}&pageSize=${pageSize}`;
      const [raw, context] = await request({ method: 'GET', path, signal: listOptions.signal }, { optionalRoute: 'listing tasks' });
      return orThrow(parseResponse(raw, 'list', context));
    },
  };
}

function orThrow<T>(result: T | ProviderError): T {
  if (result instanceof ProviderError) throw result;
  return result;
}

function resolve(options: ClientOptions): HttpConfig {
  const { apiKey } = options;
  // Visible ASCII only: fetch would otherwise reject the header with a message that quotes it.
  if (typeof apiKey !== 'string' || !/^[\x21-\x7e]+$/.test(apiKey)) {
    throw new InputError('input_invalid', 'Expected the API key to be a non-empty string of visible ASCII characters (no spaces or line breaks); the value is not shown because it is a secret');
  }
  const baseUrl = (options.baseUrl ?? DEFAULT_BASE_URL).replace(/\/+$/, '');
  if (!URL.canParse(baseUrl) || !/^https?:$/.test(new URL(baseUrl).protocol)) {
    throw new InputError('input_invalid', `Expected \`baseUrl\` to be an http(s) URL, got \`${baseUrl}\` (${typeof options.baseUrl})`);
  }
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new InputError('input_invalid', `Expected \`timeoutMs\` to be a number > 0, got \`${timeoutMs}\` (${typeof timeoutMs})`);
  }
  return {
    baseUrl,
    apiKey,
    fetch: options.fetch ?? globalThis.fetch,
    timeoutMs,
    userAgent: options.userAgent ?? `klingrun/${VERSION}`,
  };
}

function checkInteger(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`Expected \`${name}\` to be an integer from ${min} to ${max}, got \`${value}\` (${typeof value})`);
  }
  return value;
}
