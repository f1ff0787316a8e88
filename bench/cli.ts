// The CLI measured as a user runs it: started as the README says (`npx klingrun …`, which runs
// node bin/klingrun.js), as a whole process, with its wall time, CPU time and peak RSS (the
// kernel's figures for the process, read as it exits by a preloaded module). Output goes to /dev/null.
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const BIN = fileURLToPath(new URL('../bin/klingrun.js', import.meta.url));
const FIGURES = fileURLToPath(new URL('./exit-figures.mjs', import.meta.url));

export interface ProcessFigures {
  readonly ms: number;
  /** User + system CPU time: on a busy machine, closer to what a quiet one's wall time would be. */
  readonly cpuMs: number;
  readonly rssMb: number;
}

/** Runs `klingrun <args>` in `cwd` to its end; throws with its stderr unless it exits 0. */
export function runCli(args: readonly string[], cwd: string, env: Readonly<Record<string, string>> = {}): ProcessFigures {
  const figures = join(cwd, `.figures-${process.pid}`);
  const start = performance.now();
  const child = spawnSync(process.execPath, ['--import', pathToFileURL(FIGURES).href, BIN, ...args], {
    cwd,
    env: { ...process.env, ...env, KLINGRUN_BENCH_FIGURES: figures },
    stdio: ['ignore', 'ignore', 'pipe'],
    maxBuffer: 64 << 20,
  });
  const ms = performance.now() - start;
  try {
    if (child.status !== 0) throw new Error(`klingrun ${args.join(' ')} exited ${child.status ?? child.signal}: ${child.stderr.toString().slice(-2_000)}`);
    const { cpuMs, rssKb } = JSON.parse(readFileSync(figures, 'utf8')) as { cpuMs: number; rssKb: number };
    return { ms, cpuMs, rssMb: rssKb / 1024 };
  } finally {
    rmSync(figures, { force: true });
  }
}
