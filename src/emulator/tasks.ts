// The task store and the lifecycle. A task's whole future (when it starts processing, when it ends,
// how it ends) is fixed when it is created; its status is read off the clock at each look, so no
// timer runs per task and 100,000 idle tasks cost only their records.
import { randomInt } from 'node:crypto';
import type { TaskStatus } from '../api/schemas.js';

export interface TaskRecord {
  readonly taskId: string;
  /** The API key that created it: tasks are visible to their own account only. */
  readonly key: string;
  readonly externalTaskId: string | undefined;
  /** Whole seconds as the API's string, e.g. "5". */
  readonly duration: string;
  /** Real ms (the injected clock). */
  readonly createdAt: number;
  readonly processingAt: number;
  readonly endAt: number;
  /** The task_status_msg when the task will end `failed`. */
  readonly failure: string | undefined;
  /** The current video URL token, reissued once it expired. */
  link?: { readonly token: string; readonly expiresAt: number };
}

export type NewTask = Omit<TaskRecord, 'taskId' | 'link'>;

interface KeyTasks {
  /** In creation order. */
  readonly all: TaskRecord[];
  /** The latest task per external_task_id. */
  readonly byExternalId: Map<string, TaskRecord>;
}

export class TaskStore {
  readonly #byId = new Map<string, TaskRecord>();
  readonly #byKey = new Map<string, KeyTasks>();
  // 19 digits like Kling's ids, with a per-instance prefix: a journal written against an earlier
  // emulator must never find (and adopt) a different task under an old id.
  readonly #prefix = String(randomInt(100_000, 1_000_000));
  #sequence = 0;

  create(init: NewTask): TaskRecord {
    this.#sequence += 1;
    const task: TaskRecord = { ...init, taskId: `${this.#prefix}${String(this.#sequence).padStart(13, '0')}` };
    this.#byId.set(task.taskId, task);
    const own = this.#own(init.key);
    own.all.push(task);
    if (task.externalTaskId !== undefined) own.byExternalId.set(task.externalTaskId, task);
    return task;
  }

  byTaskId(key: string, taskId: string): TaskRecord | undefined {
    const task = this.#byId.get(taskId);
    return task?.key === key ? task : undefined;
  }

  byExternalId(key: string, externalTaskId: string): TaskRecord | undefined {
    return this.#byKey.get(key)?.byExternalId.get(externalTaskId);
  }

  /** One page of the key's tasks, newest first; pageNum counts from 1. */
  page(key: string, pageNum: number, pageSize: number): TaskRecord[] {
    const all = this.#byKey.get(key)?.all ?? [];
    const end = all.length - (pageNum - 1) * pageSize;
    return end <= 0 ? [] : all.slice(Math.max(0, end - pageSize), end).reverse();
  }

  #own(key: string): KeyTasks {
    let own = this.#byKey.get(key);
    if (!own) this.#byKey.set(key, (own = { all: [], byExternalId: new Map() }));
    return own;
  }
}

/** Where the task is at `now`, and when it last changed. */
export function statusAt(task: TaskRecord, now: number): { status: TaskStatus; updatedAt: number } {
  if (now >= task.endAt) return { status: task.failure === undefined ? 'succeed' : 'failed', updatedAt: task.endAt };
  if (now >= task.processingAt) return { status: 'processing', updatedAt: task.processingAt };
  return { status: 'submitted', updatedAt: task.createdAt };
}
