// V8 tuning for a long run. By default V8 lets its heap grow to several times what is live before
// a full collection: a 100,000-job run held 850 MB for 170 MB of live job state. A run spends its
// time waiting on the provider, so the few extra collections of a tighter heap cost it nothing;
// the short, CPU-bound commands (plan, status) keep V8's default. A library's host process is
// its own: runBatch does not change it.
import { setFlagsFromString } from 'node:v8';

/** Heap growth after each full collection, in percent of what survived it. */
export const RUN_HEAP_GROWING_PERCENT = 30;

/** Called as `klingrun run` starts, while the heap is still small. */
export function tightenHeapForRun(): void {
  setFlagsFromString(`--heap-growing-percent=${RUN_HEAP_GROWING_PERCENT}`);
}
