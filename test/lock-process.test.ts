// The lock against real processes and the real /proc: a holder killed with SIGKILL (reaped, or
// left a zombie by a parent that never reaps), locks naming a reused pid, a live holder in another
// pid namespace (`unshare`), and the CLI: `--break-lock`, and no lock left held after Ctrl-C twice.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, onTestFinished } from 'vitest';
import { StateError } from '../src/errors.js';
import { procProbe } from '../src/state/lock-probe.js';
import { LOCK_DIR, acquireLock, lockHolder, nodeLockFs } from '../src/state/lock.js';
import { runInProcess } from './helpers/bad-input.js';
import { ROOT } from './helpers/cli.js';
import { cliBatch } from './helpers/crash.js';
import { FakeClock } from './helpers/fake-clock.js';
import { promptly, track } from './helpers/lock-fakes.js';
import { type Message, UNSHARE, bundleWorker, inboxOf, unshareUnusable } from './helpers/lock-race.js';
import { recordingLogger } from './helpers/state.js';

// Each test starts Node processes (workers bundled by esbuild): seconds each on a loaded machine. No assertion here
// depends on how long anything takes; this only bounds a test that would otherwise hang.
const PROCESSES = { timeout: 90_000 };

const PAIR = fileURLToPath(new URL('fixtures/crash/pair.yaml', import.meta.url));

let dir: string;
let scripts: string;
/** `node <the worker> hold`. */
let HOLD: string[];
beforeAll(async () => {
  scripts = mkdtempSync(join(tmpdir(), 'klingrun-lock-worker-'));
  HOLD = [process.execPath, await bundleWorker(scripts), 'hold'];
});
afterAll(() => rmSync(scripts, { recursive: true, force: true }));
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'klingrun-lock-proc-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Starts a holder (`worker.ts hold`) through `command`, killed when the test ends. */
function startHolder(command: readonly string[]): { child: ChildProcess; next: (event: string) => Promise<Message> } {
  const child = spawn(command[0]!, command.slice(1), { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  onTestFinished(() => void child.kill('SIGKILL'));
  const inbox = inboxOf(child, 'the holder');
  return { child, next: (event) => inbox.next((m) => m.event === event) };
}

const pidOf = (message: Message): number => (message as { pid: number }).pid;
const stateOf = (pid: number): string | undefined => {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0];
  } catch {
    return undefined;
  }
};

async function until(test: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (test()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`never happened: ${what}`);
}

function writeGeneration(n: number, content: Record<string, unknown>): void {
  nodeLockFs.mkdir(join(dir, LOCK_DIR));
  writeFileSync(join(dir, LOCK_DIR, `g${n}`), JSON.stringify(content));
}

const linux = procProbe.self() !== undefined;

describe.skipIf(!linux)('a holder that died, on this machine (real /proc)', PROCESSES, () => {
  it('takes over at once from a holder killed by SIGKILL and reaped (pid gone)', async () => {
    const holder = startHolder([...HOLD, dir]);
    const pid = pidOf(await holder.next('held'));
    holder.child.kill('SIGKILL');
    await new Promise((resolve) => holder.child.once('exit', resolve));
    await until(() => stateOf(pid) === undefined, `pid ${pid} reaped`);
    const logger = recordingLogger();
    const lock = await promptly(acquireLock(dir, { logger, clock: new FakeClock() }));
    lock.release();
    expect(logger.warnings).toEqual([expect.stringContaining(`pid ${pid} on host`)]);
    expect(logger.warnings.join()).toContain('is no longer running');
  });

  it('takes over at once from a holder killed by SIGKILL whose parent never reaps it (a zombie)', async () => {
    // sh starts the holder, then becomes `sleep`, which never waits for children.
    const quoted = [...HOLD, dir, '100'].map((word) => `'${word}'`).join(' ');
    const parent = startHolder(['sh', '-c', `${quoted} & exec sleep 60`]);
    const pid = pidOf(await parent.next('held'));
    process.kill(pid, 'SIGKILL');
    await until(() => stateOf(pid) === 'Z', `pid ${pid} a zombie`);
    const logger = recordingLogger();
    const lock = await promptly(acquireLock(dir, { logger, clock: new FakeClock() }));
    lock.release();
    expect(stateOf(pid)).toBe('Z'); // still there: kill(pid, 0) would call it alive
    expect(logger.warnings).toEqual([expect.stringContaining(`pid ${pid} is a zombie its parent has not reaped`)]);
    expect(logger.warnings.join()).not.toMatch(/kill/);
  });

  it('takes over at once a lock naming pid 1 with another start time (the pid was reused), never saying kill', async () => {
    const me = procProbe.self()!;
    writeGeneration(1, { pid: 1, host: 'box', started_at: '2025-06-01T00:00:00.000Z', boot_id: me.bootId, pid_ns: me.pidNamespace, start_ticks: `${procProbe.process(1)!.startTicks}0` });
    const logger = recordingLogger();
    (await promptly(acquireLock(dir, { logger, clock: new FakeClock() }))).release();
    expect(logger.warnings).toEqual([expect.stringContaining('pid 1 now belongs to another process')]);
    expect(logger.warnings.join()).not.toMatch(/kill/);
  });

  it("takes over, after the stale window, a lock from before a reboot naming the test runner's parent", async () => {
    const me = procProbe.self()!;
    writeGeneration(1, { pid: process.ppid, host: 'box', started_at: '2025-06-01T00:00:00.000Z', boot_id: `${me.bootId}-before`, pid_ns: me.pidNamespace, start_ticks: '1' });
    const clock = new FakeClock();
    const logger = recordingLogger();
    const attempt = track(acquireLock(dir, { logger, clock, staleMs: 3000 }));
    await clock.advance(3000);
    (await attempt.promise).release();
    expect(logger.warnings).toEqual([expect.stringContaining('did not refresh its lock for 3 s')]);
    expect(logger.warnings.join()).not.toMatch(/kill/);
  });
});

describe('a starter watching a lease', PROCESSES, () => {
  it('keeps its process alive until the verdict, though the lease timers are unref\'d', async () => {
    writeGeneration(1, { pid: 4242, host: 'elsewhere', started_at: '2025-06-01T00:00:00.000Z', boot_id: 'another-boot' });
    const starter = startHolder([...HOLD, dir, '100', '500']);
    expect(await starter.next('held')).toMatchObject({ event: 'held' });
  });
});

const noUnshare = unshareUnusable();
describe('a live holder in another pid namespace (unshare --pid)', PROCESSES, () => {
  it.skipIf(noUnshare !== undefined)(`is refused with how to check and override; --break-lock takes it and the holder learns it lost${noUnshare ? ` (skipped: ${noUnshare})` : ''}`, async () => {
    const holder = startHolder([...UNSHARE, ...HOLD, dir, '100']);
    expect(pidOf(await holder.next('held'))).toBe(1); // pid 1 in its namespace: here that is init
    const error = await acquireLock(dir, { staleMs: 5000 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(StateError);
    const message = (error as StateError).message;
    expect(message).toContain('in another pid namespace of this machine');
    expect(message).toContain('was refreshed while this run watched it');
    expect(message).toContain('docker top');
    expect(message).toContain('--break-lock');
    expect(message).not.toMatch(/kill/);

    const logger = recordingLogger();
    const lock = await acquireLock(dir, { force: true, logger });
    expect(logger.warnings).toEqual([expect.stringContaining('Broke the lock')]);
    expect((await holder.next('lost')).message).toContain('lost the lock');
    lock.release();
    expect(lockHolder(dir)).toEqual({ state: 'free' });
  });
});

describe('the CLI', PROCESSES, () => {
  const batchOf = (emulator = {}) => cliBatch(PAIR, { emulator, cleanup: (teardown) => onTestFinished(async () => void (await teardown())) });

  it('refuses a folder held by a live runner and submits nothing; --break-lock takes it over', async () => {
    const batch = await batchOf();
    const mine = await acquireLock(batch.outputDir);
    onTestFinished(() => mine.release());
    const refused = await runInProcess(batch.args, ROOT, batch.env);
    expect(refused.code, refused.stderr).toBe(2);
    expect(refused.stderr).toContain(`Another klingrun (pid ${process.pid} on host`);
    expect(batch.emu.stats().tasksCreated).toBe(0);

    const broken = await runInProcess([...batch.args, '--break-lock'], ROOT, batch.env);
    expect(broken.code, broken.stderr).toBe(0);
    expect(broken.stderr).toContain('warning: Broke the lock');
    expect(() => mine.assertHeld()).toThrow(/lost the lock/);
    expect(lockHolder(batch.outputDir)).toEqual({ state: 'free' });
  });

  it('Ctrl-C twice (process.exit) leaves the folder free: the next run starts without taking anything over', async () => {
    const batch = await batchOf({ processingS: 100 });
    const cli = batch.spawn();
    const noLimit = 2 ** 31 - 1; // a slow start on a loaded machine is fine; the test's timeout bounds it
    expect(await cli.waitFor((lines) => lines.some((line) => line.includes(': submitted, task')), noLimit)).toBe(true);
    cli.child.kill('SIGINT');
    expect(await cli.waitFor((lines) => lines.some((line) => line.includes('Press Ctrl-C again')), noLimit)).toBe(true);
    cli.child.kill('SIGINT');
    const first = await cli.done;
    expect(first.code, first.stderr).toBe(130);
    expect(lockHolder(batch.outputDir)).toEqual({ state: 'free' });
    const second = await runInProcess(batch.args, ROOT, batch.env);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).not.toContain('Took over');
  });
});
