// `klingrun status <manifest|output-folder>`: where a batch stands, from its journal and the clips
// on disk alone (no network call), from any folder. Given a folder of run folders (an output root),
// the list `klingrun runs` prints.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { loadOutput } from '../../report/load-output.js';
import { type LockStatus, lockHolder } from '../../state/lock.js';
import { JOURNAL_FILE, REPORT_FILE } from '../../state/output-folder.js';
import { numberOption, positionals, stringOption } from '../args.js';
import { EXIT } from '../exit-codes.js';
import { defineCommand } from '../io.js';
import { MODELS_OPTION, OUTPUT_FOLDER_OPTION, PRICES_OPTION, UNIT_PRICE_OPTION } from '../common-options.js';
import { cliLogger } from '../logger.js';
import { formatReportSummary } from '../report-summary.js';
import { printRuns } from './runs.js';

const USAGE = 'klingrun status <manifest|output-folder> [options]';

export const statusCommand = defineCommand({
  usage: USAGE,
  options: { output: OUTPUT_FOLDER_OPTION, prices: PRICES_OPTION, models: MODELS_OPTION, 'unit-price': UNIT_PRICE_OPTION },
  examples: [
    { command: 'klingrun status jobs/example.yaml', description: "where the example batch stands, from its journal (from any folder)" },
    { command: 'klingrun status output/example', description: 'the same, given the output folder' },
    { command: 'klingrun status output', description: 'every run in output/, as `klingrun runs output` lists them' },
  ],
  async run(args, io) {
    const [target] = positionals(args, ['manifest|output-folder'], USAGE) as [string];
    const root = resolve(io.cwd, target);
    if (stringOption(args, 'output') === undefined && holdsRuns(root)) return printRuns(root, io);
    const loaded = await loadOutput(target, {
      cwd: io.cwd,
      outputDir: stringOption(args, 'output'),
      logger: cliLogger(io.stderr, false),
      plan: { modelsFile: stringOption(args, 'models'), pricesFile: stringOption(args, 'prices') },
      unitPrice: numberOption(args, 'unit-price'),
      notRunYet: 'report',
      keepReproduce: false,
    });
    const report = loaded.stream.summary;
    const where = relative(io.cwd, loaded.dir) || '.';
    if (!loaded.hasJournal) {
      io.stdout(`${report.manifest.name}: nothing has run yet (no journal in ${where}/). ${report.totals.jobs} job(s) planned.\n`);
      return EXIT.ok;
    }
    const held = lockLine(loaded.dir);
    io.stdout(`${report.manifest.name} (${where}/)\n${held ? `${held}\n` : ''}\n${formatReportSummary(loaded.stream, io.columns)}\n`);
    return EXIT.ok;
  },
});

/** A folder that is not a run itself but holds run folders (`status output/`): a list of them. */
function holdsRuns(dir: string): boolean {
  if (!existsSync(dir) || !statSync(dir).isDirectory() || existsSync(join(dir, JOURNAL_FILE)) || existsSync(join(dir, REPORT_FILE))) return false;
  return readdirSync(dir, { withFileTypes: true }).some((entry) => entry.isDirectory() && existsSync(join(dir, entry.name, JOURNAL_FILE)));
}

/** Whether a runner holds the folder now, so a summary that is still moving is not read as final. */
function lockLine(dir: string): string | undefined {
  let lock: LockStatus;
  try {
    lock = lockHolder(dir);
  } catch {
    return undefined; // a lock folder we cannot read: the next run says why
  }
  if (lock.state === 'free') return undefined;
  if (lock.state === 'unreadable') return `The folder's lock (${lock.file}) cannot be read (${lock.reason}); the next run will say what to do.`;
  const { pid, host, started_at } = lock.holder;
  const who = `pid ${pid} on ${host}, started ${started_at}`;
  if (lock.running === false) return `The runner that last held this folder (${who}) is no longer running: the next run takes over.`;
  if (lock.running === true) return `A runner is working in this folder now (${who}): these numbers are still moving.`;
  return `A runner on another machine or container may be working in this folder (${who}; its lease was last refreshed ${lock.refreshedAt}).`;
}
