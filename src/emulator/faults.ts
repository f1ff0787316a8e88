// Fault injection: which fault (if any) a request meets, drawn from a seeded PRNG so a run with the
// same seed and the same request order meets the same faults. How each fault acts is in server.ts.
import { seededRandom, type Random } from '../effects.js';
import { FAULT_ROUTES, type Fault, type FaultKind, type Route } from './options.js';

interface Armed {
  readonly fault: Fault;
  readonly routes: readonly Route[];
  /** Firings left; Infinity without `count`. */
  left: number;
}

export class FaultInjector {
  #armed: Armed[] = [];
  #random: Random = Math.random;

  constructor(faults: readonly Fault[], seed: number) {
    this.reset(faults, seed);
  }

  /** Replaces the fault list (counts start afresh) and reseeds. */
  reset(faults: readonly Fault[], seed: number): void {
    this.#armed = faults.map((fault) => ({ fault, routes: fault.on ?? FAULT_ROUTES[fault.kind], left: fault.count ?? Infinity }));
    this.#random = seededRandom(seed);
  }

  /** The fault this request meets: the first in list order that fires. */
  draw(route: Route): FaultKind | undefined {
    for (const armed of this.#armed) {
      if (armed.left <= 0 || !armed.routes.includes(route)) continue;
      const { p } = armed.fault;
      // Certain and impossible faults draw no number, so scripting one (p: 1, count: 1) does not
      // shift the random sequence the probabilistic ones see.
      const fires = p >= 1 || (p > 0 && this.#random() < p);
      if (fires) {
        armed.left -= 1;
        return armed.fault.kind;
      }
    }
    return undefined;
  }
}
