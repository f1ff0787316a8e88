// One runner per output folder. Two runners on one journal could both submit the same job and pay
// twice, so a live holder is never taken over; a dead one must not block the rerun.
//
// `run.lock/` holds generation files `g<n>`; the holder is whoever won the highest n, unless it
// released it. A starter that judged generation n free or dead creates n+1 exclusively (link of a
// complete temp file: exactly one of any number of racers wins a number), then checks that no
// higher number exists (a number below the highest can be swept free and won by a starter that
// judged long ago; that starter backs out). Nothing is moved aside, so no gap exists in which a
// third runner could slip in. The holder refreshes its file's mtime
// (the lease) and checks that no higher generation exists; starters that cannot check the holder's
// pid for certain (lock-probe.ts) watch the lease instead. docs/lock.md explains the choice.
import { randomUUID } from 'node:crypto';
import { hostname as osHostname } from 'node:os';
import { join, resolve } from 'node:path';
import { type Clock, type Logger, silentLogger, systemClock } from '../effects.js';
import { StateError, errnoCode } from '../errors.js';
import * as say from './lock-messages.js';
import { type ProcessIdentity, type ProcessProbe, checkHolder, procProbe } from './lock-probe.js';
import { type LockFs, type LockRecord, generationName, nodeLockFs, readTop, recordText, scan, type Top } from './lock-record.js';

export const LOCK_DIR = 'run.lock';
export { nodeLockFs, type LockFs, type LockRecord } from './lock-record.js';
export type { ProcessIdentity, ProcessProbe } from './lock-probe.js';

/** A point between the steps of an acquisition, where `LockOptions.pause` is called. */
export interface LockStep {
  /** `judged`: about to create `generation`; `won`: created it, not yet checked for a higher one. */
  readonly at: 'judged' | 'won';
  readonly generation: number;
}

export interface LockOptions {
  /** @default process.pid */
  readonly pid?: number;
  /** @default os.hostname() */
  readonly hostname?: string;
  /** Sleeps (lease watch, refresh) and the times written in the lock. @default systemClock */
  readonly clock?: Clock;
  /** @default silentLogger */
  readonly logger?: Logger;
  /** @default procProbe (Linux /proc) */
  readonly probe?: ProcessProbe;
  /** @default nodeLockFs */
  readonly fs?: LockFs;
  /** Take the folder whatever state its holder is in (`--break-lock`). @default false */
  readonly force?: boolean;
  /** A holder whose lease has not moved for this long is dead. @default 10_000 */
  readonly staleMs?: number;
  /** How often the holder refreshes its lease and checks it still holds the folder. @default 1_000 */
  readonly refreshMs?: number;
  /** Awaited between the steps of an acquisition, so a test can force an interleaving. */
  readonly pause?: (step: LockStep) => void | Promise<void>;
}

export interface Lock {
  /** Throws StateError('state_locked', …) if this runner no longer holds the folder. Synchronous and cheap: one readdir. */
  assertHeld(): void;
  /** Aborted, with that StateError as reason, as soon as the refresher notices the lock was lost. */
  readonly lost: AbortSignal;
  /** Idempotent and synchronous (safe in a process 'exit' handler); after it, the folder is free at once. */
  release(): void;
}

/** What `status` can show, without waiting. */
export type LockStatus =
  | { readonly state: 'free' }
  | {
      readonly state: 'held';
      readonly file: string;
      readonly holder: LockRecord;
      /** Known only on the holder's own machine and pid namespace; undefined elsewhere (the lease decides). */
      readonly running: boolean | undefined;
      /** The lease's last refresh (the lock file's mtime). */
      readonly refreshedAt: string;
    }
  | { readonly state: 'unreadable'; readonly file: string; readonly reason: string };

interface Context {
  readonly dir: string;
  readonly lockDir: string;
  readonly pid: number;
  readonly host: string;
  readonly me: ProcessIdentity | undefined;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly probe: ProcessProbe;
  readonly fs: LockFs;
  readonly staleMs: number;
  readonly refreshMs: number;
  readonly pause: (step: LockStep) => void | Promise<void>;
}

/** Rounds lost to other starters (each one a generation someone else won) before giving up. */
const MAX_ROUNDS = 20;
/** Each refresh moves the mtime by at least this much, so file systems with 1 s timestamps see it move. */
const MTIME_STEP_MS = 1000;

function contextFor(dir: string, options: LockOptions): Context {
  const probe = options.probe ?? procProbe;
  const absolute = resolve(dir);
  return {
    dir: absolute,
    lockDir: join(absolute, LOCK_DIR),
    pid: options.pid ?? process.pid,
    host: options.hostname ?? osHostname(),
    me: probe.self(),
    clock: options.clock ?? systemClock,
    logger: options.logger ?? silentLogger,
    probe,
    fs: options.fs ?? nodeLockFs,
    staleMs: options.staleMs ?? 10_000,
    refreshMs: options.refreshMs ?? 1_000,
    pause: options.pause ?? (() => {}),
  };
}

/** Takes the output folder `dir` (created if missing), waiting up to the stale window to judge a holder; throws StateError('state_locked') while another runner holds it. */
export async function acquireLock(dir: string, options: LockOptions = {}): Promise<Lock> {
  const c = contextFor(dir, options);
  // --break-lock breaks the holder seen first; a runner that wins the folder meanwhile is judged as usual.
  let force = options.force ?? false;
  prepareFolder(c, force);
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const top = listTop(c);
    let takeover: string | undefined;
    if (top.kind === 'vanished') continue;
    if (top.kind === 'unreadable') {
      if (!force) throw new StateError('state_locked', say.refusedUnreadable(c.dir, top.file, top.reason));
      takeover = say.broke(c.dir, top.reason);
    } else if (top.kind === 'held') {
      if (force) takeover = say.broke(c.dir, top.record);
      else {
        const judged = await judge(c, top);
        if (judged === 'changed') continue;
        takeover = judged;
      }
    }
    force = false;
    const generation = top.generation + 1;
    const record: LockRecord = { pid: c.pid, host: c.host, started_at: new Date(c.clock.now()).toISOString(), ...identityFields(c.me) };
    await c.pause({ at: 'judged', generation });
    if (!create(c, generation, recordText(record))) continue;
    await c.pause({ at: 'won', generation });
    const file = join(c.lockDir, generationName(generation));
    // A number below the highest can be free again (swept) and won by a starter that judged long ago.
    if (inFolder(c, () => scan(c.fs, c.lockDir)).highest !== generation) {
      removeQuietly(c.fs, file);
      continue;
    }
    sweep(c, generation);
    if (takeover) c.logger.warn(takeover);
    return hold(c, generation, record);
  }
  throw new StateError('state_locked', say.busy(c.dir));
}

/** The lock's state, without waiting: `running` comes from /proc only, never from the lease. */
export function lockHolder(dir: string, options: Pick<LockOptions, 'probe' | 'fs'> = {}): LockStatus {
  const fs = options.fs ?? nodeLockFs;
  const probe = options.probe ?? procProbe;
  const lockDir = join(resolve(dir), LOCK_DIR);
  const kind = fs.kind(lockDir);
  if (kind === undefined) return { state: 'free' };
  if (kind === 'file') return { state: 'unreadable', file: lockDir, reason: 'a lock file of an older klingrun' };
  let top = readTop(fs, lockDir);
  // Vanished: a higher generation appeared between listing and reading; it is there now.
  while (top.kind === 'vanished') top = readTop(fs, lockDir);
  if (top.kind === 'free') return { state: 'free' };
  if (top.kind === 'unreadable') return { state: 'unreadable', file: top.file, reason: top.reason };
  const verdict = checkHolder(top.record, probe.self(), probe);
  return { state: 'held', file: top.file, holder: top.record, running: verdict?.alive, refreshedAt: new Date(top.mtimeMs).toISOString() };
}

const identityFields = (me: ProcessIdentity | undefined): Pick<LockRecord, 'boot_id' | 'pid_ns' | 'start_ticks'> =>
  me ? { boot_id: me.bootId, pid_ns: me.pidNamespace, start_ticks: me.startTicks } : {};

/** Creates `run.lock/`; a `run.lock` file is the single-file lock of klingrun before generations. */
function prepareFolder(c: Context, force: boolean): void {
  if (inFolder(c, () => c.fs.kind(c.lockDir)) === 'file') {
    if (!force) throw new StateError('state_locked', say.refusedOldFormat(c.dir, c.lockDir, readQuietly(c.fs, c.lockDir)));
    inFolder(c, () => c.fs.remove(c.lockDir));
    c.logger.warn(say.broke(c.dir, 'a lock file of an older klingrun'));
  }
  inFolder(c, () => c.fs.mkdir(c.lockDir));
}

/** A lock folder that cannot be listed or read is not one anyone can judge: say so, as a state error. */
function inFolder<T>(c: Context, look: () => T): T {
  try {
    return look();
  } catch (error) {
    throw new StateError('state_invalid', say.cannotUse(c.lockDir, error), { cause: error });
  }
}

const listTop = (c: Context): Top => inFolder(c, () => readTop(c.fs, c.lockDir));

/**
 * Whether a holder is dead: returns the takeover warning, or 'changed' when another generation or
 * a release appeared while watching; throws the refusal when the holder is alive.
 */
async function judge(c: Context, top: Extract<Top, { kind: 'held' }>): Promise<string | 'changed'> {
  const seen: say.Seen = { dir: c.dir, record: top.record, me: c.me, host: c.host };
  const verdict = checkHolder(top.record, c.me, c.probe);
  if (verdict?.alive) throw new StateError('state_locked', say.refusedAlive(seen));
  if (verdict) return say.tookOver(seen, verdict.death, c.staleMs);
  // The lease: alive if its mtime moves while we watch. Only our own sleeps are timed, so clocks of
  // other hosts do not matter; counting sleeps keeps a clock jump from cutting the watch short.
  c.logger.info(say.waiting(seen, c.staleMs));
  // The clock's sleeps are unref'd; a caller awaiting the verdict must not see its process exit meanwhile.
  const keepAlive = setInterval(() => {}, 60_000);
  try {
    for (let slept = 0; slept < c.staleMs; slept += c.refreshMs) {
      await c.clock.sleep(c.refreshMs);
      const now = listTop(c);
      if (now.kind !== 'held' || now.generation !== top.generation) return 'changed';
      if (now.mtimeMs !== top.mtimeMs || now.text !== top.text) throw new StateError('state_locked', say.refusedLease(seen, top.file));
    }
  } finally {
    clearInterval(keepAlive);
  }
  return say.tookOver(seen, 'stale', c.staleMs);
}

/** Creates generation n with its full content, or returns false when another starter has it. */
function create(c: Context, generation: number, text: string): boolean {
  const file = join(c.lockDir, generationName(generation));
  const temp = tempIn(c);
  try {
    c.fs.write(temp, text, false);
    try {
      c.fs.link(temp, file);
      return true;
    } catch (error) {
      // ENOENT: our temp file was swept by a runner that won meanwhile.
      if (errnoCode(error) === 'EEXIST' || errnoCode(error) === 'ENOENT') return false;
      if (!['EPERM', 'ENOTSUP', 'ENOSYS'].includes(errnoCode(error) ?? '')) throw error;
    }
    // No hard links (FAT, some network mounts): exclusive creation. A reader may then see the file
    // half-written and refuse it as unreadable, which is safe.
    try {
      c.fs.write(file, text, true);
      return true;
    } catch (error) {
      if (errnoCode(error) === 'EEXIST') return false;
      throw error;
    }
  } catch (error) {
    throw new StateError('state_invalid', say.cannotUse(file, error), { cause: error });
  } finally {
    removeQuietly(c.fs, temp);
  }
}

/** Removes older generations and temp files (best effort: the folder is ours either way). */
function sweep(c: Context, generation: number): void {
  let found;
  try {
    found = scan(c.fs, c.lockDir);
  } catch {
    return;
  }
  for (const n of found.generations) if (n < generation) removeQuietly(c.fs, join(c.lockDir, generationName(n)));
  for (const name of found.others) removeQuietly(c.fs, join(c.lockDir, name));
}

function hold(c: Context, generation: number, record: LockRecord): Lock {
  const file = join(c.lockDir, generationName(generation));
  const stop = new AbortController();
  const lostController = new AbortController();
  let released = false;
  let mtimeMs = c.clock.now();

  const lose = (): StateError => {
    if (!lostController.signal.aborted) {
      stop.abort();
      const top = readTopQuietly(c);
      const error = new StateError('state_locked', say.lost(c.dir, top?.kind === 'held' ? top.record : undefined));
      lostController.abort(error);
      c.logger.warn(error.message);
    }
    return lostController.signal.reason as StateError;
  };
  const stillHeld = (): boolean => {
    if (lostController.signal.aborted) return false;
    let current;
    try {
      current = scan(c.fs, c.lockDir);
    } catch (error) {
      // A folder that is gone says nobody holds it; any other error proves nothing, the next check decides.
      if (errnoCode(error) !== 'ENOENT') return true;
    }
    if (current?.highest === generation) return true;
    lose();
    return false;
  };

  void (async () => {
    for (;;) {
      try {
        await c.clock.sleep(c.refreshMs, stop.signal);
      } catch {
        return;
      }
      if (stop.signal.aborted || !stillHeld()) return;
      mtimeMs = Math.max(c.clock.now(), mtimeMs + MTIME_STEP_MS);
      try {
        c.fs.touch(file, mtimeMs);
      } catch (error) {
        if (errnoCode(error) === 'ENOENT') lose(); // removed by a runner that took over
        else c.logger.debug(`Could not refresh the lock ${file}: ${(error as Error).message}`);
      }
    }
  })();

  return {
    lost: lostController.signal,
    assertHeld() {
      if (released) throw new StateError('state_locked', `This run already released the lock on ${c.dir}.`);
      if (!stillHeld()) throw lose();
    },
    release() {
      if (released) return;
      released = true;
      stop.abort();
      if (lostController.signal.aborted) return;
      // Rewritten, not removed: the highest generation stays, marked free.
      const temp = tempIn(c);
      try {
        if (scan(c.fs, c.lockDir).highest !== generation) return;
        c.fs.write(temp, recordText({ ...record, released_at: new Date(c.clock.now()).toISOString() }), false);
        c.fs.rename(temp, file);
      } catch (error) {
        removeQuietly(c.fs, temp);
        // The next run on this machine sees this process gone and takes over at once.
        c.logger.warn(`Could not release the lock ${file}: ${(error as Error).message}.`);
      }
    },
  };
}

/** A temp file's name: pids repeat across namespaces, so a random part keeps starters apart. */
const tempIn = (c: Context): string => join(c.lockDir, `t.${c.pid}.${randomUUID()}`);

function removeQuietly(fs: LockFs, path: string): void {
  try {
    fs.remove(path);
  } catch {
    // already gone, or someone else's to clean up
  }
}

function readQuietly(fs: LockFs, path: string): string | undefined {
  try {
    return fs.read(path).text;
  } catch {
    return undefined;
  }
}

function readTopQuietly(c: Context): Top | undefined {
  try {
    return readTop(c.fs, c.lockDir);
  } catch {
    return undefined;
  }
}
