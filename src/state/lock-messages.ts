// What the lock tells the user. A refusal names the holder, says how to check on it from where it
// runs, and how to override; only a holder proven alive on this machine is shown with `kill`.
import type { Death, ProcessIdentity } from './lock-probe.js';
import { sameNamespace } from './lock-probe.js';
import type { LockRecord } from './lock-record.js';

/** Where the holder runs, as far as this starter can tell. */
type Place = 'here' | 'other-namespace' | 'same-name-elsewhere' | 'other-host' | 'unknown';

function placeOf(record: LockRecord, me: ProcessIdentity | undefined, host: string): Place {
  if (sameNamespace(record, me)) return 'here';
  if (me && record.boot_id === me.bootId) return 'other-namespace';
  if (record.host !== host) return 'other-host';
  return me && record.boot_id ? 'same-name-elsewhere' : 'unknown';
}

const who = (record: LockRecord): string => `pid ${record.pid} on host ${record.host}, started ${record.started_at}`;

const WHERE: Record<Place, string> = {
  here: '',
  'other-namespace': ', in another pid namespace of this machine (another container?), so that pid is not the one you see here',
  'same-name-elsewhere': ', on another machine with the same host name (a clone, or a container on another host) or before a reboot of this one',
  'other-host': '',
  unknown: '',
};

function howToCheck(place: Place, record: LockRecord): string {
  switch (place) {
    case 'other-namespace':
      return 'To check, look for a klingrun process in the other containers of this machine (e.g. `docker ps`, then `docker top <container>`).';
    case 'same-name-elsewhere':
      return `To check, look for a klingrun process with \`ps -p ${record.pid}\` on each machine called ${record.host}.`;
    default:
      return `To check, run \`ps -p ${record.pid}\` on ${record.host}.`;
  }
}

const OVERRIDE =
  'If you are sure no klingrun uses this folder any more, rerun with --break-lock: this run then takes the folder over, and the other runner, should it be alive after all, stops submitting as soon as it notices.';

export interface Seen {
  readonly dir: string;
  readonly record: LockRecord;
  readonly me: ProcessIdentity | undefined;
  readonly host: string;
}

const described = (seen: Seen): string => `${who(seen.record)}${WHERE[placeOf(seen.record, seen.me, seen.host)]}`;

/** The holder's pid was checked in this namespace and is the very process that took the lock. */
export const refusedAlive = ({ dir, record }: Seen): string =>
  `Another klingrun (${who(record)}) is running in this output folder (${dir}). Wait for it to finish or stop it (\`kill ${record.pid}\`), or give this run another --output folder.`;

export const refusedLease = (seen: Seen, file: string): string =>
  `Another klingrun (${described(seen)}) is using this output folder (${seen.dir}): its lock ${file} was refreshed while this run watched it. ` +
  `${howToCheck(placeOf(seen.record, seen.me, seen.host), seen.record)} Wait for it to finish, or give this run another --output folder. ${OVERRIDE}`;

export const waiting = (seen: Seen, staleMs: number): string =>
  `${seen.dir} is locked by another klingrun (${described(seen)}); waiting up to ${seconds(staleMs)} to see whether it is alive.`;

export const refusedUnreadable = (dir: string, file: string, reason: string): string =>
  `This output folder (${dir}) is locked, but its lock ${file} cannot be read (${reason}). It may belong to a klingrun of another user, so this run does not take it over. ` +
  `To check, see who owns it (\`ls -l ${file}\`) and whether that user runs klingrun on this folder. ${OVERRIDE}`;

export const refusedOldFormat = (dir: string, file: string, text: string | undefined): string =>
  `This output folder (${dir}) has a lock file from an older klingrun (${text === undefined ? 'unreadable' : text.trim().slice(0, 120)}), and this version cannot tell whether that runner is alive. ` +
  `To check, look for a klingrun process using ${dir}. ${OVERRIDE}`;

const DEATH: Record<Death | 'stale', (record: LockRecord, staleMs: number) => string> = {
  gone: () => 'is no longer running',
  zombie: (record) => `has exited (pid ${record.pid} is a zombie its parent has not reaped)`,
  reused: (record) => `is no longer running (pid ${record.pid} now belongs to another process)`,
  stale: (_record, staleMs) => `did not refresh its lock for ${seconds(staleMs)}`,
};

export const tookOver = (seen: Seen, cause: Death | 'stale', staleMs: number): string =>
  `Took over ${seen.dir}: the runner that held it (${described(seen)}) ${DEATH[cause](seen.record, staleMs)}.`;

export const broke = (dir: string, holder: LockRecord | string): string =>
  `Broke the lock on ${dir} (--break-lock): it was held by ${typeof holder === 'string' ? `a lock that could not be read (${holder})` : `pid ${holder.pid} on host ${holder.host}, started ${holder.started_at}`}; that runner, if alive, stops submitting as soon as it notices.`;

export const lost = (dir: string, by: LockRecord | undefined): string =>
  `This run lost the lock on ${dir}: another klingrun took the folder over${by ? ` (${who(by)})` : ''}, after judging this run dead or with --break-lock. It stops before any further paid step; rerun the same command later to resume.`;

export const busy = (dir: string): string => `Could not lock ${dir}: other runners keep taking it. Make sure only one klingrun uses ${dir}, then rerun.`;

export const cannotUse = (path: string, error: unknown): string =>
  `Cannot use the lock ${path}: ${(error as Error).message}. Check that the output folder is writable, or choose another with --output.`;

const seconds = (ms: number): string => `${Math.round(ms / 100) / 10} s`;
