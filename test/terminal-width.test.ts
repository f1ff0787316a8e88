// No line is longer than the terminal, and what tells variants apart is what survives a cut: the
// fit module (wrap prose at word boundaries, cut one-line text at a word with an ellipsis), the
// variants' labels (differing fields first, the shared ones said once), tables at 80 columns, and
// the built CLI in a real pseudo-terminal at 80 and 200 columns and across a resize (SIGWINCH).
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cutText, fitText, wrapLine } from '../src/cli/fit.js';
import { commandHelp } from '../src/cli/help.js';
import { formatVariantTable } from '../src/cli/report-summary.js';
import { runCommand } from '../src/cli/commands/run.js';
import { type EmulatorHandle, startEmulator } from '../src/emulator/index.js';
import { groupByVariant, variantLabels } from '../src/plan/variants.js';
import { planIn, png, tempTree } from './helpers/manifest.js';
import { overlongLines, runInPty, screenLines } from './helpers/pty.js';
import { ROOT, reportFor } from './helpers/reports.js';

const BIN = join(ROOT, 'bin', 'klingrun.js');

/** Ten variants of one model, mode and duration that differ by a prompt, two of them alike for their first words. */
const PROMPTS = [
  'slow push-in over the harbor at dawn',
  'slow pan across a meadow in the wind',
  'a drone rises above the old town',
  'rain on a window, city lights behind',
  'a candle flickers in a dark room',
  'waves break on black volcanic sand',
  'a train crosses a snowy bridge',
  'fog rolls down a pine forest slope',
  'a hawk circles over a canyon',
  'lanterns drift up into the night sky',
];
const SWEEP = `version: 1\nname: sweep\ndefaults: { model_name: kling-v2-5-turbo, mode: std, duration: 5 }\nmatrix:\n  prompt: [${PROMPTS.map((p) => JSON.stringify(p)).join(', ')}]\njobs:\n  - image: a.png\n`;

describe('fit: wrap and cut', () => {
  it('cuts one-line text at a word boundary with an ellipsis, mid-word only when a word boundary would keep too little', () => {
    expect(cutText('prompt="slow push-in over the harbor at dawn"', 30)).toBe('prompt="slow push-in over the…');
    expect(cutText('short', 30)).toBe('short');
    expect(cutText('supercalifragilistic', 8)).toBe('superca…');
    expect(cutText('a b', 1)).toBe('…');
  });

  it('wraps prose at spaces, continuation lines indented, every line within the width', () => {
    const text = 'note: out/ has no record of earlier runs. Before its first submit, each job is looked up at the provider by its external_task_id.';
    const lines = wrapLine(text, 40);
    expect(lines).toEqual(['note: out/ has no record of earlier', '  runs. Before its first submit, each', '  job is looked up at the provider by', '  its external_task_id.']);
    // A word longer than the line is split where the line ends; nothing is lost.
    const url = wrapLine(`see https://example.com/${'x'.repeat(50)}`, 30);
    for (const line of url) expect(line.length).toBeLessThanOrEqual(30);
    expect(url.join('').replace(/ /g, '')).toBe(`seehttps://example.com/${'x'.repeat(50)}`);
  });

  it('fitText leaves alone what fits, drawn text (escape codes) and lines of JSON; no width means no change', () => {
    expect(fitText('one two three\n', 7)).toBe('one two\n  three\n');
    expect(fitText('\x1b[1Gone two three', 7)).toBe('\x1b[1Gone two three');
    expect(fitText('{"v":1,"type":"event","ev":"submitted"}\n', 7)).toBe('{"v":1,"type":"event","ev":"submitted"}\n');
    expect(fitText('  "prompt": "a slow push-in",\n', 7)).toBe('  "prompt": "a slow push-in",\n');
    expect(fitText('one two three\n', undefined)).toBe('one two three\n');
  });
});

describe('labels of variants', () => {
  it('hold the fields that differ, in field order; the shared ones are said once', async () => {
    const { plan } = await planIn(SWEEP, { 'a.png': png(1) });
    const variants = groupByVariant(plan.jobs, (job) => job).map((group) => group.variant);
    const labels = variantLabels(variants);
    expect(labels.common).toBe('kling-v2-5-turbo std 5s');
    expect(variants.map((v) => labels.label(v)).slice(0, 2)).toEqual(['prompt="slow push-in over the harbor at dawn"', 'prompt="slow pan across a meadow in the wind"']);
  });

  it('a model × mode sweep: model and mode are the label, the shared duration is not', async () => {
    const { plan } = await planIn('version: 1\nname: mm\nmatrix:\n  model_name: [kling-v2-6, kling-v2-5-turbo]\n  mode: [std, pro]\njobs:\n  - image: a.png\n    prompt: p\n', { 'a.png': png(1) });
    const variants = groupByVariant(plan.jobs, (job) => job).map((group) => group.variant);
    const labels = variantLabels(variants);
    expect(labels.common).toBe('5s');
    expect(variants.map((v) => labels.label(v))).toEqual(['kling-v2-6 std', 'kling-v2-6 pro', 'kling-v2-5-turbo std', 'kling-v2-5-turbo pro']);
  });

  it('one variant keeps its whole label', async () => {
    const { plan } = await planIn('version: 1\nname: one\njobs:\n  - image: a.png\n    prompt: p\n', { 'a.png': png(1) });
    const [variant] = groupByVariant(plan.jobs, (job) => job).map((group) => group.variant);
    expect(variantLabels(variant ? [variant] : []).label(variant!)).toBe(variant?.label);
  });
});

describe('the summary table at 80 columns (run and status)', () => {
  it('says the shared model, mode and duration once, and keeps each row told apart', async () => {
    const { plan } = await planIn(SWEEP, { 'a.png': png(1) });
    const table = formatVariantTable(reportFor(plan, PROMPTS.map(() => 'succeeded'), '../m.yaml'), 80).split('\n');
    for (const line of table) expect(line.length, line).toBeLessThanOrEqual(80);
    expect(table[0]).toBe('same for every job: model kling-v2-5-turbo, mode std, duration 5 s');
    const labels = table.slice(2).map((line) => line.slice(0, line.search(/ {2,}\d/)));
    expect(new Set(labels).size).toBe(PROMPTS.length);
    expect(labels[0]).toMatch(/^"slow push-in/);
    expect(labels[1]).toMatch(/^"slow pan/);
  });
});

describe('help at 80 columns', () => {
  it('wraps at word boundaries under each description, every line within 80', async () => {
    const help = commandHelp({ name: 'run', summary: 'Run a manifest: submit, poll, download, report. Rerun the same command to resume.' }, runCommand, 80);
    const lines = help.split('\n');
    for (const line of lines) expect(line.length, line).toBeLessThanOrEqual(80);
    // Word boundaries: the words are those of the unwrapped help, none split.
    const words = (text: string) => text.split(/\s+/).filter(Boolean);
    const whole = new Set(words(commandHelp({ name: 'run', summary: 'Run a manifest: submit, poll, download, report. Rerun the same command to resume.' }, runCommand)));
    for (const word of words(help)) expect(whole.has(word), word).toBe(true);
    // A continuation line starts under its description's column.
    const budget = lines.findIndex((line) => line.includes('--budget USD'));
    const column = (lines[budget] as string).indexOf('hard cap');
    expect((lines[budget + 1] as string).search(/\S/)).toBe(column);
  });
});

describe('in a terminal', () => {
  let emu: EmulatorHandle;
  beforeAll(async () => {
    // A task takes 100 emulated seconds, 2 s of real time: the bars are drawn for a while.
    emu = await startEmulator({ timeScale: 0.02, queueS: 0, processingS: 100, rpm: Infinity });
  });
  afterAll(() => emu.close());

  let projects = 0;
  const project = (): string => {
    projects += 1;
    return tempTree({ 'sweep.yaml': SWEEP.replace('name: sweep\n', `name: sweep\nid_salt: "${process.pid}-w${projects}"\n`), 'a.png': png(1) });
  };
  const run = (extra: readonly string[] = []) => [process.execPath, BIN, 'run', 'sweep.yaml', '--base-url', emu.url, '--concurrency', '10', '--rpm', '6000', '--poll-interval', '0.2', ...extra];
  const env = { COMETAPI_KEY: 'emulator-key', npm_lifecycle_event: '' };

  it('at 80 columns: no line longer than the terminal (prompt, bars, summary); the bars are told apart by their prompts', async () => {
    const dir = project();
    const result = await runInPty(run(), { cwd: dir, env, columns: 80, steps: [{ expect: '\\[y/N\\] ' }, { send: 'y\r' }, { expect: 'Videos, report.json' }] });
    expect(result.failedStep).toBeNull();
    expect(result.code).toBe(0);
    expect(overlongLines(result.output, 80)).toEqual([]);
    const screen = screenLines(result.output);
    expect(screen).toContain('same for every job: kling-v2-5-turbo std 5s');
    // Each prompt's bar shows its own words, not ten times `kling-v2-5-turbo std 5s`.
    for (const prompt of ['slow push-in', 'slow pan across', 'a hawk circles']) expect(screen.some((line) => line.startsWith(`prompt="${prompt}`)), prompt).toBe(true);
    expect(screen.some((line) => /^kling-v2-5-turbo std 5s prompt=/.test(line))).toBe(false);

    // `status` of that run at 80 columns: the shared fields once, each row's prompt told apart.
    const status = await runInPty([process.execPath, BIN, 'status', 'sweep.yaml'], { cwd: dir, env: {}, columns: 80, steps: [] });
    expect(status.code).toBe(0);
    expect(overlongLines(status.output, 80)).toEqual([]);
    const table = screenLines(status.output);
    const head = table.indexOf('same for every job: model kling-v2-5-turbo, mode std, duration 5 s');
    expect(head).toBeGreaterThan(-1);
    const rows = table.slice(head + 2, head + 2 + PROMPTS.length).map((line) => line.slice(0, line.search(/ {2,}\d/)));
    expect(new Set(rows).size).toBe(PROMPTS.length);
    // Cut at a word, with an ellipsis, long after the words they share.
    expect(rows.filter((row) => row.startsWith('"slow'))).toEqual(['"slow push-in over the harbor at…', '"slow pan across a meadow in the…']);
  }, 60_000);

  it('at 200 columns: the `all …` line and every other fits', async () => {
    const dir = project();
    const result = await runInPty(run(['--yes']), { cwd: dir, env, columns: 200, steps: [{ expect: 'Videos, report.json' }] });
    expect(result.failedStep).toBeNull();
    expect(overlongLines(result.output, 200)).toEqual([]);
    expect(screenLines(result.output).some((line) => /^all +\[/.test(line))).toBe(true);
  }, 60_000);

  it('resized from 120 to 60 columns under a run: the bars and the summary are laid out again at 60', async () => {
    const dir = project();
    const result = await runInPty(run(['--yes']), {
      cwd: dir,
      env,
      columns: 120,
      steps: [{ expect: 'all +\\[' }, { resize: 60 }, { wait: 0.5 }, { mark: true }, { expect: 'Videos, report.json' }],
    });
    expect(result.failedStep).toBeNull();
    expect(result.code).toBe(0);
    const after = result.output.slice(result.marks[0]);
    expect(overlongLines(after, 60)).toEqual([]);
    // Still drawing after the resize, and the summary after it too.
    expect(screenLines(after).some((line) => /^all +\[/.test(line))).toBe(true);
    expect(after).toContain('same for every job: model kling-v2-5-turbo, mode std,');
  }, 60_000);

  it('help at 80 columns: wrapped, no line longer than the terminal', async () => {
    const result = await runInPty([process.execPath, BIN, 'run', '--help'], { cwd: ROOT, env: {}, columns: 80, steps: [] });
    expect(result.code).toBe(0);
    expect(overlongLines(result.output, 80)).toEqual([]);
    expect(screenLines(result.output).some((line) => line.startsWith('      --budget USD'))).toBe(true);
  }, 30_000);
});
