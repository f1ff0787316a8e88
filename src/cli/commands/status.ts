// `klingrun status <manifest|output-folder>`: where a batch stands, from its journal and the clips
// on disk alone (no network call), from any folder.
import { relative } from 'node:path';
import { loadOutput } from '../../report/load-output.js';
import { positionals, stringOption } from '../args.js';
import { EXIT } from '../exit-codes.js';
import type { Command } from '../io.js';
import { cliLogger } from '../logger.js';
import { formatReportSummary } from '../report-summary.js';

const USAGE = 'klingrun status <manifest|output-folder> [--output DIR]';

export const statusCommand: Command = {
  name: 'status',
  summary: 'Summarize a batch from its journal and the clips on disk, without any network call.',
  usage: USAGE,
  options: { output: { type: 'string' }, prices: { type: 'string' }, models: { type: 'string' } },
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
    io.stdout(`${report.manifest.name} (${where}/)\n\n${formatReportSummary(report)}\n`);
    return EXIT.ok;
  },
};
