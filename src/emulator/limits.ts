// The per-key limits the provider enforces: requests in a sliding window (rpm) and unfinished
// tasks (concurrency, per key and per key and model). Both are computed from timestamps, never from timers, so idle keys cost nothing.

/** Event times inside a sliding window `(now - width, now]`; a queue that never copies on shift. */
class SlidingWindow {
  #times: number[] = [];
  #head = 0;

  /** Events still inside the window ending at `now`. */
  count(now: number, width: number): number {
    while (this.#head < this.#times.length && (this.#times[this.#head] as number) <= now - width) this.#head += 1;
    // Compact once the dead prefix dominates, so a long run keeps memory bounded by the window.
    if (this.#head > 1024 && this.#head * 2 > this.#times.length) {
      this.#times = this.#times.slice(this.#head);
      this.#head = 0;
    }
    return this.#times.length - this.#head;
  }

  add(now: number): void {
    this.#times.push(now);
  }

  /** The oldest event in the window (call count() first). */
  oldest(): number | undefined {
    return this.#times[this.#head];
  }
}

function windowOf(map: Map<string, SlidingWindow>, key: string): SlidingWindow {
  let window = map.get(key);
  if (!window) map.set(key, (window = new SlidingWindow()));
  return window;
}

export type RateDecision = { readonly ok: true } | { readonly ok: false; readonly retryAfterMs: number };

/**
 * Requests per window per key. Only accepted requests use up the limit (a refused one costs the
 * client nothing, like a token bucket); every request counts for the peak the stats report.
 */
export class RateLimiter {
  readonly #accepted = new Map<string, SlidingWindow>();
  readonly #all = new Map<string, SlidingWindow>();
  #peak = 0;

  take(key: string, now: number, limit: number, widthMs: number): RateDecision {
    const all = windowOf(this.#all, key);
    all.add(now);
    this.#peak = Math.max(this.#peak, all.count(now, widthMs));
    const accepted = windowOf(this.#accepted, key);
    if (accepted.count(now, widthMs) >= limit) {
      const oldest = accepted.oldest() ?? now;
      return { ok: false, retryAfterMs: Math.max(1, oldest + widthMs - now) };
    }
    accepted.add(now);
    return { ok: true };
  }

  /** Most requests one key sent inside any window so far. */
  get peak(): number {
    return this.#peak;
  }
}

/** A binary min-heap of numbers (task end times). */
class MinHeap {
  readonly #items: number[] = [];

  get size(): number {
    return this.#items.length;
  }

  peek(): number | undefined {
    return this.#items[0];
  }

  push(value: number): void {
    const items = this.#items;
    items.push(value);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if ((items[parent] as number) <= value) break;
      items[i] = items[parent] as number;
      i = parent;
    }
    items[i] = value;
  }

  pop(): void {
    const items = this.#items;
    const last = items.pop();
    if (last === undefined || items.length === 0) return;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= items.length) break;
      const right = left + 1;
      const child = right < items.length && (items[right] as number) < (items[left] as number) ? right : left;
      if ((items[child] as number) >= last) break;
      items[i] = items[child] as number;
      i = child;
    }
    items[i] = last;
  }
}

/** A key can hold no newline (it is a header value): key and model together are one map key. */
const modelKey = (key: string, model: string): string => `${key}\n${model}`;

/**
 * Unfinished tasks per key: a heap of end times, pruned on each look. Tasks are only ever added
 * "now" and the count only rises at an add, so the peak measured at each add is the true peak.
 */
export class InFlight {
  readonly #ends = new Map<string, MinHeap>();
  #peak = 0;

  /** The key's unfinished tasks, or only those of one model (Kling counts per model version too). */
  unfinished(key: string, now: number, model?: string): number {
    const heap = this.#ends.get(model === undefined ? key : modelKey(key, model));
    if (!heap) return 0;
    while (heap.size > 0 && (heap.peek() as number) <= now) heap.pop();
    return heap.size;
  }

  add(key: string, endAt: number, now: number, model?: string): void {
    this.#push(key, endAt);
    if (model !== undefined) this.#push(modelKey(key, model), endAt);
    this.#peak = Math.max(this.#peak, this.unfinished(key, now));
  }

  #push(key: string, endAt: number): void {
    let heap = this.#ends.get(key);
    if (!heap) this.#ends.set(key, (heap = new MinHeap()));
    heap.push(endAt);
  }

  /** Most unfinished tasks one key had at once so far. */
  get peak(): number {
    return this.#peak;
  }
}
