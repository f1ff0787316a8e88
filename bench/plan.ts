// Bench: `klingrun plan bench.yaml --json > /dev/null` as a whole process, for 10,000 and 100,000
// jobs (100 and 1,000 local images × 100 matrix combinations, each image hashed once). Targets from
// the scale issue: at 100,000 jobs under 3 s and 300 MB peak RSS, growing at most 11× from 10,000.
import { runCli } from './cli.js';
import { writeMatrixManifest } from './fixtures.js';
import type { BenchCase } from './index.js';

export interface CliInput {
  readonly dir: string;
  readonly args: readonly string[];
  readonly jobs: number;
}

/** Runs the CLI once and reports it as the case's figures. */
export function measureCli({ dir, args, jobs }: CliInput) {
  const figures = runCli(args, dir);
  return { detail: `klingrun ${args.join(' ')}: ${jobs} jobs`, metrics: [], process: figures };
}

export const planCase: BenchCase = {
  name: 'plan-json',
  description: 'klingrun plan bench.yaml --json > /dev/null: local images × 100 matrix combinations (whole process)',
  targets: { ms: 3_000, rssMb: 300 },
  sizes: [10_000, 100_000],
  prepare: async (dir, jobs) => ({ dir, args: ['plan', writeMatrixManifest(dir, jobs), '--json'], jobs }) satisfies CliInput,
  run: async (input) => measureCli(input as CliInput),
};
