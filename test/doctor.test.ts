// `klingrun doctor` against the emulator in each of its modes: what each check says, the exit code,
// the facts it saves for `run`, and that it never creates (nor pays for) anything.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cacheDir, providerFactsPath, readProviderFacts, writeProviderFacts, type ProviderFacts } from '../src/cli/provider-facts.js';
import type { EmulatorHandle, EmulatorOptionsInput } from '../src/emulator/index.js';
import { runInProcess } from './helpers/bad-input.js';
import { body, create, emulator } from './helpers/emulator.js';

const KEY = 'sk-doctor-7f3e9a1c5b2d4e6f';
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'klingrun-doctor-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const env = () => ({ COMETAPI_KEY: KEY, KLINGRUN_CACHE_DIR: join(dir, 'cache') });

/** An emulator that accepts KEY, and doctor run against it. */
async function doctorOn(options: EmulatorOptionsInput, before: (emu: EmulatorHandle) => Promise<unknown> = async () => {}) {
  const emu = await emulator({ keys: [KEY], timeScale: 0.01, ...options });
  await before(emu);
  const creates = emu.stats().requestsByRoute.create;
  const result = await runInProcess(['doctor', '--base-url', emu.url], dir, env());
  // Every check is a GET: the provider saw no create from doctor, and billed nothing new.
  expect(emu.stats().requestsByRoute.create).toBe(creates);
  const line = (check: string) => result.stdout.split('\n').find((l) => l.trimStart().startsWith(check)) ?? '';
  return { emu, result, line, facts: readProviderFacts(emu.url, env()) };
}

describe('klingrun doctor', () => {
  it('on a provider that offers everything: latency, key accepted, unfinished tasks counted, lookups proven on a task that has an external id', async () => {
    const { emu, result, line, facts } = await doctorOn({ foreignTasks: 4, queueS: 3600 }, async (emu) => {
      for (const n of [1, 2]) expect((await create(emu, body({ external_task_id: `mine-${n}` }), KEY)).status).toBe(200);
    });
    expect(result.code).toBe(0);
    expect(line('base URL')).toMatch(/answers +\d+ request\(s\): \d+ ms \(p50\), \d+ ms at most/);
    expect(line('API key')).toMatch(/accepted +a lookup of a task that cannot exist was answered "not found"/);
    expect(line('task list')).toMatch(/available +2 unfinished task\(s\) on the account now: they hold 2 of the account's slots .* unless the account allows 7 tasks at once/);
    expect(line('external ids')).toMatch(/works +a create whose answer was lost is found by its external_task_id/);
    expect(result.stdout).toContain(`A run can go ahead. Saved what was learnt to ${providerFactsPath(emu.url, env())}`);
    expect(facts).toEqual({
      base_url: emu.url,
      checked_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      lookup_by_external_id: 'works',
      list: 'available',
      unfinished_tasks: 2,
      latency_ms: { p50: expect.any(Number), max: expect.any(Number) },
    });
    expect(emu.stats()).toMatchObject({ tasksCreated: 2, requestsByRoute: { create: 2 } });
  });

  it('says when lookups by external id do not work, and what a run does instead', async () => {
    const { result, line, facts } = await doctorOn({ foreignTasks: 2, externalIdLookup: false });
    expect(result.code).toBe(0);
    expect(line('external ids')).toMatch(/not available +a lost answer is looked for in the task list instead/);
    expect(facts).toMatchObject({ lookup_by_external_id: 'not_available', list: 'available', unfinished_tasks: 0 });
    expect(line('task list')).toContain("none of the account's slots is in use");
  });

  it('says when the list is not offered, and that lookups could not be tested without a task to try', async () => {
    const { result, line, facts } = await doctorOn({ listSupported: false });
    expect(result.code).toBe(0);
    expect(line('task list')).toMatch(/not available +listing tasks is not supported by this provider \(it answered HTTP 404 with an HTML page\)/);
    expect(line('external ids')).toMatch(/unknown +could not test \(no task with an external_task_id on this account\); if lookups are not offered, a lost answer will leave the job unconfirmed instead of being resent/);
    expect(facts).toMatchObject({ lookup_by_external_id: 'unknown', list: 'not_available', unfinished_tasks: null });
  });

  it('pages through a large account for the unfinished tasks, newest first', async () => {
    const { result, facts } = await doctorOn({ foreignTasks: 700, queueS: 3600 }, (emu) => create(emu, body(), KEY));
    expect(result.code).toBe(0);
    expect(facts).toMatchObject({ unfinished_tasks: 1, lookup_by_external_id: 'works' });
  });

  describe('against the live profile', () => {
    it('reads its answers: "not found" as 400/1201 is a valid key, lookups work', async () => {
      const { result, line, facts } = await doctorOn({ profile: 'live', foreignTasks: 2 });
      expect(result.code).toBe(0);
      expect(line('API key')).toContain('accepted');
      expect(facts).toMatchObject({ lookup_by_external_id: 'works', list: 'available', unfinished_tasks: 0 });
    });

    it('takes the list refused with a JSON 400 for "not available", once', async () => {
      const { emu, result, line, facts } = await doctorOn({ profile: 'live', listSupported: false, externalIdLookup: false });
      expect(result.code).toBe(0);
      expect(line('task list')).toMatch(/not available +listing tasks is not supported by this provider \(it answered HTTP 400 with code 1201\)/);
      expect(emu.stats().requestsByRoute.list).toBe(1);
      expect(facts).toMatchObject({ list: 'not_available', lookup_by_external_id: 'unknown' });
    });
  });

  it('exits 3 when the key is refused, never showing it, and saves nothing', async () => {
    const emu = await emulator({ keys: ['another-key'] });
    const result = await runInProcess(['doctor', '--base-url', emu.url], dir, env());
    expect(result.code).toBe(3);
    expect(result.stdout).toMatch(/API key +refused +Authorization is invalid: the API key is not accepted .*: nothing can run with this key/);
    expect(result.stdout).toContain('A run cannot go ahead: the provider refused the key.');
    expect(result.stdout + result.stderr).not.toContain(KEY);
    expect(emu.stats().requestsByRoute).toMatchObject({ get: 1, create: 0, list: 0 });
    expect(readProviderFacts(emu.url, env())).toBeNull();
  });

  it('exits 4 when the base URL does not answer, 1 when it does not answer as the API does', async () => {
    const gone = await emulator();
    const url = gone.url;
    await gone.close();
    const silent = await runInProcess(['doctor', '--base-url', url], dir, env());
    expect(silent.code).toBe(4);
    expect(silent.stdout).toMatch(/base URL +no answer +cannot connect to .*ECONNREFUSED.*check --base-url/);

    const other = await emulator({ keys: [KEY] });
    const wrongPath = await runInProcess(['doctor', '--base-url', `${other.url}/v2`], dir, env());
    expect(wrongPath.code).toBe(1);
    expect(wrongPath.stdout).toMatch(/API key +unknown +request failed with HTTP 404 with an HTML page .*: the base URL does not answer as the Kling API does/);
    expect(readdirSync(dir)).not.toContain('cache');
  });

  it('checks the embedded emulator with --emulator, and saves nothing for it', async () => {
    const result = await runInProcess(['doctor', '--emulator'], dir, { KLINGRUN_CACHE_DIR: join(dir, 'cache') });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Nothing saved: the embedded emulator lasts only as long as this command.');
    expect(readdirSync(dir)).not.toContain('cache');
  });

  it('is a usage error without a key, or with an argument', async () => {
    expect((await runInProcess(['doctor'], dir, {})).stderr).toMatch(/No API key: set COMETAPI_KEY/);
    expect((await runInProcess(['doctor'], dir, {})).code).toBe(2);
    expect((await runInProcess(['doctor', 'now'], dir, env())).code).toBe(2);
  });
});

describe('provider facts', () => {
  const facts: ProviderFacts = { base_url: 'https://api.example', checked_at: '2026-01-01T00:00:00.000Z', lookup_by_external_id: 'works', list: 'available', unfinished_tasks: 0, latency_ms: { p50: 80, max: 120 } };

  it('lives in $KLINGRUN_CACHE_DIR, else $XDG_CACHE_HOME/klingrun, else ~/.cache/klingrun', () => {
    expect(cacheDir({ KLINGRUN_CACHE_DIR: '/c', XDG_CACHE_HOME: '/x', HOME: '/h' })).toBe('/c');
    expect(cacheDir({ XDG_CACHE_HOME: '/x', HOME: '/h' })).toBe(join('/x', 'klingrun'));
    expect(cacheDir({ HOME: '/h' })).toBe(join('/h', '.cache', 'klingrun'));
  });

  it('is one file per base URL, read back only for that URL (a trailing slash is the same URL)', () => {
    const where = { KLINGRUN_CACHE_DIR: dir };
    const path = writeProviderFacts(facts, where);
    expect(path).toMatch(/provider-facts[/\\]api\.example-[0-9a-f]{12}\.json$/);
    expect(readProviderFacts('https://api.example/', where)).toEqual(facts);
    expect(readProviderFacts('https://other.example', where)).toBeNull();
    expect(readProviderFacts(undefined, where)).toBeNull();
  });

  it('a cache folder that cannot be written: a StateError saying to set KLINGRUN_CACHE_DIR', () => {
    const file = join(dir, 'a-file');
    writeFileSync(file, '');
    expect(() => writeProviderFacts(facts, { KLINGRUN_CACHE_DIR: join(file, 'cache') })).toThrow(/^Cannot write .*a-file\/cache\/provider-facts\/.*ENOTDIR.*Set KLINGRUN_CACHE_DIR to a folder you can write to/);
  });

  it('reads a broken or foreign file as "never checked"', () => {
    const where = { KLINGRUN_CACHE_DIR: dir };
    const path = providerFactsPath(facts.base_url, where);
    mkdirSync(join(dir, 'provider-facts'), { recursive: true });
    for (const text of ['{', JSON.stringify({ ...facts, list: 'maybe' }), JSON.stringify({ ...facts, base_url: 'https://elsewhere' })]) {
      writeFileSync(path, text);
      expect(readProviderFacts(facts.base_url, where)).toBeNull();
    }
  });
});
