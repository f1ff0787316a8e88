// Racing starters for the lock, shared by test/lock-race.test.ts and the soak: long-lived worker
// processes (some in their own pid namespace, through `unshare`) race for one folder on command,
// so a trial costs no process start-up. A trial may first put a stale lock in place. The winner
// appends `+` and `-` lines to a shared log while it holds the lock: any overlap means two holders.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { procProbe } from '../../src/state/lock-probe.js';
import { scan } from '../../src/state/lock-record.js';
import { LOCK_DIR, nodeLockFs } from '../../src/state/lock.js';
import { ROOT } from './cli.js';

const WORKER = fileURLToPath(new URL('../fixtures/lock/worker.ts', import.meta.url));
export const UNSHARE = ['unshare', '--pid', '--fork', '--mount-proc', '--kill-child'];

/**
 * test/fixtures/lock/worker.ts and the lock's sources bundled into one plain script in `dir`:
 * starting it costs a third of `node --import tsx` (which compiles on every start), so eight
 * workers start in reasonable time on a loaded machine. (esbuild is what tsx itself runs on.)
 */
export async function bundleWorker(dir: string): Promise<string> {
  const outfile = join(dir, 'lock-worker.mjs');
  await build({ entryPoints: [WORKER], outfile, bundle: true, platform: 'node', format: 'esm', target: 'node20', logLevel: 'error' });
  return outfile;
}

/** Why starters cannot run in their own pid namespace here, or undefined when they can. */
export function unshareUnusable(): string | undefined {
  const probe = spawnSync(UNSHARE[0]!, [...UNSHARE.slice(1), 'true'], { encoding: 'utf8' });
  if (probe.error) return `unshare is not available (${probe.error.message})`;
  return probe.status === 0 ? undefined : `unshare --pid fails here (needs root or user namespaces): ${probe.stderr.trim()}`;
}

/**
 * What is in the folder when the starters race: the previous winner's released lock; a lock naming
 * pid 1 with another start time (judged dead at once in this pid namespace, watched elsewhere);
 * or one from another boot that nobody refreshes (everyone watches it for the stale window).
 */
export type StaleKind = 'released' | 'reused-pid' | 'stale-lease';

export interface Message {
  readonly event?: string;
  readonly trial?: number;
  readonly worker?: string;
  readonly result?: string;
  readonly message?: string;
}

export interface TrialResult {
  readonly trial: number;
  readonly kind: StaleKind;
  readonly winners: number;
  /** result → how many starters got it ('won', 'state_locked', …). */
  readonly outcomes: Readonly<Record<string, number>>;
  /** Messages of starters that neither won nor were refused. */
  readonly oddities: readonly string[];
  readonly ms: number;
}

export interface Inbox {
  /**
   * The first message (one JSON line on stdout) that passes `test`, waiting for it if need be;
   * rejects when the process exits first or `timeoutMs` passes (by default, only the test's own timeout bounds the wait).
   */
  next(test: (message: Message) => boolean, timeoutMs?: number): Promise<Message>;
}

/** Collects a lock worker's messages. */
export function inboxOf(child: ChildProcess, name: string): Inbox {
  const inbox: Message[] = [];
  const waiters = new Set<() => void>();
  const wake = (): void => {
    for (const waiter of waiters) waiter();
  };
  createInterface({ input: child.stdout! }).on('line', (line) => {
    inbox.push(JSON.parse(line) as Message);
    wake();
  });
  child.once('exit', wake);
  return {
    next: (test, timeoutMs) =>
      new Promise((resolve, reject) => {
        const finish = (settle: () => void): void => {
          clearTimeout(timer);
          waiters.delete(check);
          settle();
        };
        const timer = timeoutMs === undefined ? undefined : setTimeout(() => finish(() => reject(new Error(`${name} did not answer within ${timeoutMs} ms`))), timeoutMs);
        function check(): void {
          const index = inbox.findIndex(test);
          if (index >= 0) finish(() => resolve(inbox.splice(index, 1)[0]!));
          else if (child.exitCode !== null || child.signalCode !== null) finish(() => reject(new Error(`${name} exited without answering`)));
        }
        waiters.add(check);
        check();
      }),
  };
}

interface Worker extends Inbox {
  readonly id: string;
  readonly child: ChildProcess;
}

function startWorker(script: string, id: string, namespaced: boolean): Worker {
  const command = [...(namespaced ? UNSHARE : []), process.execPath, script, 'race', id];
  const child = spawn(command[0]!, command.slice(1), { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] });
  return { id, child, ...inboxOf(child, `worker ${id}`) };
}

export interface RaceOptions {
  readonly dir: string;
  readonly workers: number;
  /** How many of them run in their own pid namespace. */
  readonly namespaced: number;
  readonly staleMs: number;
  readonly refreshMs: number;
}

export class RacePool {
  readonly #workers: Worker[];
  readonly #options: RaceOptions;
  readonly #log: string;

  private constructor(workers: Worker[], options: RaceOptions) {
    this.#workers = workers;
    this.#options = options;
    this.#log = join(options.dir, 'holders.log');
    writeFileSync(this.#log, '');
  }

  /** Starts the workers; how long they take to start depends on the machine's load, so only the caller's timeout bounds it. */
  static async start(options: RaceOptions): Promise<RacePool> {
    const script = await bundleWorker(options.dir);
    const workers = Array.from({ length: options.workers }, (_, i) => startWorker(script, `w${i}${i < options.namespaced ? 'ns' : ''}`, i < options.namespaced));
    const pool = new RacePool(workers, options);
    try {
      await Promise.all(workers.map((worker) => worker.next((m) => m.event === 'ready')));
    } catch (error) {
      pool.kill();
      throw error;
    }
    return pool;
  }

  /** Ends every worker at once (a test that failed or timed out). */
  kill(): void {
    for (const worker of this.#workers) worker.child.kill('SIGKILL');
  }

  /** All workers race for the folder at once; the winner releases it once every starter has answered. */
  async trial(trial: number, kind: StaleKind): Promise<TrialResult> {
    const { staleMs, refreshMs } = this.#options;
    const folder = join(this.#options.dir, 'folder');
    placeStale(folder, kind);
    const started = Date.now();
    const answerMs = staleMs * 3 + 30_000;
    for (const worker of this.#workers) worker.child.stdin!.write(`${JSON.stringify({ op: 'race', trial, dir: folder, log: this.#log, staleMs, refreshMs })}\n`);
    const answers = await Promise.all(this.#workers.map((worker) => worker.next((m) => m.trial === trial, answerMs)));
    const ms = Date.now() - started;
    const outcomes: Record<string, number> = {};
    for (const answer of answers) outcomes[answer.result ?? '?'] = (outcomes[answer.result ?? '?'] ?? 0) + 1;
    const oddities = answers.filter((a) => a.result !== 'won' && a.result !== 'state_locked').map((a) => `${a.worker}: ${a.result} ${a.message ?? ''}`);
    const winners = this.#workers.filter((_, i) => answers[i]?.result === 'won');
    for (const winner of winners) {
      winner.child.stdin!.write(`${JSON.stringify({ op: 'release', trial, log: this.#log })}\n`);
      const released = await winner.next((m) => m.trial === trial, answerMs);
      if (released.result !== 'released') oddities.push(`${winner.id} at release: ${released.result} ${released.message ?? ''}`);
    }
    return { trial, kind, winners: winners.length, outcomes, oddities, ms };
  }

  /** Overlaps in the holders' log: a `+` while another starter holds the folder, or a `-` by a non-holder. */
  logProblems(): string[] {
    const problems: string[] = [];
    let holder: string | undefined;
    for (const line of readFileSync(this.#log, 'utf8').split('\n').filter(Boolean)) {
      const [sign, trial, id] = line.split(' ');
      const who = `${id} (trial ${trial})`;
      if (sign === '+') {
        if (holder !== undefined) problems.push(`${who} took the folder while ${holder} held it`);
        holder = who;
      } else {
        if (holder !== who) problems.push(`${who} released a folder held by ${holder ?? 'nobody'}`);
        holder = undefined;
      }
    }
    return problems;
  }

  async close(): Promise<void> {
    await Promise.all(
      this.#workers.map(
        (worker) =>
          new Promise<void>((resolve) => {
            if (worker.child.exitCode !== null || worker.child.signalCode !== null) return resolve();
            worker.child.once('exit', () => resolve());
            worker.child.stdin!.end();
          }),
      ),
    );
  }
}

/** Writes the next generation as a runner that is not coming back would have left it. */
function placeStale(folder: string, kind: StaleKind): void {
  if (kind === 'released') return;
  const lockDir = join(folder, LOCK_DIR);
  nodeLockFs.mkdir(lockDir);
  const me = procProbe.self();
  const init = me && procProbe.process(1);
  const record =
    kind === 'reused-pid'
      ? { pid: 1, host: 'box', started_at: new Date().toISOString(), ...(me && init && { boot_id: me.bootId, pid_ns: me.pidNamespace, start_ticks: `${init.startTicks}0` }) }
      : { pid: 4242, host: 'elsewhere', started_at: new Date().toISOString(), boot_id: 'another-boot' };
  writeFileSync(join(lockDir, `g${scan(nodeLockFs, lockDir).highest + 1}`), JSON.stringify(record));
}
