// One retry policy for every provider call the runner makes: p-retry counts and decides, the
// waits (Retry-After, or full-jitter backoff) run on the injected clock so tests take no time.
import pRetry from 'p-retry';
import { ProviderError } from '../api/errors.js';
import { type RunContext, backoffMs } from './context.js';

/** Rate and concurrency answers are flow control, not failures: they use up no retry. */
const isFlowControl = (error: unknown): boolean =>
  error instanceof ProviderError && (error.errorClass === 'retryable-rate' || error.errorClass === 'retryable-concurrency');

export function retrying<T>(context: RunContext, what: string, call: () => Promise<T>): Promise<T> {
  return pRetry(call, {
    retries: context.options.maxRetries,
    minTimeout: 0,
    shouldConsumeRetry: ({ error }) => !isFlowControl(error),
    shouldRetry: ({ error }) => error instanceof ProviderError && error.retryable && !context.hardSignal.aborted,
    onFailedAttempt: async ({ error, retriesConsumed }) => {
      if (!(error instanceof ProviderError) || !error.retryable) return;
      const wait = error.retryAfterMs ?? backoffMs(context, retriesConsumed + 1);
      context.logger.debug(`${what}: ${error.message}; retrying in ${wait} ms`);
      await context.clock.sleep(wait, context.hardSignal);
    },
  });
}
