// The one place where errors become exit codes.
import { ProviderError } from '../api/errors.js';
import { KlingrunError } from '../errors.js';

export const EXIT = {
  ok: 0,
  /** Some jobs ended failed, timed out or skipped. */
  jobsFailed: 1,
  /** Bad input or usage. */
  badInput: 2,
  /** The provider refused the run (auth, balance). */
  providerRefused: 3,
  /** The provider cannot be reached (connection refused, DNS, TLS). */
  unreachable: 4,
  /** A bug in klingrun itself. */
  internal: 70,
  interrupted: 130,
} as const;

/** No answer at all: nothing reached the provider, or it stopped answering. */
const NO_ANSWER: ReadonlySet<unknown> = new Set(['unreachable', 'network', 'timeout']);

export function exitCodeFor(error: unknown): number {
  if (error instanceof ProviderError) return error.errorClass === 'fatal-run' ? EXIT.providerRefused : NO_ANSWER.has(error.code) ? EXIT.unreachable : EXIT.jobsFailed;
  if (error instanceof KlingrunError) {
    switch (error.code) {
      case 'interrupted':
        return EXIT.interrupted;
      case 'internal':
        return EXIT.internal;
      default:
        return EXIT.badInput;
    }
  }
  return EXIT.internal;
}
