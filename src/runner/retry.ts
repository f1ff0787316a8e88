// One retry policy for every provider call the runner makes: p-retry counts and decides, the
// waits (Retry-After, or full-jitter backoff) run on the injected clock so tests take no time.
import pRetry from 'p-retry';
import { ProviderError } from '../api/errors.js';
import { type RunContext, backoffMs } from './context.js';

/** Rate and concurrency answers are flow control, not failures: they use up no retry. */
const isFlowControl = (error: unknown): boolean =>
  error instanceof ProviderError && (error.errorClass === 'retryable-rate' || error.errorClass === 'retryable-concurrency');

/**
 * Calls `call` until it succeeds or fails for good. `interruptible` says whether, at the moment of
 * a wait, a Ctrl-C may cut it short (nothing is under way at the provider for this job); otherwise
 * only a hard stop does.
 */
export function retrying<T>(context: RunContext, what: string, call: () => Promise<T>, interruptible: () => boolean = () => false): Promise<T> {
  return pRetry(call, {
    retries: context.options.maxRetries,
    minTimeout: 0,
    shouldConsumeRetry: ({ error }) => !isFlowControl(error),
    // The wait happens here, not in onFailedAttempt: a call that is out of retries ends at once.
    shouldRetry: async ({ error, retriesConsumed }) => {
      if (!(error instanceof ProviderError) || !error.retryable) return false;
      const signal = interruptible() ? context.softSignal : context.hardSignal;
      if (signal.aborted) return false;
      const wait = error.retryAfterMs ?? backoffMs(context, retriesConsumed + 1);
      context.logger.debug(`${what}: ${error.message}; retrying in ${wait} ms`);
      try {
        await context.clock.sleep(wait, signal);
        return true;
      } catch {
        return false;
      }
    },
  });
}
