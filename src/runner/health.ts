// Telling "the provider cannot be reached" from a passing blip, so a run that cannot make progress
// says so instead of retrying in silence. Every provider call reports here through `monitored`.
import { ProviderError } from '../api/errors.js';
import type { ProviderClient } from '../api/provider.js';
import type { Clock } from '../effects.js';

export interface HealthOptions {
  /** Failed connections in a row that stop a run which never reached the provider. @default 3 */
  readonly quickFailures?: number;
  /** How long a run that did reach the provider goes on with every request failing. @default 60_000 */
  readonly downMs?: number;
}

export class ProviderHealth {
  readonly #clock: Clock;
  readonly #onDown: (error: ProviderError) => void;
  readonly #quickFailures: number;
  readonly #downMs: number;
  #connected = false;
  #lastAnswerAt: number;
  #failures = 0;

  constructor(clock: Clock, onDown: (error: ProviderError) => void, options: HealthOptions = {}) {
    this.#clock = clock;
    this.#onDown = onDown;
    this.#quickFailures = options.quickFailures ?? 3;
    this.#downMs = options.downMs ?? 60_000;
    this.#lastAnswerAt = clock.now();
  }

  /** The provider answered (a refusal is an answer too). */
  answered(): void {
    this.#connected = true;
    this.#failures = 0;
    this.#lastAnswerAt = this.#clock.now();
  }

  /** A request got no answer: no connection, a reset, a timeout. */
  failed(error: ProviderError): void {
    this.#failures += 1;
    const neverConnected = !this.#connected && error.code === 'unreachable' && this.#failures >= this.#quickFailures;
    const downTooLong = this.#failures >= this.#quickFailures && this.#clock.now() - this.#lastAnswerAt >= this.#downMs;
    if (neverConnected || downTooLong) this.#onDown(error);
  }
}

const NO_ANSWER: ReadonlySet<unknown> = new Set(['unreachable', 'network', 'timeout']);

/** The client, reporting every outcome to `health`. */
export function monitored(client: ProviderClient, health: ProviderHealth): ProviderClient {
  const watch = async <T>(call: Promise<T>): Promise<T> => {
    try {
      const result = await call;
      health.answered();
      return result;
    } catch (error) {
      if (error instanceof ProviderError) {
        if (NO_ANSWER.has(error.code)) health.failed(error);
        else health.answered();
      }
      throw error;
    }
  };
  return {
    createTask: (body, options) => watch(client.createTask(body, options)),
    getTask: (taskId, options) => watch(client.getTask(taskId, options)),
    findByExternalId: (externalTaskId, options) => watch(client.findByExternalId(externalTaskId, options)),
    listTasks: (options) => watch(client.listTasks(options)),
  };
}
