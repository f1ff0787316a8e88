// Why a run stopped, as its exit code and its one message: every stop reason the runner can give
// maps through exit-codes.ts, none is dropped silently.
import { describe, expect, it } from 'vitest';
import { ProviderError } from '../src/api/errors.js';
import { runExitCode } from '../src/cli/commands/run.js';
import { StateError } from '../src/errors.js';

function exit(stopReason: unknown, interrupted = false, allSucceeded = true): { code: number; stderr: string } {
  let stderr = '';
  const code = runExitCode({ stderr: (text) => (stderr += text) }, stopReason, interrupted, allSucceeded);
  return { code, stderr };
}

const providerError = (code: ProviderError['code'], errorClass: ProviderError['errorClass'], message: string) => new ProviderError(message, { code, errorClass });

describe('the exit code of a run', () => {
  it('without a stop reason: 0, 1 when a job did not succeed, 130 when interrupted; nothing said', () => {
    expect(exit(undefined)).toEqual({ code: 0, stderr: '' });
    expect(exit(undefined, false, false)).toEqual({ code: 1, stderr: '' });
    expect(exit(undefined, true, false)).toEqual({ code: 130, stderr: '' });
  });

  it('a bug in a job: exit 70 with "internal error", never a quiet 0', () => {
    const { code, stderr } = exit(new TypeError("Cannot read properties of undefined (reading 'url')"));
    expect(code).toBe(70);
    expect(stderr).toMatch(/^internal error: Cannot read properties of undefined \(reading 'url'\)\nThis is a bug in klingrun/);
  });

  it('a provider that cannot be reached, or stopped answering: exit 4, even after a Ctrl-C', () => {
    for (const code of ['unreachable', 'network', 'timeout'] as const) {
      const result = exit(providerError(code, 'retryable-server', `cannot connect to http://127.0.0.1:9 (${code})`), true);
      expect(result.code, code).toBe(4);
      expect(result.stderr).toContain('Nothing more was sent; jobs in flight stay in the journal.');
    }
  });

  it('a refused key: exit 3 saying so; a lost folder: exit 2 with its message', () => {
    expect(exit(providerError(1001, 'fatal-run', 'authentication failed'))).toMatchObject({ code: 3, stderr: expect.stringContaining('the provider refused the run (1001)') });
    expect(exit(new StateError('state_locked', 'Another runner took the folder over.'))).toEqual({ code: 2, stderr: 'error: Another runner took the folder over.\n' });
  });
});
