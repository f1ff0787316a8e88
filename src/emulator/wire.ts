// The shapes the emulator answers with: Kling's JSON envelope, the task object as documented and
// as the live service sends it, the older CometAPI wrapper, and the HTML pages a gateway sends
// for unknown paths and upstream failures.
import { randomUUID } from 'node:crypto';
import type { TaskStatus } from '../api/schemas.js';
import { USD_PER_UNIT } from '../data/tables.js';

export interface WireEnvelope {
  readonly code: number;
  readonly message: string;
  readonly request_id: string;
  readonly data?: unknown;
}

/** An API answer before it is written, so faults can still reshape or cut it. */
export interface Answer {
  readonly status: number;
  readonly body: WireEnvelope;
  readonly headers?: Readonly<Record<string, string>>;
}

export function success(data: unknown): Answer {
  return { status: 200, body: { code: 0, message: 'success', request_id: randomUUID(), data } };
}

export function failure(status: number, code: number, message: string, headers?: Record<string, string>): Answer {
  return { status, body: { code, message, request_id: randomUUID() }, ...(headers ? { headers } : {}) };
}

/**
 * A number written into the JSON text as its digits, however many (JSON.stringify cannot: Node 20
 * has no JSON.rawJSON). It stringifies to a marked string that wireText() unquotes.
 */
const RAW_MARK = '\u0000raw-number:';
const RAW_NUMBER = /"\\u0000raw-number:(-?\d+)"/g;

export class RawNumber {
  constructor(readonly digits: string) {}
  toJSON(): string {
    return `${RAW_MARK}${this.digits}`;
  }
}

/** The JSON text of an answer, with RawNumbers as bare numbers. */
export const wireText = (value: unknown): string => JSON.stringify(value).replace(RAW_NUMBER, '$1');

/** One task at one moment, before it is shaped for the wire. */
export interface TaskFacts {
  readonly taskId: string | RawNumber;
  /** A Kling status, or the word `inProgressStatus` puts for an unfinished one. */
  readonly status: string;
  /** The task_status_msg of a failed task. */
  readonly failure: string | undefined;
  readonly externalTaskId: string | undefined;
  /** As the provider's clock writes them (its unit, its offset). */
  readonly createdAt: number;
  readonly updatedAt: number;
  /** Once it succeeded. */
  readonly video: { readonly url: string; readonly duration: string } | undefined;
  readonly priceMicroUsd: number;
}

/** As documented: a field without a value is left out. */
export function documentedTask(task: TaskFacts): Record<string, unknown> {
  const { video } = task;
  return {
    task_id: task.taskId,
    task_status: task.status,
    ...(task.status === 'failed' ? { task_status_msg: task.failure } : {}),
    task_info: task.externalTaskId === undefined ? {} : { external_task_id: task.externalTaskId },
    created_at: task.createdAt,
    updated_at: task.updatedAt,
    ...(video ? { task_result: { videos: [{ id: `video-${idText(task)}`, url: video.url, duration: video.duration }] } } : {}),
  };
}

/**
 * As public clients saw the live service answer a query: every nullable field present, `null`
 * without a value; fields no document names; once a task succeeded, what it cost beside its
 * status. On every other task (odd ids) timestamps and units come as numbers where the others
 * have strings, and the duration and video id the other way round. A create answer keeps the
 * types of the create call's OpenAPI document (integers, strings, no null message), which the
 * contract tests check it against.
 */
const idText = (task: TaskFacts): string => (task.taskId instanceof RawNumber ? task.taskId.digits : task.taskId);

export function liveTask(task: TaskFacts, answer: 'create' | 'query'): Record<string, unknown> {
  const id = idText(task);
  const swapped = answer === 'query' && Number(id.at(-1)) % 2 === 1;
  const time = (ms: number): number | string => (swapped ? String(ms) : ms);
  const { video } = task;
  const videos = video && [
    {
      id: swapped ? Number(id.slice(-12)) : `video-${id}`,
      url: video.url,
      duration: swapped ? Number(video.duration) : video.duration,
      watermark_url: null,
    },
  ];
  return {
    task_id: task.taskId,
    task_status: task.status,
    ...(answer === 'query' ? { task_status_msg: task.status === 'failed' ? task.failure : null } : {}),
    task_info: { external_task_id: task.externalTaskId ?? null, parent_video: null },
    created_at: time(task.createdAt),
    updated_at: time(task.updatedAt),
    task_result: videos ? { videos } : null,
    watermark_info: { enabled: false },
    // Whether a failed task is billed is not documented: the emulator says nothing of its cost.
    ...(video ? deduction(task.priceMicroUsd, swapped) : {}),
  };
}

/**
 * What a task cost, as the service says it beside `task_status`: units of Kling's standard
 * resource pack ($0.14) to the hundredth, a string ("2.5"), and the list price in USD.
 * `quota` is not documented; the emulator sends the units there too.
 */
function deduction(priceMicroUsd: number, swapped: boolean): Record<string, unknown> {
  const units = Math.round((priceMicroUsd / 1e6 / USD_PER_UNIT) * 100) / 100;
  return {
    final_unit_deduction: swapped ? units : String(units),
    final_balance_deduction: { quota: units, list_price: priceMicroUsd / 1e6 },
  };
}

const LEGACY_STATUS: Record<TaskStatus, { status: string; progress: string }> = {
  submitted: { status: 'SUBMITTED', progress: '0%' },
  processing: { status: 'IN_PROGRESS', progress: '50%' },
  succeed: { status: 'SUCCESS', progress: '100%' },
  failed: { status: 'FAILURE', progress: '100%' },
};
const isKlingStatus = (status: string): status is TaskStatus => Object.hasOwn(LEGACY_STATUS, status);

/** The older CometAPI wrapper: `data.status`, `data.progress`, the task itself in `data.data`. */
export function toLegacy(answer: Answer): Answer {
  const task = answer.body.data as { task_id?: string; task_status?: string; task_status_msg?: string } | undefined;
  if (answer.body.code !== 0 || !task?.task_status) return answer;
  // A word of `inProgressStatus`: the task is under way.
  const legacy = isKlingStatus(task.task_status) ? LEGACY_STATUS[task.task_status] : LEGACY_STATUS.processing;
  const data = { task_id: task.task_id, ...legacy, fail_reason: task.task_status_msg ?? '', data: task };
  return { ...answer, body: { ...answer.body, data } };
}

export interface HtmlPage {
  readonly status: number;
  readonly html: string;
}

const REASONS: Record<number, string> = {
  403: 'Forbidden',
  404: 'Not Found',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Temporarily Unavailable',
  504: 'Gateway Time-out',
};

/** An nginx-style error page, as a gateway or CDN sends it. */
export function htmlPage(status: number): HtmlPage {
  const title = `${status} ${REASONS[status] ?? 'Error'}`;
  return {
    status,
    html: `<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n<center><h1>${title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n`,
  };
}
