// Everyday terminal habits, through the built CLI as a person meets it: Ctrl-C and Ctrl-D at the
// confirmation prompt, SIGTERM (once: finish what is in flight; twice: stop now), a terminal
// closed under a run (SIGHUP), `| head` closing the output early, Ctrl-C through npx, tables at
// 80 columns, and the small mistakes that must get one clear line (`--budget -1`, a folder that is
// not a run's, an emulator option misspelt). The terminal ones run in a real pseudo-terminal
// (helpers/pty.ts); the runs they interrupt talk to an emulator in this process whose tasks take
// about two seconds, so a signal sent on seeing a submit always lands before the next one.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatCostTable } from '../src/cli/commands/plan.js';
import type { CliIO } from '../src/cli/io.js';
import { formatVariantTable } from '../src/cli/report-summary.js';
import { main } from '../src/cli/run-cli.js';
import { loadModelTable, loadPriceTable } from '../src/data/tables.js';
import { type EmulatorHandle, startEmulator } from '../src/emulator/index.js';
import { summarizePlan } from '../src/plan/cost.js';
import { runInProcess, STACK_FRAME } from './helpers/bad-input.js';
import { runCli, spawnCli } from './helpers/cli.js';
import { planIn, png, tempTree } from './helpers/manifest.js';
import { runInPty, screenLines } from './helpers/pty.js';
import { ROOT, reportFor } from './helpers/reports.js';

const BIN = join(ROOT, 'bin', 'klingrun.js');

let projects = 0;
/** Three jobs of one variant, in a fresh project folder; each project's jobs are its own (id_salt), as the emulator is shared. */
function project(): string {
  projects += 1;
  return tempTree({
    'batch.yaml': `version: 1\nname: batch\nid_salt: "${process.pid}-${projects}"\ndefaults: { model_name: kling-v2-6, mode: std, duration: 5 }\njobs:\n  - image: a.png\n    prompt: a slow push-in\n    repeat: 3\n`,
    'a.png': png(1),
  });
}

/** As a user's shell has it: not inside an npm script (the tests are), so the resume command is `klingrun …`. */
const SHELL = { COMETAPI_KEY: 'emulator-key', npm_lifecycle_event: '' };

/** The journal's events of a folder. */
const events = (outputDir: string): Array<{ ev: string; job?: string }> =>
  readFileSync(join(outputDir, 'state.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { ev: string; job?: string });
const submits = (outputDir: string): string[] => events(outputDir).flatMap((e) => (e.ev === 'submitting' && e.job ? [e.job] : []));

let emu: EmulatorHandle;
beforeAll(async () => {
  // A task takes 100 emulated seconds, 2 s of real time.
  emu = await startEmulator({ timeScale: 0.02, queueS: 0, processingS: 100, rpm: Infinity });
});
afterAll(() => emu.close());

/** `run` against the slow emulator, one task at a time, quick polls; `out` is the output folder. */
const runArgs = (extra: readonly string[] = []): string[] => [
  'run', 'batch.yaml', '--base-url', emu.url, '--yes', '--concurrency', '1', '--rpm', '6000', '--poll-interval', '0.2', '--output', 'out', ...extra,
];

describe('the confirmation prompt, in a terminal', () => {
  const atPrompt = async (steps: Parameters<typeof runInPty>[1]['steps']) => {
    const dir = project();
    const result = await runInPty([process.execPath, BIN, 'run', 'batch.yaml', '--emulator', '--output', 'out'], { cwd: dir, env: {}, steps: [{ expect: '\\[y/N\\] ' }, ...steps] });
    expect(result.failedStep).toBeNull();
    const screen = screenLines(result.output);
    const after = screen.slice(screen.findIndex((line) => line.includes('[y/N]')) + 1).filter(Boolean);
    return { ...result, after, submitted: existsSync(join(dir, 'out', 'state.jsonl')) ? submits(join(dir, 'out')) : [] };
  };

  it('Ctrl-C: exit 130 with one line, nothing submitted', async () => {
    const result = await atPrompt([{ send: '\x03' }]);
    expect(result.code).toBe(130);
    expect(result.after).toEqual(['error: Not confirmed: interrupted; nothing was submitted.']);
    expect(result.submitted).toEqual([]);
  });

  it('Ctrl-D (no answer is no): exit 0 with one plain line, nothing submitted', async () => {
    const result = await atPrompt([{ send: '\x04' }]);
    expect(result.code).toBe(0);
    expect(result.after).toEqual(['Not submitted: you answered no. Nothing was sent or paid.']);
    expect(result.submitted).toEqual([]);
  });

  it('SIGTERM while it waits: exit 130 with the same line', async () => {
    const result = await atPrompt([{ signal: 'SIGTERM' }]);
    expect(result.code).toBe(130);
    expect(result.after).toEqual(['error: Not confirmed: interrupted; nothing was submitted.']);
    expect(result.output).not.toMatch(/internal error/);
  });
});

describe('signals during a run', () => {
  it('SIGTERM once stops it like the first Ctrl-C: no new submits, the task in flight finished, a summary that says how to resume; exit 130', async () => {
    const dir = project();
    const cli = spawnCli(runArgs(), { cwd: dir, env: SHELL });
    expect(await cli.waitFor((lines) => lines.some((line) => line.includes(': submitted, task')))).toBe(true);
    cli.child.kill('SIGTERM');
    const first = await cli.done;
    expect(first.code, first.stderr).toBe(130);
    expect(first.stderr).toContain('Interrupted: no new submits; the tasks in flight are followed to their end and downloaded.');
    expect(first.stdout).toContain('3 job(s): 1 succeeded, 2 pending.');
    expect(first.stdout).toContain(`The run was interrupted: 2 not submitted yet. To resume, run the same command again: klingrun ${runArgs().join(' ')}\n`);
    expect(submits(join(dir, 'out'))).toHaveLength(1);

    const again = await runCli(runArgs(), { cwd: dir, env: SHELL });
    expect(again.code, again.stderr).toBe(0);
    expect(new Set(submits(join(dir, 'out'))).size).toBe(3);
    expect(submits(join(dir, 'out'))).toHaveLength(3);
  });

  it('a second SIGTERM exits at once with 130; the next run is not refused and finishes the task without sending it again', async () => {
    const dir = project();
    const cli = spawnCli(runArgs(), { cwd: dir, env: SHELL });
    expect(await cli.waitFor((lines) => lines.some((line) => line.includes(': submitted, task')))).toBe(true);
    cli.child.kill('SIGTERM');
    expect(await cli.waitFor((lines) => lines.some((line) => line.startsWith('Interrupted:')))).toBe(true);
    cli.child.kill('SIGTERM');
    const first = await cli.done;
    expect(first.code).toBe(130);
    expect(first.stderr).toMatch(/Stopped at once \(SIGTERM\)\. Nothing is lost: the journal records every paid step; `klingrun run batch\.yaml .*` resumes\./);
    // Stopped before its task finished: still at the provider, in the journal.
    expect(events(join(dir, 'out')).map((e) => e.ev)).not.toContain('succeeded');

    // (Three at a time, to be quick: the point is that it is not refused and sends nothing twice.)
    const again = await runCli(runArgs(['--concurrency', '3']), { cwd: dir, env: SHELL });
    expect(again.code, again.stderr).toBe(0);
    expect(submits(join(dir, 'out'))).toHaveLength(3);
  });

  it('the terminal closed under a run (SIGHUP) acts like the first Ctrl-C: the task in flight finished, report.json written, then it ends as a hangup does; the next run is not refused', async () => {
    const dir = project();
    const result = await runInPty([process.execPath, BIN, ...runArgs()], {
      cwd: dir,
      env: SHELL,
      steps: [{ file: join(dir, 'out', 'state.jsonl'), match: '"ev":"submitted"' }, { hangup: true }],
    });
    expect(result.failedStep).toBeNull();
    // Killed by SIGHUP once its work is done, as the convention for a hangup is (see main.ts: Node
    // cannot exit normally once its terminal is gone).
    expect(result.code).toBe(-1);
    const report = JSON.parse(readFileSync(join(dir, 'out', 'report.json'), 'utf8')) as { totals: { succeeded: number; pending: number } };
    expect(report.totals).toMatchObject({ succeeded: 1, pending: 2 });
    expect(submits(join(dir, 'out'))).toHaveLength(1);

    const again = await runCli(runArgs(['--concurrency', '3']), { cwd: dir, env: SHELL });
    expect(again.code, again.stderr).toBe(0);
    expect(submits(join(dir, 'out'))).toHaveLength(3);
  });

  it('through npx, Ctrl-C in the terminal: the run finishes what is in flight, says how to resume, and the shell gets 130', async () => {
    const dir = project();
    const out = join(dir, 'out');
    const args = runArgs().map((arg) => (arg === 'batch.yaml' ? join(dir, 'batch.yaml') : arg === 'out' ? out : arg));
    // npx finds the klingrun of the repository it runs in; the shell reports what npx exits with.
    const script = `trap 'echo "(the shell saw Ctrl-C)"' INT; npx klingrun ${args.join(' ')}; echo "exit code: $?"`;
    const result = await runInPty(['bash', '-c', script], {
      cwd: ROOT,
      env: SHELL,
      // npx may first set up its cache entry for the repository: give that time.
      stepTimeoutS: 60,
      steps: [{ file: join(out, 'state.jsonl'), match: '"ev":"submitted"' }, { send: '\x03' }, { expect: 'exit code: \\d+' }],
    });
    expect(result.failedStep).toBeNull();
    // Lines longer than the terminal are wrapped, their continuations indented: read them whole.
    const screen = screenLines(result.output).join('\n').replace(/\n {2,}/g, ' ');
    expect(screen).toMatch(/The run was interrupted: 2 not submitted yet\. To resume, run the same command again: npx klingrun run /);
    expect(screen).toContain('exit code: 130');
    expect(submits(out)).toHaveLength(1);
  }, 90_000);
});

describe('the summary of an interrupted run', () => {
  it('says when nothing is left to resume', async () => {
    const dir = project();
    const args = ['run', 'batch.yaml', '--emulator', '--yes', '--output', 'out'];
    expect((await runInProcess(args, dir)).code).toBe(0);
    let stdout = '';
    const io: CliIO = { stdout: (text) => void (stdout += text), stderr: () => {}, env: {}, cwd: dir, isTTY: false, confirm: async () => false, signal: AbortSignal.abort() };
    expect(await main(args, io)).toBe(130);
    expect(stdout).toMatch(/\nThe run was interrupted after its last job had finished: nothing is left to resume\.\n$/);
  });
});

describe('output closed early (`| head`)', () => {
  it('`run … 2>&1 | head -1`: no crash, report.json written, the exit code of the run; the next run is not refused', async () => {
    const dir = project();
    const args = ['run', 'batch.yaml', '--emulator', '--yes', '--output', 'out'];
    const cli = spawnCli(args, { cwd: dir });
    expect(await cli.waitFor((lines) => lines.length > 0)).toBe(true);
    // `head -1` has its line and goes away: both streams now fail with EPIPE.
    cli.child.stdout?.destroy();
    cli.child.stderr?.destroy();
    const result = await cli.done;
    expect(result.code).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, 'out', 'report.json'), 'utf8'))).toMatchObject({ totals: { succeeded: 3 } });
    const again = await runCli(args, { cwd: dir });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('3 job(s) planned, nothing to run: all 3 have already finished.');
  });

  it('`run … | head -1` (stdout only): no stack trace on stderr, the run completes', async () => {
    const dir = project();
    const cli = spawnCli(['run', 'batch.yaml', '--emulator', '--yes', '--output', 'out'], { cwd: dir });
    expect(await cli.waitFor((lines) => lines.length > 0)).toBe(true);
    cli.child.stdout?.destroy();
    const result = await cli.done;
    expect(result.code).toBe(0);
    expect(result.stderr).not.toMatch(STACK_FRAME);
    expect(result.stderr).not.toMatch(/EPIPE|internal error/);
    expect(existsSync(join(dir, 'out', 'report.json'))).toBe(true);
  });

  it('output that cannot be written for another reason (a full disk: /dev/full) is one line and exit 2, not a crash', async () => {
    const dir = project();
    const full = openSync('/dev/full', 'w');
    try {
      const child = spawn(process.execPath, [BIN, 'plan', 'batch.yaml'], { cwd: dir, stdio: ['ignore', full, 'pipe'] });
      let stderr = '';
      child.stderr?.on('data', (chunk: Buffer) => void (stderr += chunk.toString('utf8')));
      const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
      expect(code).toBe(2);
      expect(stderr.split('\n').filter((line) => line.startsWith('error'))).toEqual(['error: not all output could be written: ENOSPC: no space left on device, write.']);
      expect(stderr).not.toMatch(STACK_FRAME);
    } finally {
      closeSync(full);
    }
  });

  it('`plan … --json | head`: exit 0, nothing on stderr', async () => {
    // A plan far larger than a pipe's buffer, so most of it meets the closed pipe.
    const dir = tempTree({ 'big.yaml': 'version: 1\nname: big\njobs:\n  - image: a.png\n    prompt: p\n    repeat: 500\n', 'a.png': png(1) });
    const cli = spawnCli(['plan', 'big.yaml', '--json'], { cwd: dir });
    cli.child.stdout?.destroy();
    const result = await cli.done;
    expect(result.code).toBe(0);
    expect(result.stderr).not.toMatch(STACK_FRAME);
    expect(result.stderr).not.toMatch(/EPIPE|error/);
  });
});

describe('small mistakes get one clear line', () => {
  const oneLine = (text: string) => expect(text.trimEnd().split('\n')).toHaveLength(1);

  it('`--budget -1` (a negative number where parseArgs sees an option)', async () => {
    const dir = project();
    const result = await runInProcess(['run', 'batch.yaml', '--emulator', '--budget', '-1'], dir);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe('error: Expected `--budget` to be a number >= 0, got `-1`.\n');
    const short = await runInProcess(['run', 'batch.yaml', '--emulator', '--concurrency', '-3'], dir);
    expect(short.stderr).toBe('error: Expected `--concurrency` to be an integer >= 1, got `-3`.\n');
  });

  it('`klingrun help run` shows the help of run', async () => {
    const result = await runInProcess(['help', 'run'], ROOT);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Usage: klingrun run <manifest> \[options\]\n/);
    expect(result.stdout).toContain('--budget USD');
  });

  it('`status <folder>` of a folder that holds no run, and of one whose report was never written', async () => {
    const dir = tempTree({ 'notes/readme.txt': 'not a run' });
    const empty = await runInProcess(['status', 'notes'], dir);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toBe('error: notes is not the output folder of a run: it has neither report.json nor state.jsonl. Give a manifest (e.g. jobs/example.yaml) or the folder a run wrote (e.g. output/example).\n');
    mkdirSync(join(dir, 'killed'));
    writeFileSync(join(dir, 'killed', 'state.jsonl'), '');
    const killed = await runInProcess(['status', 'killed'], dir);
    expect(killed.code).toBe(2);
    oneLine(killed.stderr);
    expect(killed.stderr).toContain('klingrun report <manifest> --output killed');
  });

  it('an emulator option misspelt in its config file', async () => {
    const dir = tempTree({ 'c.yaml': 'time_scale: 0.01\n' });
    const result = await runInProcess(['emulate', '--config', 'c.yaml'], dir);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe('error: Unknown emulator option `time_scale` in c.yaml. Did you mean `timeScale`?\n');
  });
});

describe('tables at 80 columns', () => {
  const tables = { models: loadModelTable(), prices: loadPriceTable() };

  const sweep = 'version: 1\nname: wide\ndefaults: { model_name: kling-v2-6, mode: pro }\nmatrix:\n  sound: ["on", "off"]\n  negative_prompt: ["blurry, low quality, distorted, oversaturated", "watermark"]\njobs:\n  - image: "*.png"\n';

  it('never wrap: the columns every row shares are said once, what tells the rows apart is kept, the numbers are whole', async () => {
    const { plan } = await planIn(sweep);
    const wide = formatCostTable(summarizePlan(plan, tables));
    const narrow = formatCostTable(summarizePlan(plan, tables), 80);
    expect(Math.max(...wide.split('\n').map((line) => line.length))).toBeGreaterThan(80);
    expect(narrow.split('\n')).toEqual([
      'same for every job: model kling-v2-6, mode pro, duration 5 s',
      'negative_prompt                   sound  jobs  USD/job  USD',
      '"blurry, low quality, distorted…  off       2     0.35  0.70',
      '"blurry, low quality, distorted…  on        2     0.70  1.40',
      'watermark                         off       2     0.35  0.70',
      'watermark                         on        2     0.70  1.40',
      'total                                       8           4.20',
    ]);
  });

  it('fall back to one text column when cutting columns is not enough (the summary of run and status): every column keeps a part', async () => {
    const { plan } = await planIn(sweep);
    const summary = formatVariantTable(reportFor(plan, ['succeeded', 'failed', 'succeeded', 'succeeded'], '../m.yaml'), 80).split('\n');
    for (const line of summary) expect(line.length, line).toBeLessThanOrEqual(80);
    expect(summary[0]).toBe('same for every job: model kling-v2-6, mode pro, duration 5 s');
    expect(summary[1]).toBe('negative_prompt sound      jobs  ok  failed    success    p50    p95   USD');
    expect(summary.slice(2).map((line) => line.slice(0, 26).trimEnd())).toEqual([
      '"blurry, low quality… on',
      'watermark on',
      '"blurry, low quality… off',
      'watermark off',
    ]);
  });
});
