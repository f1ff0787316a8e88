// `--time-scale F`: a provider whose clock runs fast (a test double, `klingrun emulate`) is
// followed on its clock. The emulator's banner tells its scale and a command that uses it; that
// command, run as printed, finishes every job, and its schedule and estimate are in scaled seconds.
import { cpSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { CliIO } from '../src/cli/io.js';
import { main } from '../src/cli/run-cli.js';
import { DEFAULT_RUN_OPTIONS, resolveRunOptions } from '../src/runner/options.js';
import { ADAPTIVE, pollDelayMs } from '../src/runner/poll.js';
import { runInProcess } from './helpers/bad-input.js';
import { tempTree } from './helpers/manifest.js';
import { ROOT } from './helpers/reports.js';

describe('the time scale of the provider', () => {
  it('scales every wait on its clock, and the request rate per its minute; network timeouts stay real', () => {
    const real = resolveRunOptions([]);
    const fast = resolveRunOptions([], { timeScale: 0.01 });
    expect(fast.taskTimeoutMs).toBe(real.taskTimeoutMs * 0.01);
    expect(fast.absenceWindowMs).toBe(real.absenceWindowMs * 0.01);
    expect(fast.transitWindowMs).toBe(real.transitWindowMs * 0.01);
    expect([fast.backoffBaseMs, fast.backoffCapMs]).toEqual([real.backoffBaseMs * 0.01, real.backoffCapMs * 0.01]);
    expect(fast.rpm).toBe(DEFAULT_RUN_OPTIONS.rpm * 100);
    expect(fast.requestTimeoutMs).toBe(real.requestTimeoutMs);
    expect(fast.downloadIdleTimeoutMs).toBe(real.downloadIdleTimeoutMs);
    // A manifest's poll interval is in the provider's seconds too.
    expect(resolveRunOptions([{ poll_interval_s: 1 }], { timeScale: 0.01 }).pollIntervalMs).toBe(10);
  });

  it('scales the adaptive poll schedule, not a latency learnt from this run', () => {
    const middle = () => 0.5; // no jitter
    const schedule = (scale: number) => [0, 1, 2, 10].map((n) => pollDelayMs(n, { fixedMs: undefined, hintMs: undefined, scale }, middle));
    expect(schedule(1)).toEqual([ADAPTIVE.firstMs, ADAPTIVE.minMs, ADAPTIVE.minMs * ADAPTIVE.growth, ADAPTIVE.maxMs]);
    expect(schedule(0.01)).toEqual(schedule(1).map((ms) => Math.round(ms * 0.01)));
    expect(pollDelayMs(0, { fixedMs: undefined, hintMs: 700, scale: 0.01 }, middle)).toBe(700);
  });
});

/** `klingrun emulate <args>` in this process until the test ends; resolves with its banner. */
async function emulate(args: readonly string[], cwd: string): Promise<string> {
  const stop = new AbortController();
  let out = '';
  const io: CliIO = { stdout: (text) => void (out += text), stderr: (text) => void (out += text), env: {}, cwd, isTTY: false, confirm: async () => false, signal: stop.signal };
  const done = main(['emulate', ...args], io);
  onTestFinished(async () => {
    stop.abort();
    await done;
  });
  for (let i = 0; i < 500 && !out.includes('Press Ctrl-C'); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  return out;
}

describe("the command `klingrun emulate`'s banner suggests", () => {
  it('tells the time scale, and run as printed finishes every job on the scaled clock', async () => {
    const dir = tempTree();
    cpSync(join(ROOT, 'jobs'), join(dir, 'jobs'), { recursive: true });
    mkdirSync(join(dir, 'output'));
    const banner = await emulate(['--time-scale', '0.01'], dir);
    expect(banner).toContain('  time:  scale 0.01: a 65-second task takes 0.65 s\n');
    const suggested = /^ {2}try: {3}(.+)$/m.exec(banner)?.[1] ?? '';
    const url = /listening on (http:\/\/\S+)/.exec(banner)?.[1];
    expect(suggested).toBe(`COMETAPI_KEY=emulator-key klingrun run jobs/example.yaml --base-url ${url} --time-scale 0.01`);

    // As a shell runs it: the variable, then klingrun's arguments (plus --yes: no terminal here).
    const [assignment, program, ...args] = suggested.split(' ');
    expect(program).toBe('klingrun');
    const [name, value] = (assignment ?? '').split('=') as [string, string];
    const result = await runInProcess([...args, '--yes'], dir, { [name]: value });
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(readFileSync(join(dir, 'output', 'example', 'report.json'), 'utf8')) as { jobs: { status: string }[] };
    expect(report.jobs.map((job) => job.status)).toEqual(Array(8).fill('succeeded'));
    // The schedule and the estimate it printed are the provider's seconds times 0.01: the
    // 60-minute task timeout 36 s, a 1–5 minute task 1–3 s (and the adaptive polls as much sooner).
    expect(result.stdout).toMatch(/limits: concurrency 5, 6000 requests\/min, no budget cap, task timeout 0\.6 min, adaptive polling\n/);
    expect(result.stdout).toMatch(/\ntime: .* \(a task takes 1–3 s\)\n/);
  });
});
