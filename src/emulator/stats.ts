// What the emulator observed, for tests and benchmarks to prove the runner's behaviour
// (GET /__emulator/stats and EmulatorHandle.stats()). Never keyed by API key.
import type { FaultKind, Route } from './options.js';

export type StatsRoute = Route | 'unknown';
export type Counted429 = 1102 | 1302 | 1303;

export interface EmulatorStats {
  /** Tasks created (and billed). */
  tasksCreated: number;
  /** external_task_id → number of tasks created with it (more than 1 = paid twice). */
  tasksByExternalId: Record<string, number>;
  billedUsd: number;
  /** HTTP 429 answers sent, by body code. */
  http429ByCode: Record<Counted429, number>;
  /** Most unfinished tasks one key had at once. */
  peakConcurrentTasks: number;
  /** Most API requests (create, get, list) one key sent in any 60-emulated-second window. */
  peakRequestsPerWindow: number;
  requestsByRoute: Record<StatsRoute, number>;
  faultsFired: Partial<Record<FaultKind, number>>;
}

/** Counters behind EmulatorStats; peaks come from the limit trackers at snapshot time. */
export class StatsCollector {
  #tasksCreated = 0;
  readonly #byExternalId = new Map<string, number>();
  // Whole micro-dollars, so sums of prices like 0.33 stay exact.
  #billedMicroUsd = 0;
  readonly #http429: Record<Counted429, number> = { 1102: 0, 1302: 0, 1303: 0 };
  readonly #routes: Record<StatsRoute, number> = { create: 0, get: 0, list: 0, download: 0, unknown: 0 };
  readonly #faults: Partial<Record<FaultKind, number>> = {};

  get billedMicroUsd(): number {
    return this.#billedMicroUsd;
  }

  request(route: StatsRoute): void {
    this.#routes[route] += 1;
  }

  taskCreated(externalTaskId: string | undefined, microUsd: number): void {
    this.#tasksCreated += 1;
    this.#billedMicroUsd += microUsd;
    if (externalTaskId !== undefined) this.#byExternalId.set(externalTaskId, (this.#byExternalId.get(externalTaskId) ?? 0) + 1);
  }

  answered429(code: number): void {
    if (code === 1102 || code === 1302 || code === 1303) this.#http429[code] += 1;
  }

  /** Counts one firing; returns how many times this kind has fired so far. */
  fault(kind: FaultKind): number {
    const fired = (this.#faults[kind] ?? 0) + 1;
    this.#faults[kind] = fired;
    return fired;
  }

  snapshot(peaks: { concurrentTasks: number; requestsPerWindow: number }): EmulatorStats {
    return {
      tasksCreated: this.#tasksCreated,
      tasksByExternalId: Object.fromEntries(this.#byExternalId),
      billedUsd: this.#billedMicroUsd / 1e6,
      http429ByCode: { ...this.#http429 },
      peakConcurrentTasks: peaks.concurrentTasks,
      peakRequestsPerWindow: peaks.requestsPerWindow,
      requestsByRoute: { ...this.#routes },
      faultsFired: { ...this.#faults },
    };
  }
}
