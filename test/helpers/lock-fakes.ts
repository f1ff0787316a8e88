// Fakes for the lock's deterministic tests: machines whose processes the test starts, kills and
// turns into zombies (the /proc probe of each runner), gates that hold a starter between two steps
// of its acquisition, and a check that an acquisition decided without waiting.
import type { LockOptions, LockStep, ProcessProbe } from '../../src/state/lock.js';
import { flush } from './fake-clock.js';

interface FakeProcess {
  startTicks: string;
  zombie: boolean;
}

/** One boot of one kernel: processes live in pid namespaces, each seen only from its own. */
export class FakeMachine {
  readonly #processes = new Map<string, FakeProcess>();
  #ticks = 1000;

  constructor(readonly bootId = 'boot-a') {}

  /** Starts a process with this pid in `namespace` and returns its /proc probe. */
  start(pid: number, namespace = 'pid:[1]'): ProcessProbe {
    const me: FakeProcess = { startTicks: String((this.#ticks += 7)), zombie: false };
    this.#processes.set(`${namespace}/${pid}`, me);
    return {
      self: () => ({ bootId: this.bootId, pidNamespace: namespace, startTicks: me.startTicks }),
      process: (other) => {
        const found = this.#processes.get(`${namespace}/${other}`);
        return found && { zombie: found.zombie, startTicks: found.startTicks };
      },
    };
  }

  exit(pid: number, namespace = 'pid:[1]'): void {
    this.#processes.delete(`${namespace}/${pid}`);
  }

  /** SIGKILLed, and its parent never reaps it. */
  zombify(pid: number, namespace = 'pid:[1]'): void {
    const found = this.#processes.get(`${namespace}/${pid}`);
    if (found) found.zombie = true;
  }
}

/** A probe on a system without /proc: every verdict goes to the lease. */
export const noProc: ProcessProbe = {
  self: () => undefined,
  process: () => {
    throw new Error('no /proc');
  },
};

/** Holds a starter at one step of its acquisition until the test opens the gate. */
export class Gate {
  readonly #at: LockStep['at'];
  #open!: () => void;
  #reach!: (step: LockStep) => void;
  readonly opened = new Promise<void>((resolve) => (this.#open = resolve));
  /** Resolves with the step once the starter waits at it. */
  readonly reached = new Promise<LockStep>((resolve) => (this.#reach = resolve));

  constructor(at: LockStep['at']) {
    this.#at = at;
  }

  readonly pause: NonNullable<LockOptions['pause']> = async (step) => {
    if (step.at !== this.#at) return;
    this.#reach(step);
    await this.opened;
  };

  open(): void {
    this.#open();
  }
}

export type Settled<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: unknown };

/** Follows a promise without awaiting it: `state()` is undefined while it is pending. */
export function track<T>(promise: Promise<T>): { state(): Settled<T> | undefined; readonly promise: Promise<T> } {
  let settled: Settled<T> | undefined;
  promise.then(
    (value) => (settled = { ok: true, value }),
    (error: unknown) => (settled = { ok: false, error }),
  );
  return { state: () => settled, promise };
}

/** The acquisition's outcome, which must come without any sleep: a wait would leave it pending. */
export async function promptly<T>(promise: Promise<T>): Promise<T> {
  const tracked = track(promise);
  for (let i = 0; i < 5 && !tracked.state(); i++) await flush();
  if (!tracked.state()) throw new Error('still pending: it waited instead of deciding at once');
  return promise;
}
