// What `klingrun doctor` learnt about a provider, kept as one small JSON file per base URL in the
// user's cache folder so `klingrun run` can plan around it (skip a lookup or a list the provider
// does not offer). It holds the base URL and the findings, never the key.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { DEFAULT_BASE_URL } from '../api/client.js';
import { writeFileAtomic } from '../report/write.js';

export const providerFactsSchema = z.strictObject({
  /** As the client uses it: no trailing slash. */
  base_url: z.string(),
  /** ISO 8601, when doctor looked. */
  checked_at: z.string(),
  /** Whether GET …/image2video/{external_task_id} finds a task; `unknown` when there was nothing to try it on. */
  lookup_by_external_id: z.enum(['works', 'not_available', 'unknown']),
  list: z.enum(['available', 'not_available']),
  /** Tasks submitted or processing on the account (slots in use) when doctor looked; null without the list. */
  unfinished_tasks: z.number().int().nonnegative().nullable(),
  /** Over the requests doctor made that got an answer. */
  latency_ms: z.strictObject({ p50: z.number().nonnegative(), max: z.number().nonnegative() }),
});
export type ProviderFacts = z.infer<typeof providerFactsSchema>;

type Env = Readonly<Record<string, string | undefined>>;

/** `$KLINGRUN_CACHE_DIR`, else `$XDG_CACHE_HOME/klingrun`, else `~/.cache/klingrun`. */
export function cacheDir(env: Env): string {
  if (env.KLINGRUN_CACHE_DIR) return env.KLINGRUN_CACHE_DIR;
  if (env.XDG_CACHE_HOME) return join(env.XDG_CACHE_HOME, 'klingrun');
  return join(env.HOME || homedir(), '.cache', 'klingrun');
}

/** The base URL as the client sends requests to it. */
export const normalizeBaseUrl = (baseUrl: string | undefined): string => (baseUrl || DEFAULT_BASE_URL).replace(/\/+$/, '');

/** `<cache>/provider-facts/<host>-<hash of the URL>.json`: readable, and one file per base URL. */
export function providerFactsPath(baseUrl: string | undefined, env: Env): string {
  const url = normalizeBaseUrl(baseUrl);
  const host = URL.canParse(url) ? new URL(url).host.replace(/[^\w.-]+/g, '_') : 'provider';
  const hash = createHash('sha256').update(url).digest('hex').slice(0, 12);
  return join(cacheDir(env), 'provider-facts', `${host}-${hash}.json`);
}

/** Writes the facts (atomically); returns the file's path. */
export function writeProviderFacts(facts: ProviderFacts, env: Env): string {
  const path = providerFactsPath(facts.base_url, env);
  writeFileAtomic(path, `${JSON.stringify(providerFactsSchema.parse(facts), null, 2)}\n`, `Set KLINGRUN_CACHE_DIR to a folder you can write to, then run \`klingrun doctor\` again.`);
  return path;
}

/**
 * What doctor learnt about `baseUrl` (the default when undefined), or null when it never looked.
 * An unreadable or foreign file also reads as null: a cache must never stop a run, and the next
 * `klingrun doctor` rewrites it.
 */
export function readProviderFacts(baseUrl: string | undefined, env: Env): ProviderFacts | null {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(providerFactsPath(baseUrl, env), 'utf8'));
  } catch {
    return null;
  }
  const facts = providerFactsSchema.safeParse(json);
  return facts.success && facts.data.base_url === normalizeBaseUrl(baseUrl) ? facts.data : null;
}
