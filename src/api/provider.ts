// The provider as the runner sees it. api/client.ts implements it over HTTP; tests may fake it.
import type { CreateTaskBody, Task } from './schemas.js';

export interface CallOptions {
  readonly signal?: AbortSignal;
}

export interface ListOptions extends CallOptions {
  /** 1-1000 */
  readonly pageNum: number;
  /** 1-500 */
  readonly pageSize: number;
}

export interface ProviderClient {
  /** POST the create call. Throws ProviderError; `outcome: 'unknown'` means a task may exist anyway. */
  createTask(body: CreateTaskBody, options?: CallOptions): Promise<Task>;
  /** GET one task by its task_id. */
  getTask(taskId: string, options?: CallOptions): Promise<Task>;
  /**
   * GET one task by external_task_id in the path slot. Resolves null when the provider says
   * "not found" (ambiguous: it may not support external-id lookups at all).
   */
  findByExternalId(externalTaskId: string, options?: CallOptions): Promise<Task | null>;
  /** GET the task list, newest first. Throws ProviderError with code 'unsupported' when not offered. */
  listTasks(options: ListOptions): Promise<Task[]>;
}
