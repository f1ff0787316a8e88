// The shapes the emulator answers with: Kling's JSON envelope, the older CometAPI wrapper, and the
// HTML pages a gateway sends for unknown paths and upstream failures.
import { randomUUID } from 'node:crypto';
import type { TaskStatus } from '../api/schemas.js';

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

const LEGACY_STATUS: Record<TaskStatus, { status: string; progress: string }> = {
  submitted: { status: 'SUBMITTED', progress: '0%' },
  processing: { status: 'IN_PROGRESS', progress: '50%' },
  succeed: { status: 'SUCCESS', progress: '100%' },
  failed: { status: 'FAILURE', progress: '100%' },
};

/** The older CometAPI wrapper: `data.status`, `data.progress`, the task itself in `data.data`. */
export function toLegacy(answer: Answer): Answer {
  const task = answer.body.data as { task_id?: string; task_status?: TaskStatus; task_status_msg?: string } | undefined;
  if (answer.body.code !== 0 || !task?.task_status) return answer;
  const legacy = LEGACY_STATUS[task.task_status];
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
