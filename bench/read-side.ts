// Bench: the read side of a finished 100,000-job batch, each command as a whole process, as a user
// starts it: `klingrun status <output-folder>`, `klingrun report <output-folder>` and `klingrun
// export` (JSON Lines, CSV, a Hugging Face dataset). Each reads the journal, the plan and the
// folder's report.json (~150 MB at 100,000 jobs) a job at a time; targets from the scale issue:
// under 5 s and 300 MB at 100,000 jobs.
import { runCli } from './cli.js';
import type { BenchCase } from './index.js';
import { type CliInput, measureCli } from './plan.js';
import { SCALE_SIZES, prepareStatus } from './scale.js';

/** Untimed: the finished run of prepareStatus and the report.json its run would have written. */
async function prepareFolder(dir: string, jobs: number, args: (out: string) => string[]): Promise<CliInput> {
  const input = await prepareStatus(dir, jobs);
  runCli(['report', input.args[1] as string, '--output', 'out'], dir);
  return { dir, args: args('out'), jobs };
}

const readSideCase = (name: string, description: string, args: (out: string) => string[]): BenchCase => ({
  name,
  description: `${description} (whole process)`,
  targets: { ms: 5_000, rssMb: 300 },
  sizes: SCALE_SIZES,
  prepare: (dir, jobs) => prepareFolder(dir, jobs, args),
  run: async (input) => measureCli(input as CliInput),
});

export const readSideCases: readonly BenchCase[] = [
  readSideCase('status-folder', 'klingrun status <output-folder> of a finished run with its report.json', (out) => ['status', out]),
  readSideCase('report', 'klingrun report <output-folder>: rebuild report.json from plan + journal', (out) => ['report', out]),
  readSideCase('export-jsonl', 'klingrun export <output-folder> > rows.jsonl', (out) => ['export', out]),
  readSideCase('export-csv', 'klingrun export <output-folder> --format csv > rows.csv', (out) => ['export', out, '--format', 'csv']),
  readSideCase('export-hf', 'klingrun export <output-folder> --format hf --copy-to DIR: a Hugging Face dataset (clips hard-linked)', (out) => ['export', out, '--format', 'hf', '--copy-to', 'hf-dataset']),
];
