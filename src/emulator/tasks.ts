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
  /** What the create was billed; the live profile reports it as `final_unit_deduction`. */
  readonly priceMicroUsd: number;
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
  readonly prefix: string;
  #sequence = 0;
  /** Keys whose account has had its foreign tasks made. */
  readonly #seeded = new Set<string>();
  readonly #onCreate: ((task: TaskRecord) => void) | undefined;

  /**
   * @param saved the tasks of an earlier emulator (persist.ts), under their own prefix.
   * @param onCreate told about each new task before it is answered (to save it).
   */
  constructor(saved?: { readonly prefix: string; readonly created: number; readonly tasks: readonly TaskRecord[] }, onCreate?: (task: TaskRecord) => void) {
    this.prefix = saved?.prefix ?? String(randomInt(100_000, 1_000_000));
    for (const task of saved?.tasks ?? []) {
      this.#add(task);
      this.#seeded.add(task.key); // an account seen before already had its foreign tasks made
    }
    this.#sequence = saved?.created ?? 0;
    this.#onCreate = onCreate;
  }

  create(init: NewTask): TaskRecord {
    this.#sequence += 1;
    const task: TaskRecord = { ...init, taskId: `${this.prefix}${String(this.#sequence).padStart(13, '0')}` };
    this.#onCreate?.(task);
    this.#add(task);
    return task;
  }

  /** Every task, in creation order (to restore the limits of a restarted emulator). */
  *all(): IterableIterator<TaskRecord> {
    yield* this.#byId.values();
  }

  #add(task: TaskRecord): void {
    this.#byId.set(task.taskId, task);
    const own = this.#own(task.key);
    own.all.push(task);
    if (task.externalTaskId !== undefined) own.byExternalId.set(task.externalTaskId, task);
  }

  byTaskId(key: string, taskId: string): TaskRecord | undefined {
    const task = this.#byId.get(taskId);
    return task?.key === key ? task : undefined;
  }

  byExternalId(key: string, externalTaskId: string): TaskRecord | undefined {
    return this.#byKey.get(key)?.byExternalId.get(externalTaskId);
  }

  /**
   * One page of the key's tasks created at or before `createdBy`, newest first; pageNum counts
   * from 1. Tasks are stored in creation order, so those visible are a prefix: found by bisection.
   */
  page(key: string, pageNum: number, pageSize: number, createdBy = Infinity): TaskRecord[] {
    const all = this.#byKey.get(key)?.all ?? [];
    let visible = all.length;
    if (createdBy !== Infinity) {
      let low = 0;
      while (low < visible) {
        const mid = (low + visible) >> 1;
        if ((all[mid] as TaskRecord).createdAt <= createdBy) low = mid + 1;
        else visible = mid;
      }
    }
    const end = visible - (pageNum - 1) * pageSize;
    return end <= 0 ? [] : all.slice(Math.max(0, end - pageSize), end).reverse();
  }

  /**
   * Once per key, before its first own task: `count` finished tasks of other tools, one a minute
   * up to `now`, every other one with an external_task_id of their own. `span(s)` turns emulated
   * seconds into clock ms. They are nobody's tasks to bill.
   */
  seedForeign(key: string, count: number, now: number, span: (seconds: number) => number, priceMicroUsd: number): void {
    if (this.#seeded.has(key)) return;
    this.#seeded.add(key);
    for (let i = count; i >= 1; i--) {
      const createdAt = now - span(60 * i);
      const externalTaskId = i % 2 === 0 ? `other-tool-${i}` : undefined;
      this.create({ key, externalTaskId, duration: '5', createdAt, processingAt: createdAt, endAt: createdAt + span(30), failure: undefined, priceMicroUsd });
    }
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
