// The provider API as the rest of klingrun uses it.
export { DEFAULT_BASE_URL, DEFAULT_TIMEOUT_MS, type ClientOptions, createClient } from './client.js';
export * from './errors.js';
export { EXCERPT_MAX, type RawResponse, excerptOf, parseResponse, scrub } from './parse.js';
export type * from './provider.js';
export * from './schemas.js';
