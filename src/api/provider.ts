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
  /** GET one task by its task_id. Throws ProviderError code 'not_found' when the provider has no such task. */
  getTask(taskId: string, options?: CallOptions): Promise<Task>;
  /**
   * GET one task by external_task_id in the path slot. Resolves null when the provider says
   * "not found" (ambiguous: the task may not be visible yet, or lookups by external id may not
   * exist here), and when the answer names a different external_task_id. Throws ProviderError
   * code 'unsupported' when the route does not exist (redirect, HTML 404, 405, 501, a JSON refusal).
   */
  findByExternalId(externalTaskId: string, options?: CallOptions): Promise<Task | null>;
  /**
   * GET the task list, newest first. Throws ProviderError code 'unsupported' when the list is not
   * offered: a missing route, or a refusal such as a JSON 400. Auth and account errors stay 'fatal-run'.
   */
  listTasks(options: ListOptions): Promise<Task[]>;
}
