// The limits every provider call runs under: one request limiter for all calls (rpm), and gates
// for tasks in flight at the provider: one per model (Kling counts per model version; lowered by
// AIMD on 1303 answers) nested in one for the account's total (concurrency). All serve waiters
// first come, first served, and all give up a wait when its signal aborts.
import type { Clock } from '../effects.js';
import type { Gate, Limiter } from './context.js';

/** A FIFO of pending waits; a waiter whose signal aborts leaves the queue and rejects with the reason. */
class Waiters {
  #queue: Array<() => void> = [];

  get size(): number {
    return this.#queue.length;
  }

  wait(signal: AbortSignal | undefined): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const grant = (): void => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = (): void => {
        this.#queue = this.#queue.filter((g) => g !== grant);
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#queue.push(grant);
    });
  }

  /** Lets the oldest waiter go; false when nobody is waiting. */
  grantNext(): boolean {
    const grant = this.#queue.shift();
    grant?.();
    return grant !== undefined;
  }
}

function requirePositiveInteger(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) throw new TypeError(`Expected \`${name}\` to be an integer >= 1, got \`${value}\` (${typeof value})`);
}

export interface RequestLimiterOptions {
  /** Requests allowed in any rolling window. */
  readonly rpm: number;
  readonly clock: Clock;
  /** The rolling window the provider counts in. @default 60_000 */
  readonly windowMs?: number;
  /**
   * Extra spacing added to the window, so that latency differences between requests and clock
   * skew do not let the provider see rpm + 1 in one of its windows. @default 1_000
   */
  readonly marginMs?: number;
}

/**
 * At most `rpm` grants in any rolling window: a sliding log of the last `rpm` grant times, where
 * a new grant waits until the oldest of them is a window (plus margin) old. Unlike a refilling
 * token bucket this never lets rpm + 1 requests into one window, which is what providers count.
 */
export class RequestLimiter implements Limiter {
  readonly #rpm: number;
  readonly #clock: Clock;
  readonly #spanMs: number;
  /** Ring buffer of the last `rpm` grant times; `#oldest` indexes the oldest once it is full. */
  readonly #grants: number[] = [];
  #oldest = 0;
  readonly #waiters = new Waiters();
  #pumping = false;

  constructor(options: RequestLimiterOptions) {
    requirePositiveInteger('rpm', options.rpm);
    this.#rpm = options.rpm;
    this.#clock = options.clock;
    this.#spanMs = (options.windowMs ?? 60_000) + (options.marginMs ?? 1_000);
  }

  /** Requests waiting for their turn. */
  get waiting(): number {
    return this.#waiters.size;
  }

  take(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.#waiters.size === 0 && this.#freeAt() <= this.#clock.now()) {
      this.#record(this.#clock.now());
      return Promise.resolve();
    }
    const granted = this.#waiters.wait(signal);
    if (!this.#pumping) void this.#pump();
    return granted;
  }

  /** When the next grant may happen. */
  #freeAt(): number {
    return this.#grants.length < this.#rpm ? -Infinity : (this.#grants[this.#oldest] ?? 0) + this.#spanMs;
  }

  #record(time: number): void {
    if (this.#grants.length < this.#rpm) this.#grants.push(time);
    else {
      this.#grants[this.#oldest] = time;
      this.#oldest = (this.#oldest + 1) % this.#rpm;
    }
  }

  /** One loop at a time hands out grants in order while anyone waits. */
  async #pump(): Promise<void> {
    this.#pumping = true;
    try {
      while (this.#waiters.size > 0) {
        // Capped at one span: a clock set backwards must not stall the run for hours.
        const wait = Math.min(this.#freeAt() - this.#clock.now(), this.#spanMs);
        if (wait > 0) await this.#clock.sleep(wait);
        if (this.#waiters.grantNext()) this.#record(this.#clock.now());
      }
    } finally {
      this.#pumping = false;
    }
  }
}

export interface ConcurrencyGateOptions {
  /** Tasks allowed in flight at the provider (the account's or the user's limit). */
  readonly max: number;
}

/**
 * Slots for tasks in flight, held from submit until the task is terminal. A 1303 answer lowers
 * the effective limit to what the provider holds of ours, by at most half per refusal, and each
 * accepted submit adds one back (AIMD). A spurious storm therefore costs one slot, and a truly
 * lower account limit is found in a few steps instead of oscillating between L/2 and L.
 */
export class ConcurrencyGate implements Gate {
  readonly #max: number;
  #effective: number;
  #inFlight = 0;
  readonly #waiters = new Waiters();

  constructor(options: ConcurrencyGateOptions) {
    requirePositiveInteger('max', options.max);
    this.#max = options.max;
    this.#effective = options.max;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  /** The configured maximum. */
  get limit(): number {
    return this.#max;
  }

  /** The limit new acquisitions currently wait for (between 1 and `limit`). */
  get effectiveLimit(): number {
    return this.#effective;
  }

  /** Acquisitions waiting for a slot. */
  get waiting(): number {
    return this.#waiters.size;
  }

  acquire(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.#waiters.size === 0 && this.#inFlight < this.#effective) {
      this.#inFlight += 1;
      return Promise.resolve();
    }
    return this.#waiters.wait(signal);
  }

  release(): void {
    // An unbalanced release would silently raise the limit: fail loudly instead.
    if (this.#inFlight === 0) throw new Error('ConcurrencyGate.release() called with no slot held');
    this.#inFlight -= 1;
    this.#drain();
  }

  /** Takes a slot without waiting, even beyond the limit: for tasks found already in flight on resume. */
  hold(): void {
    this.#inFlight += 1;
  }

  onRejected(): void {
    // The provider is full at what it holds of ours (every slot but the refused submit's), but
    // one refusal never cuts more than half: a spurious storm costs one slot, not half the run.
    const holding = this.#inFlight - 1;
    this.#effective = Math.max(1, Math.min(this.#effective, Math.max(Math.floor(this.#effective / 2), holding)));
  }

  onAccepted(): void {
    this.#effective = Math.min(this.#max, this.#effective + 1);
    this.#drain();
  }

  #drain(): void {
    while (this.#inFlight < this.#effective && this.#waiters.grantNext()) this.#inFlight += 1;
  }
}

/**
 * A model's gate inside the account's: Kling counts tasks at once per model version, so each model
 * has its own slots (and its own AIMD on 1303), and the account's gate caps the total. A slot is
 * taken from the model first: a job never holds an account slot while its model is full.
 */
export class NestedGate implements Gate {
  readonly #outer: Gate;
  readonly #inner: Gate;

  constructor(outer: Gate, inner: Gate) {
    this.#outer = outer;
    this.#inner = inner;
  }

  async acquire(signal?: AbortSignal): Promise<void> {
    await this.#inner.acquire(signal);
    try {
      await this.#outer.acquire(signal);
    } catch (error) {
      this.#inner.release();
      throw error;
    }
  }

  release(): void {
    this.#outer.release();
    this.#inner.release();
  }

  hold(): void {
    this.#inner.hold();
    this.#outer.hold();
  }

  /** A 1303 comes from the model's count, so it lowers the model's limit only. */
  onRejected(): void {
    this.#inner.onRejected();
  }

  onAccepted(): void {
    this.#inner.onAccepted();
    this.#outer.onAccepted();
  }
}

/** One gate per model (made on first use, its limit from `limitOf`), each nested in the account's gate. */
export class ModelGates {
  readonly #account: Gate;
  readonly #limitOf: (model: string) => number;
  readonly #models = new Map<string, { readonly gate: ConcurrencyGate; readonly route: NestedGate }>();

  constructor(account: Gate, limitOf: (model: string) => number) {
    this.#account = account;
    this.#limitOf = limitOf;
  }

  /** The gate a job of this model takes its slot from. */
  route(model: string): Gate {
    let entry = this.#models.get(model);
    if (!entry) {
      const gate = new ConcurrencyGate({ max: this.#limitOf(model) });
      this.#models.set(model, (entry = { gate, route: new NestedGate(this.#account, gate) }));
    }
    return entry.route;
  }

  /** The models' own gates, by model (read by progress displays and tests). */
  get models(): ReadonlyMap<string, ConcurrencyGate> {
    return new Map([...this.#models].map(([model, { gate }]) => [model, gate]));
  }
}
