// What each refusal of the provider means, as data: one row per body code (or code range), gateway
// code or HTTP status, saying whether to retry and how far a refusal reaches. docs/api.md, "Error
// codes", is this table in words; a row added here is a row added there.
import type { ErrorClass, ErrorScope } from './errors.js';

export interface ErrorRule {
  /** Kling's body code, or an inclusive range of them. */
  readonly code?: number | readonly [number, number];
  /** CometAPI's gateway code (`{ "error": { "code": … } }`), when it is not one of Kling's numbers. */
  readonly gateway?: string;
  /** The HTTP status, or an inclusive range; rows with one only apply when the body carried no usable code. */
  readonly status?: number | readonly [number, number];
  readonly errorClass: ErrorClass;
  /**
   * How far a refusal reaches: `run` stops submitting anything, `model` stops submitting that
   * model's jobs (a refusal of a create), `job` fails this job. @default 'run' for 'fatal-run', else 'job'
   */
  readonly scope?: ErrorScope;
  /** What the user should do, said when the refusal stops the run or a model. */
  readonly fix?: string;
}

/** Kling's body codes, first match wins; a code no row names fails its job without a retry. */
export const CODE_RULES: readonly ErrorRule[] = [
  { code: [1000, 1004], errorClass: 'fatal-run', fix: 'check COMETAPI_KEY (a key that is valid, not expired, for this base URL)' },
  { code: [1100, 1102], errorClass: 'fatal-run', fix: 'top up the account, or buy or renew the resource pack' },
  // Per model (or API): the batch's other models may still be allowed.
  { code: 1103, errorClass: 'fatal-job', scope: 'model', fix: 'ask for access to this model on the account, or take its jobs out of the manifest' },
  { code: 1302, errorClass: 'retryable-rate' },
  { code: 1303, errorClass: 'retryable-concurrency' },
  // Every request from this machine meets the same refusal: one job's failure is the whole run's.
  { code: 1304, errorClass: 'fatal-run', fix: "add this machine's public IP address to the account's IP whitelist (or switch the whitelist off)" },
  { code: [5000, 5002], errorClass: 'retryable-server' },
];

/** CometAPI's own gateway codes. */
export const GATEWAY_RULES: readonly ErrorRule[] = [
  // Sent with HTTP 500, yet a refused request (CometAPI's error guide): no task, no retry.
  { gateway: 'invalid_request', errorClass: 'fatal-job' },
];

/** HTTP statuses, for answers with no usable code. */
export const STATUS_RULES: readonly ErrorRule[] = [
  { status: 401, errorClass: 'fatal-run', fix: 'check COMETAPI_KEY' },
  { status: 403, errorClass: 'fatal-run', fix: 'check COMETAPI_KEY and the account' },
  { status: 429, errorClass: 'retryable-rate' },
  { status: [500, 599], errorClass: 'retryable-server' },
];

const DEFAULT_RULE: ErrorRule = { errorClass: 'fatal-job' };

const within = (value: number, range: number | readonly [number, number]): boolean =>
  typeof range === 'number' ? value === range : value >= range[0] && value <= range[1];

/** What an answer means: by its body code, else its gateway code, else its HTTP status. */
export function ruleFor(answer: { readonly code?: number; readonly gateway?: string; readonly status?: number }): ErrorRule {
  const { code, gateway, status } = answer;
  if (code !== undefined) return CODE_RULES.find((rule) => rule.code !== undefined && within(code, rule.code)) ?? DEFAULT_RULE;
  const byGateway = gateway === undefined ? undefined : GATEWAY_RULES.find((rule) => rule.gateway === gateway);
  if (byGateway) return byGateway;
  return (status === undefined ? undefined : STATUS_RULES.find((rule) => rule.status !== undefined && within(status, rule.status))) ?? DEFAULT_RULE;
}

export const scopeOf = (rule: ErrorRule): ErrorScope => rule.scope ?? (rule.errorClass === 'fatal-run' ? 'run' : 'job');
