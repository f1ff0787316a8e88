// The real CLI as a child process (`node bin/klingrun.js …`), for tests that must kill it: its
// output is collected as it comes, a test can wait for a line, and a kill resolves only once the
// child is reaped (a zombie still answers `kill(pid, 0)`, and the next run would see a live lock).
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = fileURLToPath(new URL('../../bin/klingrun.js', import.meta.url));

export interface CliResult {
  /** Exit code; null when a signal ended the process. */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

export interface CliProcess {
  readonly pid: number;
  readonly child: ChildProcess;
  /** Resolves once the process has exited and been reaped, with everything it wrote. */
  readonly done: Promise<CliResult>;
  /** Output so far (stdout then stderr). */
  output(): string;
  /** Lines written so far on either stream, in arrival order. */
  lines(): readonly string[];
  /**
   * Resolves true when `test` holds for the output (checked on every chunk), false when the
   * process ended first or `timeoutMs` passed.
   */
  waitFor(test: (lines: readonly string[]) => boolean, timeoutMs?: number): Promise<boolean>;
  /** SIGKILL, then resolves with the result once the child is reaped. */
  kill(): Promise<CliResult>;
}

export interface SpawnOptions {
  /** Variables added to a cleaned environment (no COMETAPI_* or KLINGRUN_* from the caller's). */
  readonly env?: Readonly<Record<string, string>>;
  readonly cwd?: string;
}

/** Starts `klingrun <args>`; stdin is closed and stdout is a pipe, so the CLI sees no terminal. */
export function spawnCli(args: readonly string[], options: SpawnOptions = {}): CliProcess {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value !== undefined && !/^(COMETAPI_|KLINGRUN_)/.test(name)) env[name] = value;
  }
  Object.assign(env, options.env);
  const started = Date.now();
  const child = spawn(process.execPath, [BIN, ...args], { cwd: options.cwd ?? ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const lines: string[] = [];
  const partial = { stdout: '', stderr: '' };
  const watchers = new Set<() => void>();

  const collect = (stream: 'stdout' | 'stderr') => (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    if (stream === 'stdout') stdout += text;
    else stderr += text;
    const pieces = (partial[stream] + text).split('\n');
    partial[stream] = pieces.pop() ?? '';
    lines.push(...pieces);
    for (const watcher of watchers) watcher();
  };
  child.stdout?.on('data', collect('stdout'));
  child.stderr?.on('data', collect('stderr'));

  // 'close' fires after 'exit' and after both pipes are drained, i.e. with every byte collected.
  const done = new Promise<CliResult>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      for (const stream of ['stdout', 'stderr'] as const) if (partial[stream]) lines.push(partial[stream]);
      for (const watcher of watchers) watcher();
      resolve({ code, signal, stdout, stderr, ms: Date.now() - started });
    });
  });
  let exited = false;
  void done.then(
    () => (exited = true),
    () => (exited = true),
  );

  return {
    pid: child.pid ?? -1,
    child,
    done,
    output: () => stdout + stderr,
    lines: () => lines,
    waitFor(test, timeoutMs = 20_000) {
      return new Promise((resolve) => {
        let settled = false;
        const timer = setTimeout(() => finish(false), timeoutMs);
        const check = (): void => {
          if (settled) return;
          if (test(lines)) finish(true);
          else if (exited) finish(false);
        };
        function finish(value: boolean): void {
          settled = true;
          clearTimeout(timer);
          watchers.delete(check);
          resolve(value);
        }
        watchers.add(check);
        void done.finally(check);
        check();
      });
    },
    kill() {
      if (!exited) child.kill('SIGKILL');
      return done;
    },
  };
}

/** Runs `klingrun <args>` to its end. */
export function runCli(args: readonly string[], options: SpawnOptions = {}): Promise<CliResult> {
  return spawnCli(args, options).done;
}
