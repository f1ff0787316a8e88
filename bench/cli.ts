// The CLI measured as a user runs it: started as the README says (`npx klingrun …`, which runs
// node bin/klingrun.js), as a whole process, with its wall time, CPU time and peak RSS (from GNU
// time, which reads them from the kernel when the process ends). Output goes to /dev/null.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../bin/klingrun.js', import.meta.url));
const TIME = '/usr/bin/time';

export interface ProcessFigures {
  readonly ms: number;
  /** User + system CPU time: on a busy machine, closer to what a quiet one's wall time would be. */
  readonly cpuMs: number;
  readonly rssMb: number;
}

/** Runs `klingrun <args>` in `cwd` to its end; throws with its stderr unless it exits 0. */
export function runCli(args: readonly string[], cwd: string, env: Readonly<Record<string, string>> = {}): ProcessFigures {
  if (!existsSync(TIME)) throw new Error(`the bench measures the CLI with GNU time (${TIME}): apt-get install time`);
  const figures = join(cwd, `.time-${process.pid}`);
  const start = performance.now();
  const child = spawnSync(TIME, ['-f', '%U %S %M', '-o', figures, process.execPath, BIN, ...args], {
    cwd,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
    maxBuffer: 64 << 20,
  });
  const ms = performance.now() - start;
  try {
    if (child.status !== 0) throw new Error(`klingrun ${args.join(' ')} exited ${child.status ?? child.signal}: ${child.stderr.toString().slice(-2_000)}`);
    const [user = NaN, system = NaN, rssKb = NaN] = readFileSync(figures, 'utf8').trim().split('\n').at(-1)?.split(' ').map(Number) ?? [];
    return { ms, cpuMs: (user + system) * 1000, rssMb: rssKb / 1024 };
  } finally {
    rmSync(figures, { force: true });
  }
}
