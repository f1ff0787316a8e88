// A provider in memory for the 100,000-job run: the emulator's lifecycle (a task's status is read
// off the clock) without HTTP, so the run measures the runner's bookkeeping rather than 400,000
// localhost round trips. Also the video host: a 902-byte MP4 (the emulator's 5 s clip without its
// media data), which the runner's header check reads as a valid 5-second 256x144 clip.
import type { ProviderClient } from '../src/api/provider.js';
import type { CreateTaskBody, Task } from '../src/api/schemas.js';
import { type Clock, seededRandom, silentLogger } from '../src/effects.js';
import { videoAsset } from '../src/emulator/videos.js';
import type { Plan } from '../src/plan/schema.js';
import type { ResolvedRunOptions } from '../src/runner/context.js';
import { ConcurrencyGate, RequestLimiter } from '../src/runner/limits.js';
import { type RunInput, type RunResult, runJobs } from '../src/runner/run.js';

interface Stored {
  readonly taskId: string;
  readonly externalTaskId: string | undefined;
  readonly createdAt: number;
  readonly endAt: number;
}

export class MemoryProvider implements ProviderClient {
  readonly #tasks = new Map<string, Stored>();
  readonly #byExternalId = new Map<string, Stored>();
  readonly #clock: Clock;
  readonly #taskMs: number;
  #sequence = 0;
  requests = 0;

  constructor(clock: Clock, taskMs: number) {
    this.#clock = clock;
    this.#taskMs = taskMs;
  }

  async createTask(body: CreateTaskBody): Promise<Task> {
    this.requests += 1;
    const now = this.#clock.now();
    const task: Stored = { taskId: `7${String(++this.#sequence).padStart(18, '0')}`, externalTaskId: body.external_task_id, createdAt: now, endAt: now + this.#taskMs };
    this.#tasks.set(task.taskId, task);
    if (task.externalTaskId !== undefined) this.#byExternalId.set(task.externalTaskId, task);
    return this.#view(task);
  }

  async getTask(taskId: string): Promise<Task> {
    this.requests += 1;
    const task = this.#tasks.get(taskId);
    if (!task) throw new Error(`memory provider: no task ${taskId}`);
    const view = this.#view(task);
    // The runner never asks about a finished task again (no URL expires here): forget it, so the
    // process's memory is the runner's, not a provider's archive of 100,000 tasks.
    if (view.task_status === 'succeed') {
      this.#tasks.delete(taskId);
      if (task.externalTaskId !== undefined) this.#byExternalId.delete(task.externalTaskId);
    }
    return view;
  }

  async findByExternalId(externalTaskId: string): Promise<Task | null> {
    this.requests += 1;
    const task = this.#byExternalId.get(externalTaskId);
    return task ? this.#view(task) : null;
  }

  async listTasks(): Promise<Task[]> {
    this.requests += 1;
    return [];
  }

  #view(task: Stored): Task {
    const done = this.#clock.now() >= task.endAt;
    return {
      task_id: task.taskId,
      task_status: done ? 'succeed' : 'processing',
      task_info: task.externalTaskId === undefined ? {} : { external_task_id: task.externalTaskId },
      created_at: task.createdAt,
      updated_at: done ? task.endAt : task.createdAt,
      ...(done ? { task_result: { videos: [{ id: `v${task.taskId}`, url: `https://videos.memory/${task.taskId}.mp4`, duration: '5' }] } } : {}),
    };
  }
}

/** ftyp + moov of the emulator's 5 s clip: a parseable MP4 header of 902 bytes. */
export function headerOnlyMp4(): Buffer {
  const asset = videoAsset('5');
  const keep: Buffer[] = [];
  for (let at = 0; at + 8 <= asset.length; ) {
    const size = asset.readUInt32BE(at);
    const type = asset.toString('latin1', at + 4, at + 8);
    if (type === 'ftyp' || type === 'moov') keep.push(asset.subarray(at, at + size));
    if (size < 8) break;
    at += size;
  }
  return Buffer.concat(keep);
}

/** A fetch that answers every URL with the same small video. */
export function videoFetch(bytes: Buffer): typeof fetch {
  return (async () => new Response(new Uint8Array(bytes), { status: 200, headers: { 'content-type': 'video/mp4', 'content-length': String(bytes.length) } })) as typeof fetch;
}

/**
 * runJobs from an empty output folder `dir` against `client`, under the limits of `options` (a
 * request limiter and a gate made from them), seeded and silent; `rest` adds or replaces inputs.
 */
export function runFromEmpty(
  setup: { readonly plan: Plan; readonly dir: string; readonly clock: Clock; readonly client: ProviderClient; readonly options: ResolvedRunOptions },
  rest: Partial<RunInput> = {},
): Promise<RunResult> {
  const { plan, dir, clock, client, options } = setup;
  return runJobs({
    plan,
    manifestDir: dir,
    outputDir: dir,
    states: new Map(),
    journal: { append: () => {} },
    client,
    options,
    limiter: new RequestLimiter({ rpm: options.rpm, clock }),
    gate: new ConcurrencyGate({ max: options.concurrency }),
    clock,
    random: seededRandom(1),
    logger: silentLogger,
    ...rest,
  });
}
