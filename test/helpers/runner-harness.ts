// Runs runJobs against a FakeProvider with an in-memory journal, a virtual clock (sleeps jump
// time forward at once) and a fake video host, so runner logic is tested in milliseconds.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Clock } from '../../src/effects.js';
import { seededRandom, silentLogger } from '../../src/effects.js';
import type { Plan, PlannedJob } from '../../src/plan/schema.js';
import type { Gate, Limiter } from '../../src/runner/context.js';
import { replay } from '../../src/runner/job-state.js';
import { resolveRunOptions, type RunOptionsInput } from '../../src/runner/options.js';
import { type RunInput, type RunResult, runJobs } from '../../src/runner/run.js';
import type { JournalEvent } from '../../src/state/events.js';
import { FakeProvider } from './fake-provider.js';

/** A real 5 s clip (the emulator's), so downloads pass the MP4 header check. */
export const FAKE_MP4 = readFileSync(new URL('../../src/emulator/assets/video-5s.mp4', import.meta.url));

export function makePlan(count: number, cost: number | null = 0.33): Plan {
  const jobs: PlannedJob[] = Array.from({ length: count }, (_, i) => {
    const id = createHash('sha256').update(`job-${i}`).digest('hex');
    return {
      id,
      external_task_id: `kr-${id.slice(0, 24)}`,
      entry: 0,
      repeat: 1,
      repeats: 1,
      variant: {},
      request: { model_name: 'kling-v2-5-turbo', mode: 'pro', duration: '5', prompt: `prompt ${i}`, image: { kind: 'url', url: `https://img.test/${i}.png` } },
      cost_usd: cost,
    };
  });
  return { version: 1, name: 'test', manifest: 'test.yaml', id_salt: '', jobs, warnings: [] };
}

export function virtualClock(start = 1_700_000_000_000): Clock & { advance(ms: number): void } {
  let now = start;
  return {
    now: () => now,
    advance: (ms) => void (now += ms),
    sleep: async (ms, signal) => {
      signal?.throwIfAborted();
      now += Math.max(0, ms);
      await Promise.resolve();
    },
  };
}

export class TestGate implements Gate {
  inFlight = 0;
  peak = 0;
  limit: number;
  rejected = 0;
  readonly #waiters: Array<() => void> = [];
  constructor(limit: number) {
    this.limit = limit;
  }
  async acquire(signal?: AbortSignal): Promise<void> {
    while (this.inFlight >= this.limit) {
      signal?.throwIfAborted();
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
    this.hold();
  }
  hold(): void {
    this.inFlight += 1;
    this.peak = Math.max(this.peak, this.inFlight);
  }
  release(): void {
    this.inFlight -= 1;
    this.#waiters.shift()?.();
  }
  onRejected(): void {
    this.rejected += 1;
  }
  onAccepted(): void {}
}

export const freeLimiter: Limiter = { take: async () => {} };

export interface Harness {
  readonly provider: FakeProvider;
  readonly clock: Clock & { advance(ms: number): void };
  readonly events: JournalEvent[];
  readonly outputDir: string;
  readonly fetched: string[];
  /** URLs that answer 403 once (expired). */
  readonly expireOnce: Set<string>;
  run(options?: { limits?: RunOptionsInput; retryFailed?: boolean; resubmitUnconfirmed?: boolean; plan?: Plan; overrides?: Partial<RunInput> }): Promise<RunResult>;
  cleanup(): void;
}

export function createHarness(plan: Plan = makePlan(3)): Harness {
  // One clock for every run of the harness and for the provider: runs follow each other in time.
  const clock = virtualClock();
  const provider = new FakeProvider();
  provider.now = clock.now;
  const events: JournalEvent[] = [{ ev: 'header', t: 0, version: 1, name: plan.name, tool_version: 'test' }];
  const outputDir = mkdtempSync(join(tmpdir(), 'klingrun-runner-'));
  const fetched: string[] = [];
  const expireOnce = new Set<string>();
  const fakeFetch = (async (url: string | URL | Request) => {
    const href = String(url);
    fetched.push(href);
    if (expireOnce.delete(href)) return new Response('expired', { status: 403 });
    return new Response(FAKE_MP4, { status: 200, headers: { 'content-length': String(FAKE_MP4.length) } });
  }) as typeof fetch;
  return {
    provider,
    clock,
    events,
    outputDir,
    fetched,
    expireOnce,
    run: (options = {}) =>
      runJobs({
        plan: options.plan ?? plan,
        manifestDir: outputDir,
        outputDir,
        states: replay(events),
        journal: { append: (event) => void events.push(event) },
        client: provider,
        options: resolveRunOptions([{ poll_interval_s: 5 }, options.limits], { retryFailed: options.retryFailed, resubmitUnconfirmed: options.resubmitUnconfirmed }),
        limiter: freeLimiter,
        gate: new TestGate(options.limits?.concurrency ?? 5),
        clock,
        random: seededRandom(1),
        logger: silentLogger,
        fetch: fakeFetch,
        ...options.overrides,
      }),
    cleanup: () => rmSync(outputDir, { recursive: true, force: true }),
  };
}

export const eventsOf = (events: readonly JournalEvent[], ev: JournalEvent['ev']): JournalEvent[] => events.filter((e) => e.ev === ev);
