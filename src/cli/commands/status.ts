// `klingrun status <manifest>`: where a batch stands, from its journal alone (no network call).
import { join, relative } from 'node:path';
import { loadPlan } from '../../plan/index.js';
import { buildReport } from '../../report/build.js';
import { readJournal } from '../../state/journal.js';
import { VERSION } from '../../version.js';
import { positionals, stringOption } from '../args.js';
import { EXIT } from '../exit-codes.js';
import { defineCommand } from '../io.js';
import { MODELS_OPTION, OUTPUT_FOLDER_OPTION, PRICES_OPTION } from '../common-options.js';
import { JOURNAL_FILE, outputDirFor } from '../output-folder.js';
import { formatReportSummary } from '../report-summary.js';

const USAGE = 'klingrun status <manifest> [options]';

export const statusCommand = defineCommand({
  usage: USAGE,
  options: { output: OUTPUT_FOLDER_OPTION, prices: PRICES_OPTION, models: MODELS_OPTION },
  examples: [
    { command: 'klingrun status jobs/example.yaml', description: 'where the example batch stands, from output/example/state.jsonl' },
    { command: 'klingrun status jobs/dataset.yaml --output out/shard-2', description: 'a batch run with --output' },
  ],
  async run(args, io) {
    const [manifestPath] = positionals(args, ['manifest'], USAGE) as [string];
    const loaded = await loadPlan(manifestPath, { cwd: io.cwd, modelsFile: stringOption(args, 'models'), pricesFile: stringOption(args, 'prices') });
    const outputDir = outputDirFor(io, loaded.plan.name, stringOption(args, 'output'));
    const journal = readJournal(join(outputDir, JOURNAL_FILE), { name: loaded.plan.name });
    const where = relative(io.cwd, outputDir) || '.';
    if (journal.events.length === 0) {
      io.stdout(`${loaded.plan.name}: nothing has run yet (no journal in ${where}/). ${loaded.plan.jobs.length} job(s) planned.\n`);
      return EXIT.ok;
    }
    const report = buildReport({ plan: loaded.plan, events: journal.events, manifest: { path: manifestPath, sha256: loaded.manifestSha256 }, toolVersion: VERSION });
    io.stdout(`${loaded.plan.name} (${where}/)\n\n${formatReportSummary(report)}\n`);
    return EXIT.ok;
  },
});
