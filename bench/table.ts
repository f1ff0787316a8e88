// Bench: `klingrun plan table.yaml` of a CSV table with one row per job (quoted captions, local
// images, a name and two carried columns), as a whole process, for 10,000 and 100,000 rows.
// Targets from the scale issue: at 100,000 rows under 3 s and 300 MB peak RSS.
import { writeTableManifest } from './fixtures.js';
import type { BenchCase } from './index.js';
import { type CliInput, measureCli } from './plan.js';

export const tableCase: BenchCase = {
  name: 'plan-table',
  description: 'klingrun plan table.yaml: a CSV table of one row per job (whole process)',
  targets: { ms: 3_000, rssMb: 300 },
  sizes: [10_000, 100_000],
  prepare: async (dir, rows) => ({ dir, args: ['plan', writeTableManifest(dir, rows)], jobs: rows }) satisfies CliInput,
  run: async (input) => measureCli(input as CliInput),
};
