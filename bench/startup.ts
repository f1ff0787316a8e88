// Bench: start-up of the built CLI, started as a user starts it (`node bin/klingrun.js …`), against
// `node -e ''` on the same machine. Target from the package issue: `--version` and `validate
// jobs/example.yaml` within 3× of bare node. The runs are interleaved, so a machine that gets
// busier half-way slows all three alike; the ratios use medians, and the minimums are printed too.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { buildJs } from '../scripts/build.js';
import type { BenchCase, BenchResult } from './index.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = fileURLToPath(new URL('../bin/klingrun.js', import.meta.url));
const RUNS = 20;

interface Timing {
  readonly median: number;
  readonly min: number;
}

const COMMANDS = {
  node: ['-e', ''],
  version: [BIN, '--version'],
  validate: [BIN, 'validate', 'jobs/example.yaml'],
} as const;

/** Wall-clock ms of each command, `runs` times each, interleaved. */
export function measureStartup(runs: number): Record<keyof typeof COMMANDS, Timing> {
  const names = Object.keys(COMMANDS) as (keyof typeof COMMANDS)[];
  const samples = new Map(names.map((name) => [name, [] as number[]]));
  for (let i = 0; i < runs; i++) {
    for (const name of names) {
      const start = performance.now();
      const child = spawnSync(process.execPath, COMMANDS[name], { cwd: ROOT, stdio: 'ignore' });
      samples.get(name)?.push(performance.now() - start);
      if (child.status !== 0) throw new Error(`node ${COMMANDS[name].join(' ')} exited ${child.status}`);
    }
  }
  const timing = (values: number[]): Timing => {
    const sorted = [...values].sort((a, b) => a - b);
    return { median: sorted[Math.floor(sorted.length / 2)] ?? NaN, min: sorted[0] ?? NaN };
  };
  return Object.fromEntries(names.map((name) => [name, timing(samples.get(name) ?? [])])) as Record<keyof typeof COMMANDS, Timing>;
}

export function startupResult(runs: number): BenchResult {
  const t = measureStartup(runs);
  const ms = (x: Timing) => `${x.median.toFixed(0)} ms (min ${x.min.toFixed(0)})`;
  return {
    detail: `node -e '' ${ms(t.node)}, --version ${ms(t.version)}, validate ${ms(t.validate)}; medians of ${runs}`,
    metrics: [
      { name: '--version ÷ node -e \'\'', value: t.version.median / t.node.median, target: 3 },
      { name: 'validate example ÷ node -e \'\'', value: t.validate.median / t.node.median, target: 3 },
    ],
  };
}

export const startupCase: BenchCase = {
  name: 'startup',
  description: "start-up of the built CLI (node bin/klingrun.js) against node -e ''",
  targets: {},
  async prepare() {
    await buildJs();
    return RUNS;
  },
  async run(input) {
    return startupResult(input as number);
  },
};
