// An in-memory provider for runner unit tests: tasks finish after `finishAfterPolls` polls, and a
// script of answers lets a test inject exactly the failure it is about. The world's awkward shapes
// are switches: lookups and the list lagging behind creates, a list that stops answering pages,
// duplicate external ids accepted, tasks the provider forgets.
import { ProviderError } from '../../src/api/errors.js';
import type { ProviderClient } from '../../src/api/provider.js';
import type { CreateTaskBody, Task } from '../../src/api/schemas.js';

export type Scripted = 'ok' | 'lost' | 'reject-1303' | 'reject-1201-duplicate' | 'reject-1102' | 'reject-1201' | 'server-5000';

type Stored = Task & { polls: number; prompt: string | undefined };

export class FakeProvider implements ProviderClient {
  readonly tasks = new Map<string, Stored>();
  readonly created: CreateTaskBody[] = [];
  readonly calls: string[] = [];
  createScript: Scripted[] = [];
  pollScript: Array<'ok' | 'revoked' | 'server-5000'> = [];
  externalLookup = true;
  listSupported = true;
  finishAfterPolls = 1;
  failPrompts = new Set<string>();
  /** The provider's clock (the harness shares its virtual one). */
  now: () => number = Date.now;
  /** Lookups by external id and the list do not show a task until this long after its create. */
  lagMs = 0;
  /** What a create with an external id already used does. */
  duplicates: 'reject' | 'accept' = 'reject';
  /** The list answers nothing past this page (a truncated scan of a large account). */
  listMaxPages = Infinity;
  /** Tasks of other tools (other shards) created since: listed before ours, newest first. */
  foreignTasks = 0;
  /** Lookups by external id answer "not found" for every id (a gateway that ignores the path slot's meaning). */
  lookupBroken = false;
  /** Every call fails as if no connection could be made (a wrong base URL, DNS, TLS). */
  unreachable = false;
  /** The provider forgets a task after this many polls of it (a restart, a purge). */
  forgetAfterPolls = Infinity;
  /** Every ended task carries the units it cost (`final_unit_deduction`). */
  units: number | undefined;
  #next = 1;

  async createTask(body: CreateTaskBody): Promise<Task> {
    this.calls.push('create');
    this.#reach();
    const step = this.createScript.shift() ?? 'ok';
    const refuse = (code: number, message: string) => new ProviderError(message, { code, errorClass: code === 1303 ? 'retryable-concurrency' : code === 1102 ? 'fatal-run' : 'fatal-job', httpStatus: code === 1201 ? 400 : 429, outcome: 'rejected' });
    if (step === 'reject-1303') throw refuse(1303, 'parallel task over resource pack limit');
    if (step === 'reject-1102') throw refuse(1102, 'insufficient balance');
    if (step === 'reject-1201') throw refuse(1201, 'prompt is too long');
    if (step === 'server-5000') throw new ProviderError('server error', { code: 5000, errorClass: 'retryable-server', httpStatus: 500 });
    const existing = [...this.tasks.values()].find((t) => t.task_info?.external_task_id === body.external_task_id);
    if (step === 'reject-1201-duplicate' || (existing && this.duplicates === 'reject')) throw refuse(1201, 'external_task_id already exists');
    this.created.push(body);
    const now = this.now();
    const task: Stored = { task_id: `T${this.#next++}`, task_status: 'submitted', task_info: { external_task_id: body.external_task_id }, created_at: now, updated_at: now, polls: 0, prompt: body.prompt };
    this.tasks.set(task.task_id, task);
    if (step === 'lost') throw new ProviderError('socket hang up', { code: 'network', errorClass: 'retryable-server' });
    return this.#view(task);
  }

  async getTask(taskId: string): Promise<Task> {
    this.calls.push('get');
    this.#reach();
    const step = this.pollScript.shift() ?? 'ok';
    if (step === 'revoked') throw new ProviderError('key revoked', { code: 1001, errorClass: 'fatal-run', httpStatus: 401 });
    if (step === 'server-5000') throw new ProviderError('server error', { code: 5000, errorClass: 'retryable-server', httpStatus: 500 });
    const task = this.tasks.get(taskId);
    if (!task) throw new ProviderError('Task not found by id', { code: 'not_found', errorClass: 'fatal-job', httpStatus: 400 });
    task.polls += 1;
    if (task.polls > this.forgetAfterPolls) {
      this.forget(taskId);
      throw new ProviderError('Task not found by id', { code: 'not_found', errorClass: 'fatal-job', httpStatus: 400 });
    }
    if (task.polls >= this.finishAfterPolls) {
      const failed = this.failPrompts.has(String(task.prompt));
      task.task_status = failed ? 'failed' : 'succeed';
      if (failed) task.task_status_msg = 'Failure to pass the risk control system';
      else task.task_result = { videos: [{ id: `v-${taskId}`, url: `https://cdn.test/${taskId}.mp4`, duration: '5' }] };
      // Beside the status, once the task has ended, as the service sends it.
      if (this.units !== undefined) task.final_unit_deduction = this.units;
    } else {
      task.task_status = 'processing';
    }
    return this.#view(task);
  }

  async findByExternalId(externalTaskId: string): Promise<Task | null> {
    this.calls.push('lookup');
    this.#reach();
    if (!this.externalLookup) throw new ProviderError('looking up tasks by external_task_id is not supported by this provider', { code: 'unsupported', errorClass: 'fatal-job' });
    const task = this.lookupBroken ? undefined : this.#visible().find((t) => t.task_info?.external_task_id === externalTaskId);
    return task ? this.#view(task) : null;
  }

  async listTasks(options: { pageNum: number; pageSize: number }): Promise<Task[]> {
    this.calls.push('list');
    this.#reach();
    if (!this.listSupported) throw new ProviderError('listing tasks is not supported by this provider', { code: 'unsupported', errorClass: 'fatal-job' });
    if (options.pageNum > this.listMaxPages) return [];
    const now = this.now();
    const foreign: Task[] = Array.from({ length: this.foreignTasks }, (_, i) => ({ task_id: `F${i}`, task_status: 'succeed', task_info: {}, created_at: now, updated_at: now }));
    const all = [...foreign, ...this.#visible().map((t) => this.#view(t)).reverse()];
    return all.slice((options.pageNum - 1) * options.pageSize, options.pageNum * options.pageSize);
  }

  /** The provider loses a task (purged, or restarted without it). */
  forget(taskId: string): void {
    this.tasks.delete(taskId);
  }

  /** Tasks created per external id: the "never pay twice" measure. */
  createdPerExternalId(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const body of this.created) counts.set(String(body.external_task_id), (counts.get(String(body.external_task_id)) ?? 0) + 1);
    return counts;
  }

  #reach(): void {
    if (this.unreachable) throw new ProviderError('cannot connect to https://api.test: connect ECONNREFUSED', { code: 'unreachable', errorClass: 'retryable-server', outcome: 'rejected' });
  }

  /** What lookups and the list can see now: tasks older than the lag. */
  #visible(): Stored[] {
    const horizon = this.now() - this.lagMs;
    return [...this.tasks.values()].filter((t) => (t.created_at ?? 0) <= horizon);
  }

  #view(task: Stored): Task {
    const { polls: _polls, prompt: _prompt, ...rest } = task;
    return structuredClone(rest);
  }
}
