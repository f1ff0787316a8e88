// Without a terminal, what a run prints as it goes is a choice: `--log-format json` (JSON lines on
// stdout, one record each, as docs/log-format.md documents them) or `--quiet` (only the final
// summary). Through the built CLI, against an emulator in this process.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EmulatorHandle, startEmulator } from '../src/emulator/index.js';
import { journalEventSchema } from '../src/state/events.js';
import { runCli } from './helpers/cli.js';
import { png, tempTree } from './helpers/manifest.js';
import { ROOT } from './helpers/reports.js';

const KEY = 'sk-log-format-secret-0123456789';
const EVENT_NAMES: ReadonlySet<string> = new Set(journalEventSchema.options.map((option) => option.shape.ev.value));

let emu: EmulatorHandle;
beforeAll(async () => {
  emu = await startEmulator({ keys: [KEY], timeScale: 0.002, queueS: 0, processingS: 100, rpm: Infinity });
});
afterAll(() => emu.close());

let projects = 0;
function project(): string {
  projects += 1;
  const manifest = `version: 1\nname: logs\nid_salt: "${process.pid}-l${projects}"\ndefaults: { model_name: kling-v2-6, mode: std, duration: 5 }\nmatrix:\n  prompt: ["a slow push-in", "a slow pan"]\njobs:\n  - image: a.png\n`;
  return tempTree({ 'logs.yaml': manifest, 'a.png': png(1) });
}
const args = (extra: readonly string[]) => ['run', 'logs.yaml', '--base-url', emu.url, '--yes', '--rpm', '6000', '--poll-interval', '0.05', '--output', 'out', ...extra];

describe('--log-format json', () => {
  it('stdout is JSON lines, one record each with `v` and `type`: start, the journal events, progress, summary; the key never appears', async () => {
    const dir = project();
    const result = await runCli(args(['--log-format', 'json']), { cwd: dir, env: { COMETAPI_KEY: KEY } });
    expect(result.code, result.stderr).toBe(0);
    const records = result.stdout
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    for (const record of records) expect(record.v).toBe(1);
    expect(records[0]).toMatchObject({ type: 'start', jobs: 2, same_for_every_job: 'kling-v2-6 std 5s' });
    expect(records.at(-1)).toMatchObject({ type: 'summary', interrupted: false, totals: { jobs: 2, succeeded: 2 }, cost: { certain_usd: 0.42 } });
    expect(records.at(-2)).toMatchObject({ type: 'progress', jobs: 2, done: 2, succeeded: 2, failed: 0, eta_s: 0 });
    const events = records.filter((record) => record.type === 'event');
    for (const event of events) {
      expect(EVENT_NAMES.has(event.ev as string), String(event.ev)).toBe(true);
      expect(event).toMatchObject({ t: expect.any(Number), job: expect.stringMatching(/^[0-9a-f]{64}$/), external_task_id: expect.any(String), variant: expect.any(String), phase: expect.any(String) });
      expect(event).not.toHaveProperty('request');
    }
    // The journal's events, in its words: each job submitted, succeeded, downloaded.
    const journal = readFileSync(join(dir, 'out', 'state.jsonl'), 'utf8');
    for (const ev of ['submitting', 'submitted', 'succeeded', 'downloaded']) {
      expect(events.filter((event) => event.ev === ev)).toHaveLength(2);
      expect(journal).toContain(`"ev":"${ev}"`);
    }
    expect(result.stdout + result.stderr).not.toContain(KEY);
    // The human summary is on stderr, out of the way of the records.
    expect(result.stderr).toContain('2 job(s): 2 succeeded.');
  });

  it('every field of every record is in docs/log-format.md', async () => {
    const dir = project();
    const result = await runCli(args(['--log-format', 'json']), { cwd: dir, env: { COMETAPI_KEY: KEY } });
    const doc = readFileSync(join(ROOT, 'docs', 'log-format.md'), 'utf8');
    const fields = new Set(result.stdout.trimEnd().split('\n').flatMap((line) => Object.keys(JSON.parse(line) as object)));
    for (const field of fields) expect(doc, field).toContain(`\`${field}\``);
  });

  it('an unknown format is a usage error before any work', async () => {
    const dir = project();
    const result = await runCli(args(['--log-format', 'yaml']), { cwd: dir, env: { COMETAPI_KEY: KEY } });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('`--log-format`');
    expect(result.stderr).toContain('text, json');
  });
});

describe('--quiet', () => {
  it('prints only the final summary: no plan, no notes, no per-job lines', async () => {
    const dir = project();
    const result = await runCli(args(['--quiet']), { cwd: dir, env: { COMETAPI_KEY: KEY } });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(/^\nsame for every job: |^\nmodel /);
    expect(result.stdout).toContain('2 job(s): 2 succeeded.');
    expect(result.stdout).not.toMatch(/planned|limits:|submitted, task|progress:/);
  });

  it('-q is --quiet; without it the per-job lines say each variant by what differs', async () => {
    const dir = project();
    const quiet = await runCli(args(['-q']), { cwd: dir, env: { COMETAPI_KEY: KEY } });
    expect(quiet.stderr).toBe('');
    const text = await runCli(args([]), { cwd: project(), env: { COMETAPI_KEY: KEY } });
    expect(text.stderr).toContain('same for every job: kling-v2-6 std 5s\n');
    expect(text.stderr).toMatch(/^kr-\w+ prompt="a slow push-in": submitted, task /m);
  });
});
