// `klingrun status <manifest|output-folder>`: where a batch stands, from its journal and the clips
// on disk alone (no network call), from any folder.
import { relative } from 'node:path';
import { loadOutput } from '../../report/load-output.js';
import { positionals, stringOption } from '../args.js';
import { EXIT } from '../exit-codes.js';
import { defineCommand } from '../io.js';
import { MODELS_OPTION, OUTPUT_FOLDER_OPTION, PRICES_OPTION } from '../common-options.js';
import { cliLogger } from '../logger.js';
import { formatReportSummary } from '../report-summary.js';

const USAGE = 'klingrun status <manifest|output-folder> [options]';

export const statusCommand = defineCommand({
  usage: USAGE,
  options: { output: OUTPUT_FOLDER_OPTION, prices: PRICES_OPTION, models: MODELS_OPTION },
  examples: [
    { command: 'klingrun status jobs/example.yaml', description: "where the example batch stands, from its journal (from any folder)" },
    { command: 'klingrun status output/example', description: 'the same, given the output folder' },
    { command: 'klingrun status jobs/dataset.yaml --output out/shard-2', description: 'a batch run with --output' },
  ],
  async run(args, io) {
    const [target] = positionals(args, ['manifest|output-folder'], USAGE) as [string];
    const loaded = await loadOutput(target, {
      cwd: io.cwd,
      outputDir: stringOption(args, 'output'),
      logger: cliLogger(io.stderr, false),
      plan: { modelsFile: stringOption(args, 'models'), pricesFile: stringOption(args, 'prices') },
      notRunYet: 'report',
    });
    const { report } = loaded;
    const where = relative(io.cwd, loaded.dir) || '.';
    if (!loaded.hasJournal) {
      io.stdout(`${report.manifest.name}: nothing has run yet (no journal in ${where}/). ${report.totals.jobs} job(s) planned.\n`);
      return EXIT.ok;
    }
    io.stdout(`${report.manifest.name} (${where}/)\n\n${formatReportSummary(report, io.columns)}\n`);
    return EXIT.ok;
  },
});
