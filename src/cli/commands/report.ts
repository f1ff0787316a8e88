// `klingrun report`: rebuild report.json (and with --html the comparison gallery) of a run from
// its plan and journal, or merge the output folders of a sharded batch into one.
import { relative, resolve } from 'node:path';
import { UsageError } from '../../errors.js';
import type { StreamedReport } from '../../report/build.js';
import { GALLERY_FILE, writeGallery } from '../../report/gallery.js';
import { loadOutput } from '../../report/load-output.js';
import { JOURNAL_FILE, REPORT_FILE } from '../../state/output-folder.js';
import { mergeOutputs, writeMerged } from '../../report/merge.js';
import type { Report } from '../../report/schema.js';
import { writeReportJson } from '../../report/stream.js';
import { booleanOption, numberOption, stringOption } from '../args.js';
import { EXIT } from '../exit-codes.js';
import { type CliIO, type CommandArgs, defineCommand } from '../io.js';
import { MODELS_OPTION, PRICES_OPTION, UNIT_PRICE_OPTION } from '../common-options.js';
import { cliLogger } from '../logger.js';
import { formatReportSummary } from '../report-summary.js';

const USAGE = 'klingrun report <manifest|output-folder> [options] | klingrun report --merge <folder>… --output DIR';

const OPTIONS = {
  html: { type: 'boolean', description: 'also write gallery.html, the side-by-side comparison page' },
  output: { type: 'string', value: 'DIR', description: "the run's output folder when it is not the default; with --merge, where the merged folder goes", defaultText: "output/<name>/ of the manifest's project" },
  merge: { type: 'boolean', description: 'merge the output folders given as arguments (the shards of one batch) into --output' },
  prices: PRICES_OPTION,
  models: MODELS_OPTION,
  'unit-price': UNIT_PRICE_OPTION,
} as const;

function done(io: CliIO, report: Report | StreamedReport, dir: string, files: readonly string[]): number {
  const where = `${relative(io.cwd, dir) || '.'}/`;
  const what = files.length ? `Wrote ${files.join(', ')} in ${where}` : `Nothing written in ${where}: add --html to write the gallery.`;
  io.stdout(`${formatReportSummary(report, io.columns)}\n${what}\n`);
  return EXIT.ok;
}

async function merge(args: CommandArgs<typeof OPTIONS>, io: CliIO): Promise<number> {
  const output = stringOption(args, 'output');
  if (args.positionals.length === 0 || output === undefined) throw new UsageError(`--merge needs the output folders to merge and --output DIR for the result. Usage: ${USAGE}`);
  const dest = resolve(io.cwd, output);
  const logger = cliLogger(io.stderr, false);
  const sources = await Promise.all(args.positionals.map((folder) => loadOutput(folder, { cwd: io.cwd, logger })));
  const merged = mergeOutputs(sources, dest, numberOption(args, 'unit-price'));
  for (const warning of merged.warnings) logger.warn(warning);
  writeMerged(merged, sources, dest);
  writeGallery(dest, merged.report);
  return done(io, merged.report, dest, [REPORT_FILE, GALLERY_FILE, `${merged.videos.length} video(s)`]);
}

export const reportCommand = defineCommand({
  usage: USAGE,
  options: OPTIONS,
  examples: [
    { command: 'klingrun report output/example --html', description: 'rebuild report.json and the gallery of a finished or partial run' },
    { command: 'klingrun report --merge out/shard-1 out/shard-2 --output out/merged', description: 'join the output folders of a sharded batch' },
  ],
  async run(args, io) {
    if (booleanOption(args, 'merge')) return merge(args, io);
    if (args.positionals.length !== 1) throw new UsageError(`Expected one manifest or output folder, got ${args.positionals.length} argument(s). Usage: ${USAGE}`);
    const flag = stringOption(args, 'output');
    const loaded = await loadOutput(args.positionals[0] as string, {
      cwd: io.cwd,
      outputDir: flag,
      logger: cliLogger(io.stderr, false),
      plan: { modelsFile: stringOption(args, 'models'), pricesFile: stringOption(args, 'prices') },
      unitPrice: numberOption(args, 'unit-price'),
    });
    const files: string[] = [];
    if (loaded.rebuilt) {
      writeReportJson(loaded.dir, loaded.stream);
      files.push(REPORT_FILE);
    } else {
      io.stderr(`note: ${REPORT_FILE} is used as written: the manifest it names is gone or changed (or there is no ${JOURNAL_FILE}), so it cannot be rebuilt.\n`);
    }
    if (booleanOption(args, 'html')) {
      writeGallery(loaded.dir, loaded.stream);
      files.push(GALLERY_FILE);
    }
    return done(io, loaded.stream, loaded.dir, files);
  },
});
