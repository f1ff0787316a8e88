// An in-memory provider for runner unit tests: tasks finish after `finishAfterPolls` polls, and a
// script of answers lets a test inject exactly the failure it is about.
import { ProviderError } from '../../src/api/errors.js';
import type { ProviderClient } from '../../src/api/provider.js';
import type { CreateTaskBody, Task } from '../../src/api/schemas.js';

export type Scripted = 'ok' | 'lost' | 'reject-1303' | 'reject-1201-duplicate' | 'reject-1102' | 'reject-1201' | 'server-5000';

export class FakeProvider implements ProviderClient {
  readonly tasks = new Map<string, Task & { polls: number }>();
  readonly created: CreateTaskBody[] = [];
  readonly calls: string[] = [];
  createScript: Scripted[] = [];
  pollScript: Array<'ok' | 'revoked' | 'server-5000'> = [];
  externalLookup = true;
  listSupported = true;
  finishAfterPolls = 1;
  failPrompts = new Set<string>();
  #next = 1;

  async createTask(body: CreateTaskBody): Promise<Task> {
    this.calls.push('create');
    const step = this.createScript.shift() ?? 'ok';
    const refuse = (code: number, message: string) => new ProviderError(message, { code, errorClass: code === 1303 ? 'retryable-concurrency' : code === 1102 ? 'fatal-run' : 'fatal-job', httpStatus: code === 1201 ? 400 : 429, outcome: 'rejected' });
    if (step === 'reject-1303') throw refuse(1303, 'parallel task over resource pack limit');
    if (step === 'reject-1102') throw refuse(1102, 'insufficient balance');
    if (step === 'reject-1201') throw refuse(1201, 'prompt is too long');
    if (step === 'server-5000') throw new ProviderError('server error', { code: 5000, errorClass: 'retryable-server', httpStatus: 500 });
    const existing = [...this.tasks.values()].find((t) => t.task_info?.external_task_id === body.external_task_id);
    if (step === 'reject-1201-duplicate' || existing) throw refuse(1201, 'external_task_id already exists');
    this.created.push(body);
    const task = { task_id: `T${this.#next++}`, task_status: 'submitted' as const, task_info: { external_task_id: body.external_task_id }, created_at: Date.now(), updated_at: Date.now(), polls: 0, prompt: body.prompt };
    this.tasks.set(task.task_id, task);
    if (step === 'lost') throw new ProviderError('socket hang up', { code: 'network', errorClass: 'retryable-server' });
    return this.#view(task);
  }

  async getTask(taskId: string): Promise<Task> {
    this.calls.push('get');
    const step = this.pollScript.shift() ?? 'ok';
    if (step === 'revoked') throw new ProviderError('key revoked', { code: 1001, errorClass: 'fatal-run', httpStatus: 401 });
    if (step === 'server-5000') throw new ProviderError('server error', { code: 5000, errorClass: 'retryable-server', httpStatus: 500 });
    const task = this.tasks.get(taskId);
    if (!task) throw new ProviderError('task not found', { code: 1203, errorClass: 'fatal-job', httpStatus: 404 });
    task.polls += 1;
    if (task.polls >= this.finishAfterPolls) {
      const failed = this.failPrompts.has(String(task.prompt));
      task.task_status = failed ? 'failed' : 'succeed';
      if (failed) task.task_status_msg = 'Failure to pass the risk control system';
      else task.task_result = { videos: [{ id: `v-${taskId}`, url: `https://cdn.test/${taskId}.mp4`, duration: '5' }] };
    } else {
      task.task_status = 'processing';
    }
    return this.#view(task);
  }

  async findByExternalId(externalTaskId: string): Promise<Task | null> {
    this.calls.push('lookup');
    if (!this.externalLookup) return null;
    const task = [...this.tasks.values()].find((t) => t.task_info?.external_task_id === externalTaskId);
    return task ? this.#view(task) : null;
  }

  async listTasks(): Promise<Task[]> {
    this.calls.push('list');
    if (!this.listSupported) throw new ProviderError('not supported by this provider', { code: 'unsupported', errorClass: 'fatal-job' });
    return [...this.tasks.values()].reverse().map((t) => this.#view(t));
  }

  /** Tasks created per external id: the "never pay twice" measure. */
  createdPerExternalId(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const body of this.created) counts.set(String(body.external_task_id), (counts.get(String(body.external_task_id)) ?? 0) + 1);
    return counts;
  }

  #view(task: Task & { polls: number }): Task {
    const { polls: _polls, ...rest } = task;
    return structuredClone(rest);
  }
}
