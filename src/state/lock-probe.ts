// Instant verdicts on a lock's holder, where they are certain: only a starter on the same boot of
// the same kernel and in the same pid namespace sees the holder's pid as the holder saw it. There,
// a missing pid, a zombie, or a process started at another moment means the holder is dead.
// Anywhere else (another host, boot or container, no /proc) the lock's lease decides.
import { readFileSync, readlinkSync } from 'node:fs';
import type { LockRecord } from './lock-record.js';
import { errnoCode } from '../errors.js';

export interface ProcessIdentity {
  /** /proc/sys/kernel/random/boot_id: new at every boot. */
  readonly bootId: string;
  /** The target of /proc/self/ns/pid, e.g. `pid:[4026531836]`. */
  readonly pidNamespace: string;
  /** Field 22 of /proc/self/stat: when the process started, in clock ticks after boot. */
  readonly startTicks: string;
}

export interface ProcessProbe {
  /** This process, or undefined when /proc cannot tell (not Linux, or a /proc mounted for another pid namespace). */
  self(): ProcessIdentity | undefined;
  /** The process with this pid in our namespace; undefined when there is none. Throws when /proc cannot tell. */
  process(pid: number): { readonly zombie: boolean; readonly startTicks: string } | undefined;
}

/** `/proc/<pid>/stat`: the command name (field 2) may hold spaces and parentheses, so fields count from its last `)`. */
function parseStat(text: string): { pid: number; state: string; startTicks: string } | undefined {
  const close = text.lastIndexOf(')');
  const fields = text.slice(close + 2).split(' ');
  const [state, startTicks] = [fields[0], fields[22 - 3]]; // fields[0] is field 3
  if (close < 0 || state === undefined || startTicks === undefined) return undefined;
  return { pid: Number.parseInt(text, 10), state, startTicks };
}

export const procProbe: ProcessProbe = {
  self() {
    try {
      const stat = parseStat(readFileSync('/proc/self/stat', 'utf8'));
      // In `unshare --pid` without a /proc of its own, /proc shows the parent namespace's pids.
      if (!stat || stat.pid !== process.pid) return undefined;
      return {
        bootId: readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim(),
        pidNamespace: readlinkSync('/proc/self/ns/pid'),
        startTicks: stat.startTicks,
      };
    } catch {
      return undefined;
    }
  },
  process(pid) {
    let text;
    try {
      text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return undefined;
      throw error;
    }
    const stat = parseStat(text);
    if (!stat) throw new Error(`unexpected /proc/${pid}/stat`);
    // Z: exited, not yet reaped by its parent (never, under an init that does not reap); X: being removed.
    return { zombie: stat.state === 'Z' || stat.state === 'X', startTicks: stat.startTicks };
  },
};

export type Death = 'gone' | 'zombie' | 'reused';
/** undefined: this starter cannot tell; the lease must decide. */
export type Verdict = { readonly alive: true } | { readonly alive: false; readonly death: Death } | undefined;

/** Whether the runner that wrote `record` is running, when that can be known without waiting. */
export function checkHolder(record: LockRecord, me: ProcessIdentity | undefined, probe: ProcessProbe): Verdict {
  if (!me || !sameNamespace(record, me)) return undefined;
  let found;
  try {
    found = probe.process(record.pid);
  } catch {
    return undefined;
  }
  if (!found) return { alive: false, death: 'gone' };
  if (found.zombie) return { alive: false, death: 'zombie' };
  if (record.start_ticks === undefined) return undefined; // a process has that pid, but is it the holder?
  return found.startTicks === record.start_ticks ? { alive: true } : { alive: false, death: 'reused' };
}

export const sameNamespace = (record: LockRecord, me: ProcessIdentity | undefined): boolean =>
  me !== undefined && record.boot_id === me.bootId && record.pid_ns === me.pidNamespace;
