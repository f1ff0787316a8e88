// One runner per output folder: `run.lock` names the process that holds it. Two runners on one
// journal could both submit the same job and pay twice, so a live holder is always refused; a
// holder that died (kill -9, power loss) must not block the rerun, so its lock is taken over at once.
import { linkSync, mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname as osHostname } from 'node:os';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { type Clock, type Logger, silentLogger, systemClock } from '../effects.js';
import { StateError } from '../errors.js';

export const LOCK_FILE = 'run.lock';

const holderSchema = z.object({ pid: z.number().int().positive(), host: z.string(), started_at: z.string() });
type Holder = z.infer<typeof holderSchema>;

export interface LockOptions {
  /** @default process.pid */
  readonly pid?: number;
  /** @default os.hostname() */
  readonly hostname?: string;
  /** Whether a process of this host is running. @default signal 0: alive unless ESRCH */
  readonly isAlive?: (pid: number) => boolean;
  /** @default systemClock */
  readonly clock?: Clock;
  /** Told when a dead runner's or an unreadable lock is taken over. @default silentLogger */
  readonly logger?: Logger;
}

export interface Lock {
  /** Removes the lock if it is still ours; safe to call twice. */
  release(): void;
}

/** Lock files this process holds: a second acquire from the same process must fail, not take over. */
const heldHere = new Set<string>();

export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

const errnoCode = (error: unknown): string | undefined => (error as NodeJS.ErrnoException | undefined)?.code;

/** The lock file's text, or undefined when it is gone. */
function readText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return undefined;
    return ''; // unreadable counts as garbled
  }
}

function parseHolder(text: string): Holder | undefined {
  try {
    return holderSchema.parse(JSON.parse(text));
  } catch {
    return undefined;
  }
}

/** Creates the lock with its full content in one step, or returns false if it exists. */
function create(file: string, content: string, pid: number): boolean {
  // Linking a complete temp file means no reader ever sees a half-written lock and takes it for garbage.
  const temp = `${file}.${pid}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    writeFileSync(temp, content);
    try {
      linkSync(temp, file);
    } finally {
      unlinkSync(temp);
    }
    return true;
  } catch (error) {
    if (errnoCode(error) === 'EEXIST') return false;
    if (errnoCode(error) !== 'EPERM' && errnoCode(error) !== 'ENOTSUP') throw cannotWrite(file, error);
  }
  // File systems without hard links (FAT, some network mounts): exclusive create instead.
  try {
    writeFileSync(file, content, { flag: 'wx' });
    return true;
  } catch (error) {
    if (errnoCode(error) === 'EEXIST') return false;
    throw cannotWrite(file, error);
  }
}

const cannotWrite = (file: string, error: unknown): StateError =>
  new StateError('state_invalid', `Cannot create the lock ${file}: ${(error as Error).message}. Check that the output folder is writable, or choose another with --output.`, { cause: error });

/**
 * Moves a stale lock out of the way, but only if it still has the content we judged stale: a
 * runner that took it over a moment ago must keep its lock. False when the lock changed meanwhile.
 */
function removeStale(file: string, staleText: string, pid: number): boolean {
  const aside = `${file}.${pid}.stale`;
  try {
    renameSync(file, aside);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return false;
    throw cannotWrite(file, error);
  }
  if (readText(aside) === staleText) {
    unlinkSync(aside);
    return true;
  }
  // Someone else's fresh lock: put it back unless yet another runner has created one meanwhile.
  try {
    linkSync(aside, file);
  } catch {
    // That other runner now holds the folder; the moved-aside one is lost either way.
  }
  unlinkSync(aside);
  return false;
}

export function acquireLock(dir: string, options: LockOptions = {}): Lock {
  const pid = options.pid ?? process.pid;
  const host = options.hostname ?? osHostname();
  const isAlive = options.isAlive ?? isProcessAlive;
  const logger = options.logger ?? silentLogger;
  const file = resolve(join(dir, LOCK_FILE));
  const started_at = new Date((options.clock ?? systemClock).now()).toISOString();
  const mine = `${JSON.stringify({ pid, host, started_at } satisfies Holder)}\n`;
  try {
    mkdirSync(dir, { recursive: true });
  } catch (error) {
    throw cannotWrite(file, error);
  }

  for (let tries = 0; tries < 5; tries++) {
    if (create(file, mine, pid)) {
      heldHere.add(file);
      return { release: () => release(file, mine) };
    }
    const text = readText(file);
    if (text === undefined) continue; // released between our two steps: try again
    const holder = parseHolder(text);
    if (holder) refuseIfHeld(file, holder, { pid, host, isAlive });
    if (!removeStale(file, text, pid)) continue;
    logger.warn(
      holder
        ? `Took over ${file}: the runner that held it (pid ${holder.pid}, started ${holder.started_at}) is no longer running.`
        : `Took over ${file}: it could not be read as a lock (${JSON.stringify(text.slice(0, 60))}).`,
    );
  }
  throw new StateError('state_locked', `Could not lock ${file}: other runners keep taking it. Make sure only one klingrun uses ${dir}, then rerun.`);
}

/** Throws when the holder may still be running; returns when its lock is stale. */
function refuseIfHeld(file: string, holder: Holder, me: { pid: number; host: string; isAlive: (pid: number) => boolean }): void {
  const who = `pid ${holder.pid} on host ${holder.host}, started ${holder.started_at}`;
  if (holder.host !== me.host) {
    throw new StateError(
      'state_locked',
      `${file} says this output folder is in use by another klingrun (${who}). klingrun cannot check a process on another machine: ` +
        `delete ${file} only if you are sure no run is active there, then rerun (two runners on one folder could pay for the same jobs twice).`,
    );
  }
  // Our own pid in the file is a previous process that had the same pid (containers often restart
  // as the same pid), unless this very process holds the lock.
  const alive = holder.pid === me.pid ? heldHere.has(file) : me.isAlive(holder.pid);
  if (alive) {
    throw new StateError(
      'state_locked',
      `Another klingrun (${who}) is already running in this output folder (${file}). Wait for it to finish or stop it ` +
        `(kill ${holder.pid}), or give this run another --output folder.`,
    );
  }
}

function release(file: string, mine: string): void {
  if (!heldHere.delete(file)) return;
  // Only our own lock: a runner that took over (after judging us dead) keeps its lock.
  if (readText(file) === mine) unlinkSync(file);
}
