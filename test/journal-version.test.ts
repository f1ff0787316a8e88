// A journal begun by a newer klingrun (a later format in its header) is not damage: klingrun says
// which version wrote it and to upgrade, never to move it away (that would lose the record of
// paid work), and leaves it byte for byte as it was; `run`, `status` and `report` say the same.
import { cpSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runBatch } from '../src/batch.js';
import { openJournal, readJournal } from '../src/state/journal.js';
import { VERSION } from '../src/version.js';
import { runInProcess } from './helpers/bad-input.js';
import { emulator } from './helpers/emulator.js';
import { tempTree } from './helpers/manifest.js';
import { ROOT } from './helpers/reports.js';

/** The journal's first line as a klingrun 9.0.0 with journal format 2 would write it, the rest kept. */
function fromNewerKlingrun(journal: string): string {
  const [first, ...rest] = readFileSync(journal, 'utf8').split('\n');
  const header = { ...(JSON.parse(first as string) as object), version: 2, tool_version: '9.0.0' };
  const text = [JSON.stringify(header), ...rest].join('\n');
  writeFileSync(journal, text);
  return text;
}

/** What each refusal must say, and must not. */
function expectUpgradeAdvice(message: string, file: RegExp): void {
  expect(message).toMatch(file);
  expect(message).toContain('was written by klingrun 9.0.0 (journal format 2)');
  expect(message).toContain(`this klingrun is ${VERSION} and reads format 1 only`);
  expect(message).toContain('Upgrade klingrun to 9.0.0 or later and run the same command again');
  expect(message).not.toMatch(/move|\bmv\b|start over|invalid|\.bad/i);
}

describe('the journal of a newer klingrun', () => {
  it('is refused on open and on read, naming the version that wrote it, and is left unchanged', () => {
    const dir = tempTree({ 'state.jsonl': `${JSON.stringify({ t: 1, ev: 'header', version: 2, name: 'demo', tool_version: '9.0.0', shards: 4 })}\n{"t":2,"ev":"a-later-event"}\n{"t":3,"ev":"torn` });
    const file = join(dir, 'state.jsonl');
    const before = readFileSync(file);
    for (const open of [() => openJournal(file, { name: 'demo', toolVersion: VERSION }), () => readJournal(file, { name: 'demo' })]) {
      let error: Error | undefined;
      try {
        open();
      } catch (caught) {
        error = caught as Error;
      }
      expect(error).toMatchObject({ name: 'StateError', code: 'state_invalid' });
      expectUpgradeAdvice((error as Error).message, /state\.jsonl was written by/);
    }
    // Not even the torn last line was cut off.
    expect(readFileSync(file)).toEqual(before);
  });

  it('without its writer\'s version, it still says a newer klingrun wrote it', () => {
    const dir = tempTree({ 'state.jsonl': `${JSON.stringify({ t: 1, ev: 'header', version: 3, name: 'demo' })}\n` });
    expect(() => readJournal(join(dir, 'state.jsonl'), { name: 'demo' })).toThrow(/was written by a newer klingrun \(journal format 3\).*Upgrade klingrun to the latest version/);
  });

  it('run, status and report of its folder refuse with exit 2 and the same advice; the journal stays byte-identical', async () => {
    const dir = tempTree();
    cpSync(join(ROOT, 'jobs'), join(dir, 'jobs'), { recursive: true });
    mkdirSync(join(dir, 'output'));
    const provider = await emulator({ timeScale: 0.002 });
    const first = await runBatch({ manifest: 'jobs/example.yaml', cwd: dir, outputDir: 'out', apiKey: 'emulator-key', baseUrl: provider.url, limits: { poll_interval_s: 0.05, rpm: 6000 } });
    expect(first.report.summary.totals.succeeded).toBe(8);
    const journal = join(dir, 'out', 'state.jsonl');
    const text = fromNewerKlingrun(journal);
    const modified = statSync(journal).mtimeMs;

    const env = { COMETAPI_KEY: 'emulator-key' };
    for (const argv of [
      ['run', 'jobs/example.yaml', '--base-url', provider.url, '--yes', '--output', 'out'],
      ['status', 'out'],
      ['status', 'jobs/example.yaml', '--output', 'out'],
      ['report', 'out'],
    ]) {
      const result = await runInProcess(argv, dir, env);
      expect(result.code, `${argv.join(' ')}\n${result.stderr}`).toBe(2);
      expectUpgradeAdvice(result.stderr, /^error: .*out\/state\.jsonl was written by/);
    }
    expect(readFileSync(journal, 'utf8')).toBe(text);
    expect(statSync(journal).mtimeMs).toBe(modified);
    // Nothing was submitted again.
    expect(provider.stats().tasksCreated).toBe(8);
  });
});
