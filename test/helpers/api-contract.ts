// The client wired to a real emulator, recording the wire traffic so it can be checked against
// the provider's OpenAPI document.
import { setTimeout as sleep } from 'node:timers/promises';
import { type ClientOptions, createClient } from '../../src/api/client.js';
import type { ProviderClient } from '../../src/api/provider.js';
import type { CreateTaskBody, Task, TaskStatus } from '../../src/api/schemas.js';
import type { EmulatorOptionsInput } from '../../src/emulator/index.js';
import { KEY, emulator } from './emulator.js';

export interface Exchange {
  readonly method: string;
  readonly url: string;
  readonly requestBody: string | undefined;
  readonly status: number;
  readonly responseText: string;
}

/** A create body for the emulator (URL images are accepted without being fetched). */
export const createBody = (externalTaskId: string, extra: Partial<CreateTaskBody> = {}): CreateTaskBody => ({
  image: 'https://img.example/cat.jpg',
  prompt: 'a slow push-in',
  model_name: 'kling-v2-5-turbo',
  mode: 'pro',
  duration: '5',
  external_task_id: externalTaskId,
  ...extra,
});

/** globalThis.fetch, recording every exchange that produced an answer. */
function recordingFetch(exchanges: Exchange[]): typeof fetch {
  return async (input, init) => {
    const response = await fetch(input, init);
    const responseText = await response.clone().text().catch(() => '(unreadable)');
    exchanges.push({ method: init?.method ?? 'GET', url: String(input), requestBody: init?.body?.toString(), status: response.status, responseText });
    return response;
  };
}

/** An emulator at timeScale 0.001 (closed when the test ends) and a client pointed at it. */
export async function clientAndEmulator(options: EmulatorOptionsInput = {}, clientOptions: Partial<ClientOptions> = {}) {
  const handle = await emulator({ timeScale: 0.001, ...options });
  const exchanges: Exchange[] = [];
  const client = createClient({ baseUrl: handle.url, apiKey: KEY, fetch: recordingFetch(exchanges), timeoutMs: 5000, ...clientOptions });
  return { emulator: handle, client, exchanges };
}

/** Polls until the task reaches `status` (tasks take ~65 ms at timeScale 0.001). */
export async function waitFor(client: ProviderClient, taskId: string, status: TaskStatus): Promise<Task> {
  for (let i = 0; i < 200; i++) {
    const task = await client.getTask(taskId);
    if (task.task_status === status) return task;
    if (task.task_status === 'succeed' || task.task_status === 'failed') throw new Error(`task ended ${task.task_status}, expected ${status}`);
    await sleep(10);
  }
  throw new Error(`task ${taskId} never reached ${status}`);
}
