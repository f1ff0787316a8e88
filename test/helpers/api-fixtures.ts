// Provider answers as the documentation shows them, for the client's tests.
import { ProviderError } from '../../src/api/errors.js';
import type { RawResponse } from '../../src/api/parse.js';

export function taskJson(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    task_id: '2032273942220931072',
    task_status: 'submitted',
    task_info: { external_task_id: 'kr-abc-1' },
    created_at: 1773366840306,
    updated_at: 1773366840306,
    ...overrides,
  };
}

export const succeededTaskJson = (): Record<string, unknown> =>
  taskJson({
    task_status: 'succeed',
    task_status_msg: '',
    task_result: { videos: [{ id: 'v1', url: 'https://cdn.example/v1.mp4', duration: '5.1' }] },
  });

/** Kling's envelope. */
export const envelope = (data: unknown, code = 0, message = 'success') => ({ code, message, request_id: 'req-1', data });

/** The older CometAPI wrapper: the task one level deeper, under data.data. */
export const legacyEnvelope = (data: unknown) => ({ code: 0, message: '', data: { status: 'IN_PROGRESS', progress: '40%', data } });

export const gatewayError = (message: string, code: string | number | null = null) => ({
  error: { message, type: 'comet_api_error', code },
});

export function raw(status: number, body: string | object, extra: Partial<RawResponse> = {}): RawResponse {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return { status, contentType: typeof body === 'string' ? 'text/plain' : 'application/json', retryAfter: null, redirected: false, text, ...extra };
}

/** The ProviderError a call rejects with; fails the test on success or on any other rejection. */
export async function providerErrorOf(promise: Promise<unknown>): Promise<ProviderError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  if (!(error instanceof ProviderError)) throw new Error(`expected a ProviderError, got ${String(error)}`);
  return error;
}
