// The folder lock, deterministically: fake machines and pid namespaces for the /proc verdicts, a
// FakeClock for the lease, gates to force the interleavings of racing starters. Real processes
// (zombies, unshare, races) are in lock-process.test.ts and lock-race.test.ts.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StateError } from '../src/errors.js';
import { LOCK_DIR, type Lock, type LockOptions, acquireLock, lockHolder, nodeLockFs } from '../src/state/lock.js';
import { FakeClock } from './helpers/fake-clock.js';
import { FakeMachine, Gate, noProc, promptly, track } from './helpers/lock-fakes.js';
import { recordingLogger } from './helpers/state.js';

let dir: string;
let clock: FakeClock;
const held: Lock[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'klingrun-lock-'));
  clock = new FakeClock(Date.UTC(2025, 5, 1));
});
afterEach(() => {
  for (const lock of held.splice(0)) lock.release();
  rmSync(dir, { recursive: true, force: true });
});

const lockDir = (): string => join(dir, LOCK_DIR);
const generations = (): string[] => readdirSync(lockDir()).sort();
const record = (name: string): Record<string, unknown> => JSON.parse(readFileSync(join(lockDir(), name), 'utf8')) as Record<string, unknown>;

/** A runner on `machine` (default: one shared machine per test) with our clock. */
let machine: FakeMachine;
beforeEach(() => {
  machine = new FakeMachine('boot-a');
});
const runner = (pid: number, extra: LockOptions = {}): LockOptions => ({ pid, hostname: 'box', clock, probe: machine.start(pid), ...extra });

async function take(options: LockOptions): Promise<Lock> {
  const lock = await acquireLock(dir, options);
  held.push(lock);
  return lock;
}

async function refusal(promise: Promise<unknown>): Promise<StateError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (error instanceof StateError) return error;
  throw new Error(`expected a StateError, got ${String(error)}`);
}

/** Puts the lock of a runner that stopped refreshing (e.g. it died on another host) in place. */
function writeGeneration(n: number, content: Record<string, unknown> | string): void {
  rmSync(lockDir(), { recursive: true, force: true });
  nodeLockFs.mkdir(lockDir());
  writeFileSync(join(lockDir(), `g${n}`), typeof content === 'string' ? content : JSON.stringify(content));
}

describe('acquireLock: a free folder', () => {
  it('writes generation g1 naming this runner, and a release marks it free while keeping its number', async () => {
    const lock = await take(runner(4242));
    expect(generations()).toEqual(['g1']);
    expect(record('g1')).toEqual({ pid: 4242, host: 'box', started_at: '2025-06-01T00:00:00.000Z', boot_id: 'boot-a', pid_ns: 'pid:[1]', start_ticks: expect.any(String) });
    expect(lockHolder(dir, { probe: machine.start(1) })).toMatchObject({ state: 'held', holder: { pid: 4242 }, running: true });
    lock.assertHeld();
    lock.release();
    lock.release();
    expect(generations()).toEqual(['g1']); // no temp file left behind
    expect(record('g1')).toMatchObject({ pid: 4242, released_at: '2025-06-01T00:00:00.000Z' });
    expect(lockHolder(dir)).toEqual({ state: 'free' });
    expect(() => lock.assertHeld()).toThrow(StateError);
  });

  it('creates a missing output folder', async () => {
    const nested = join(dir, 'output', 'batch');
    (await acquireLock(nested, runner(1))).release();
    expect(existsSync(join(nested, LOCK_DIR))).toBe(true);
  });

  it('takes a released lock at once, as the next generation, and removes the older one', async () => {
    (await take(runner(1111))).release();
    const lock = await promptly(acquireLock(dir, runner(2222)));
    held.push(lock);
    expect(generations()).toEqual(['g2']);
    expect(record('g2').pid).toBe(2222);
    lock.assertHeld();
  });

  it('works without /proc, recording no boot, namespace or start time', async () => {
    await take(runner(1111, { probe: noProc }));
    expect(Object.keys(record('g1')).sort()).toEqual(['host', 'pid', 'started_at']);
  });
});

describe('acquireLock: a holder on this machine and in this pid namespace (checked at once)', () => {
  it('refuses while the holder runs, naming its pid, without touching its lock', async () => {
    const first = await take(runner(1111));
    const error = await refusal(promptly(acquireLock(dir, runner(2222))));
    expect(error.code).toBe('state_locked');
    expect(error.message).toContain('pid 1111 on host box');
    expect(error.message).toContain('kill 1111'); // provably the holder: same boot, namespace and start time
    expect(error.message).toContain('--output');
    expect(generations()).toEqual(['g1']);
    first.assertHeld();
  });

  it('refuses a second lock on the same folder from this very process (the real /proc)', async () => {
    const lock = await take({});
    expect((await refusal(promptly(acquireLock(dir, {})))).code).toBe('state_locked');
    lock.release();
    (await promptly(acquireLock(dir, {}))).release();
  });

  it.each([
    ['is gone', (m: FakeMachine) => m.exit(1111), 'is no longer running'],
    ['is a zombie its parent never reaps', (m: FakeMachine) => m.zombify(1111), 'pid 1111 is a zombie'],
    ['left its pid to a later process (reused pid)', (m: FakeMachine) => void m.start(1111), 'pid 1111 now belongs to another process'],
  ])('takes over at once when the holder %s, telling no one to kill that pid', async (_name, end, words) => {
    const first = await take(runner(1111));
    end(machine);
    const logger = recordingLogger();
    const lock = await promptly(acquireLock(dir, runner(2222, { logger })));
    held.push(lock);
    expect(generations()).toEqual(['g2']);
    expect(logger.warnings).toEqual([expect.stringContaining(words)]);
    expect(logger.warnings.join()).not.toMatch(/kill/);
    expect(() => first.assertHeld()).toThrow(/lost the lock/);
    expect(lockHolder(dir, { probe: machine.start(3) })).toMatchObject({ state: 'held', holder: { pid: 2222 }, running: true });
  });

  it('takes over at once a lock naming pid 1 with another start time (a pid reused after a crash)', async () => {
    const init = machine.start(1);
    writeGeneration(5, { pid: 1, host: 'box', started_at: '2025-05-01T00:00:00.000Z', boot_id: 'boot-a', pid_ns: 'pid:[1]', start_ticks: `${init.self()?.startTicks ?? ''}9` });
    const logger = recordingLogger();
    held.push(await promptly(acquireLock(dir, runner(2222, { logger }))));
    expect(generations()).toEqual(['g6']);
    expect(logger.warnings.join()).toContain('pid 1 now belongs to another process');
    expect(logger.warnings.join()).not.toMatch(/kill/);
  });
});

describe('acquireLock: a holder it cannot check (the lease decides)', () => {
  const STALE = 10_000;

  it.each([
    ['on another host', () => ({ hostname: 'render-02', probe: new FakeMachine('boot-r').start(1111) }), ['pid 1111 on host render-02', '`ps -p 1111` on render-02']],
    ['in another pid namespace of this machine (a container on --network host)', () => ({ probe: machine.start(1111, 'pid:[2]') }), ['another pid namespace', 'docker ps']],
    ['on a clone with the same host name', () => ({ probe: new FakeMachine('boot-clone').start(1111) }), ['same host name', '`ps -p 1111` on each machine called box']],
    ['on a system without /proc', () => ({ probe: noProc }), ['`ps -p 1111` on box']],
  ])('refuses a live holder %s once its lease moves, saying how to check and how to override', async (_name, where, words) => {
    const first = await take(runner(1111, where()));
    const logger = recordingLogger();
    const info: string[] = [];
    const attempt = track(acquireLock(dir, runner(2222, { logger: { ...logger, info: (m) => info.push(m) }, staleMs: STALE })));
    await clock.advance(STALE);
    const state = attempt.state();
    expect(state?.ok).toBe(false);
    const error = (state as { error: StateError }).error;
    expect(error.code).toBe('state_locked');
    expect(error.message).toContain('was refreshed while this run watched it');
    for (const word of words) expect(error.message).toContain(word);
    expect(error.message).toContain('--break-lock');
    expect(error.message).not.toMatch(/kill/);
    expect(info).toEqual([expect.stringContaining('waiting up to 10 s to see whether it is alive')]);
    first.assertHeld();
    expect(generations()).toEqual(['g1']);
  });

  it('takes over from a holder on another host whose lease has not moved for the stale window, and not before', async () => {
    // The holder's own clock never moves: it is suspended, or dead with its lock left behind.
    const first = await take(runner(1111, { hostname: 'render-02', clock: new FakeClock(), probe: new FakeMachine('boot-r').start(1111) }));
    const logger = recordingLogger();
    const attempt = track(acquireLock(dir, runner(2222, { logger, staleMs: STALE })));
    await clock.advance(STALE - 1);
    expect(attempt.state()).toBeUndefined();
    await clock.advance(1);
    expect(attempt.state()?.ok).toBe(true);
    held.push(await attempt.promise);
    expect(logger.warnings).toEqual([expect.stringContaining('did not refresh its lock for 10 s')]);
    expect(generations()).toEqual(['g2']);
    expect(() => first.assertHeld()).toThrow(/lost the lock/);
  });

  it('takes over within the stale window a lock naming pid 1 from before a reboot', async () => {
    writeGeneration(3, { pid: 1, host: 'box', started_at: '2025-05-01T00:00:00.000Z', boot_id: 'boot-before', pid_ns: 'pid:[1]', start_ticks: '1' });
    const logger = recordingLogger();
    const attempt = track(acquireLock(dir, runner(2222, { logger, staleMs: STALE })));
    await clock.advance(STALE);
    held.push(await attempt.promise);
    expect(logger.warnings.join()).toContain('pid 1 on host box');
    expect(logger.warnings.join()).not.toMatch(/kill/);
  });

  it('takes a lock released while it watched at once, without waiting out the window', async () => {
    // A holder that ends before its first refresh: the lease never moved.
    const first = await take(runner(1111, { hostname: 'render-02', probe: new FakeMachine('boot-r').start(1111), refreshMs: 60_000 }));
    const attempt = track(acquireLock(dir, runner(2222, { staleMs: STALE })));
    await clock.advance(500);
    first.release();
    await clock.advance(500);
    expect(attempt.state()?.ok).toBe(true);
    held.push(await attempt.promise);
    expect(generations()).toEqual(['g2']);
  });

  it('a holder whose lease was judged stale (a long suspend) notices it lost the folder: `lost` aborts', async () => {
    const holderClock = new FakeClock();
    const first = await take(runner(1111, { hostname: 'render-02', clock: holderClock, probe: new FakeMachine('boot-r').start(1111) }));
    const attempt = track(acquireLock(dir, runner(2222, { staleMs: STALE })));
    await clock.advance(STALE);
    held.push(await attempt.promise);
    expect(first.lost.aborted).toBe(false);
    await holderClock.advance(1000); // it wakes up: its next refresh sees generation 2
    expect(first.lost.aborted).toBe(true);
    expect(first.lost.reason).toBeInstanceOf(StateError);
    expect((first.lost.reason as StateError).message).toContain('pid 2222 on host box');
    first.release(); // must not free the new holder's folder
    expect(lockHolder(dir, { probe: machine.start(3) })).toMatchObject({ state: 'held', holder: { pid: 2222 } });
  });
});

describe('acquireLock: a lock it cannot read is never taken over', () => {
  const eacces: LockOptions['fs'] = {
    ...nodeLockFs,
    read: () => {
      throw Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' });
    },
  };

  it('refuses an unreadable lock (mode 0600 of another user), saying how to check and override', async () => {
    await take(runner(1111));
    const error = await refusal(promptly(acquireLock(dir, runner(2222, { fs: eacces }))));
    expect(error.code).toBe('state_locked');
    expect(error.message).toContain('cannot be read (permission denied)');
    expect(error.message).toContain(`ls -l ${join(lockDir(), 'g1')}`);
    expect(error.message).toContain('--break-lock');
    expect(generations()).toEqual(['g1']);
  });

  it.each([
    ['garbage', 'not json at all'],
    ['an empty file', ''],
    ['JSON without a pid', '{"host":"box"}'],
  ])('refuses a garbled lock (%s)', async (_name, content) => {
    writeGeneration(1, content);
    const error = await refusal(promptly(acquireLock(dir, runner(2222))));
    expect(error.message).toContain('not a klingrun lock');
    expect(generations()).toEqual(['g1']);
  });

  it('refuses the single-file run.lock of an older klingrun; --break-lock replaces it', async () => {
    writeFileSync(lockDir(), JSON.stringify({ pid: 77, host: 'box', started_at: '2025-06-01T00:00:00.000Z' }));
    const error = await refusal(promptly(acquireLock(dir, runner(2222))));
    expect(error.message).toContain('a lock file from an older klingrun');
    expect(error.message).toContain('"pid":77');
    held.push(await promptly(acquireLock(dir, runner(2222, { force: true }))));
    expect(generations()).toEqual(['g1']);
  });
});

describe('--break-lock (force)', () => {
  it('takes a live holder\'s folder; the old holder\'s assertHeld throws and its `lost` aborts', async () => {
    const first = await take(runner(1111));
    const logger = recordingLogger();
    held.push(await promptly(acquireLock(dir, runner(2222, { force: true, logger }))));
    expect(logger.warnings).toEqual([expect.stringContaining('Broke the lock')]);
    expect(() => first.assertHeld()).toThrow(/lost the lock .* \(pid 2222 on host box/);
    expect(first.lost.aborted).toBe(true);
    expect(generations()).toEqual(['g2']);
  });

  it('the old holder\'s refresher notices on its own', async () => {
    const first = await take(runner(1111));
    held.push(await acquireLock(dir, runner(2222, { force: true })));
    expect(first.lost.aborted).toBe(false);
    await clock.advance(1000);
    expect(first.lost.aborted).toBe(true);
    expect((first.lost.reason as StateError).code).toBe('state_locked');
  });

  it('takes an unreadable lock', async () => {
    writeGeneration(4, 'garbled');
    held.push(await promptly(acquireLock(dir, runner(2222, { force: true }))));
    expect(generations()).toEqual(['g5']);
  });

  it('two at once: exactly one ends up holding the folder', async () => {
    await take(runner(1111));
    const gates = [new Gate('judged'), new Gate('judged')];
    const attempts = [2222, 3333].map((pid, i) => track(acquireLock(dir, runner(pid, { force: true, pause: gates[i]!.pause }))));
    await Promise.all(gates.map((gate) => gate.reached));
    for (const gate of gates) gate.open();
    await clock.advance(0);
    const outcomes = attempts.map((a) => a.state());
    expect(outcomes.filter((o) => o?.ok)).toHaveLength(1);
    expect(outcomes.filter((o) => o && !o.ok && o.error instanceof StateError && o.error.code === 'state_locked')).toHaveLength(1);
  });
});

describe('racing starters, interleavings forced through the pause hook', () => {
  async function stale(): Promise<void> {
    await take(runner(1111));
    machine.exit(1111);
  }

  it('three starters over a stale lock (B judges it stale, A takes it, then B and C act): exactly one holder', async () => {
    await stale();
    const gateB = new Gate('judged');
    const b = track(acquireLock(dir, runner(2222, { pause: gateB.pause })));
    expect(await gateB.reached).toEqual({ at: 'judged', generation: 2 }); // B judged generation 1 stale
    const a = await promptly(acquireLock(dir, runner(3333))); // A takes the folder meanwhile
    held.push(a);
    gateB.open(); // B acts on its old judgement: it cannot touch A's lock
    const c = track(acquireLock(dir, runner(4444)));
    await clock.advance(0);
    expect(b.state()).toMatchObject({ ok: false, error: { code: 'state_locked' } });
    expect(c.state()).toMatchObject({ ok: false, error: { code: 'state_locked' } });
    a.assertHeld();
    expect(generations()).toEqual(['g2']);
    expect(record('g2').pid).toBe(3333);
  });

  it('two starters judging one stale lock at once: one wins, the other is refused', async () => {
    await stale();
    const gates = [new Gate('judged'), new Gate('judged')];
    const attempts = [2222, 3333].map((pid, i) => track(acquireLock(dir, runner(pid, { pause: gates[i]!.pause }))));
    expect(await Promise.all(gates.map((g) => g.reached))).toEqual([
      { at: 'judged', generation: 2 },
      { at: 'judged', generation: 2 },
    ]);
    for (const gate of gates) gate.open();
    await clock.advance(0);
    const outcomes = attempts.map((a) => a.state());
    expect(outcomes.filter((o) => o?.ok)).toHaveLength(1);
    expect(outcomes.find((o) => o && !o.ok)).toMatchObject({ error: { code: 'state_locked' } });
    expect(generations()).toEqual(['g2']);
  });

  it('a starter that judged long ago and wins a number swept meanwhile backs off: never two holders', async () => {
    await stale();
    const gateB = new Gate('judged');
    const wonB = new Gate('won');
    const pause: LockOptions['pause'] = async (step) => {
      await gateB.pause(step);
      await wonB.pause(step);
    };
    const b = track(acquireLock(dir, runner(2222, { pause })));
    await gateB.reached; // B is about to create g2
    (await promptly(acquireLock(dir, runner(3333)))).release(); // A takes g2 and is done
    const c = await promptly(acquireLock(dir, runner(4444))); // C takes g3 and sweeps g2
    held.push(c);
    expect(generations()).toEqual(['g3']);
    gateB.open();
    expect(await wonB.reached).toEqual({ at: 'won', generation: 2 }); // B created g2 again
    expect(lockHolder(dir, { probe: machine.start(5) })).toMatchObject({ state: 'held', holder: { pid: 4444 } });
    wonB.open();
    await clock.advance(0);
    expect(b.state()).toMatchObject({ ok: false, error: { code: 'state_locked' } });
    expect(generations()).toEqual(['g3']); // B removed its g2
    c.assertHeld();
  });
});

describe('lockHolder', () => {
  it('says free when nothing ever ran, held with running false for a dead holder, and unreadable', async () => {
    expect(lockHolder(dir)).toEqual({ state: 'free' });
    await take(runner(1111));
    machine.exit(1111);
    expect(lockHolder(dir, { probe: machine.start(2) })).toMatchObject({ state: 'held', holder: { pid: 1111 }, running: false, refreshedAt: expect.any(String) });
    expect(lockHolder(dir, { probe: new FakeMachine('boot-b').start(2) })).toMatchObject({ state: 'held', running: undefined });
    writeGeneration(9, 'garbled');
    expect(lockHolder(dir)).toMatchObject({ state: 'unreadable', reason: expect.stringContaining('not a klingrun lock') });
  });
});
