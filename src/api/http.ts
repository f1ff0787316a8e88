// One HTTP exchange with the provider: the headers, a per-request deadline combined with the
// caller's signal, and transport failures turned into ProviderErrors. Parsing is parse.ts's job.
import { linkSignals } from '../signals.js';
import { ProviderError } from './errors.js';
import { type RawResponse, excerptOf } from './parse.js';

export interface HttpConfig {
  readonly baseUrl: string;
  readonly apiKey: string;
  readonly fetch: typeof fetch;
  readonly timeoutMs: number;
  readonly userAgent: string;
}

export interface Exchange {
  readonly method: 'GET' | 'POST';
  /** Starts with `/`; may carry a query string. */
  readonly path: string;
  readonly body?: unknown;
  readonly signal?: AbortSignal;
}

/**
 * Sends one request and reads the whole answer. A caller's abort rethrows the caller's reason
 * unchanged; every other failure is a ProviderError: 'unreachable' (outcome 'rejected') when no
 * connection was made, else outcome 'unknown' (the request may have arrived). Redirects are not
 * followed: to this API, a redirect means "no such route".
 */
export async function send(config: HttpConfig, exchange: Exchange): Promise<RawResponse> {
  const { method, path, body, signal: callerSignal } = exchange;
  const deadline = AbortSignal.timeout(config.timeoutMs);
  const linked = callerSignal ? linkSignals([deadline, callerSignal]) : undefined;
  const signal = linked?.signal ?? deadline;
  const headers: Record<string, string> = {
    Authorization: `Bearer ${config.apiKey}`,
    'User-Agent': config.userAgent,
    Accept: 'application/json',
  };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  try {
    const response = await config.fetch(`${config.baseUrl}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      redirect: 'manual',
      signal,
    });
    // The body is read under the same deadline: a provider may stall or drop mid-answer.
    const text = await response.text();
    return {
      status: response.status,
      contentType: response.headers.get('content-type') ?? '',
      retryAfter: response.headers.get('retry-after'),
      redirected: response.redirected,
      text,
    };
  } catch (error) {
    if (callerSignal?.aborted) throw callerSignal.reason;
    throw transportError(error, deadline.aborted, config, `${method} ${path}`);
  } finally {
    linked?.unlink();
  }
}

function transportError(error: unknown, timedOut: boolean, config: HttpConfig, label: string): ProviderError {
  const init = { errorClass: 'retryable-server', outcome: 'unknown' } as const;
  if (timedOut) {
    return new ProviderError(`no answer within ${config.timeoutMs} ms (${label})`, { ...init, code: 'timeout' });
  }
  // The original error is not passed on as `cause`: a custom fetch could have put anything in
  // it, headers included. A scrubbed description of it is kept instead.
  const detail = excerptOf(describeTransportError(error), config.apiKey);
  if (neverConnected(error)) {
    // Nothing reached the provider: no task can exist, so this is a refusal, not an unknown.
    return new ProviderError(`cannot connect to ${config.baseUrl}: ${detail} (${label})`, { ...init, code: 'unreachable', outcome: 'rejected', cause: new Error(detail) });
  }
  return new ProviderError(`connection failed: ${detail} (${label})`, { ...init, code: 'network', cause: new Error(detail) });
}

/** Failures that happen before a request can be sent: refused, no such host, no route, a TLS handshake. */
const BEFORE_SENDING = /^(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|EAI_NONAME|EHOSTUNREACH|ENETUNREACH|UND_ERR_CONNECT_TIMEOUT|ERR_TLS_\w+|ERR_SSL_\w+|\w*CERT\w*|UNABLE_TO_\w+)$/;

function neverConnected(error: unknown): boolean {
  const cause = error instanceof Error ? error.cause : undefined;
  // fetch refuses a port browsers block (e.g. 9) before connecting, with no code.
  if (cause instanceof Error && cause.message === 'bad port') return true;
  const code = (cause as NodeJS.ErrnoException | undefined)?.code ?? (error as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' && BEFORE_SENDING.test(code);
}

/** undici wraps the useful part (`ECONNRESET: other side closed`) in `cause`. */
function describeTransportError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause: unknown = error.cause;
  if (cause instanceof Error) {
    const code = (cause as NodeJS.ErrnoException).code;
    return `${error.message}: ${cause.message}${code ? ` [${code}]` : ''}`;
  }
  return error.message;
}
