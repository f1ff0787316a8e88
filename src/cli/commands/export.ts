// `klingrun export`: one row per clip (JSON Lines or CSV) for a training pipeline or a dataset
// loader, paths relative to the output folder (absolute with --absolute-paths); `--copy-to DIR`
// lays the clips out flat, their source images under images/, and the metadata file beside them.
import { relative, resolve } from 'node:path';
import { UsageError } from '../../errors.js';
import { withClipHeaders } from '../../report/clip-headers.js';
import { IMAGES_FOLDER, writeDatasetFolder } from '../../report/dataset-folder.js';
import { type CsvOptions, EXPORT_FORMATS, type ExportFormat, exportRows, formatRows, outputPaths } from '../../report/export.js';
import { loadOutput } from '../../report/load-output.js';
import { REPORT_STATUSES, type ReportStatus } from '../../report/schema.js';
import { writeFileAtomic } from '../../report/write.js';
import { booleanOption, positionals, stringOption } from '../args.js';
import { EXIT } from '../exit-codes.js';
import { defineCommand } from '../io.js';
import { MODELS_OPTION, OUTPUT_FOLDER_OPTION, PRICES_OPTION } from '../common-options.js';
import { cliLogger } from '../logger.js';

const USAGE = 'klingrun export <manifest|output-folder> [options]';

function formatOf(text: string | undefined): ExportFormat {
  if (text === undefined) return 'jsonl';
  if ((EXPORT_FORMATS as readonly string[]).includes(text)) return text as ExportFormat;
  throw new UsageError(`Expected \`--format\` to be one of ${EXPORT_FORMATS.join(', ')}, got \`${text}\`.`);
}

function statusesOf(text: string | undefined): ReadonlySet<ReportStatus> | undefined {
  if (text === undefined) return undefined;
  const names = text.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = names.find((s) => !(REPORT_STATUSES as readonly string[]).includes(s));
  if (bad !== undefined || names.length === 0) {
    throw new UsageError(`Expected \`--status\` to be one or more of ${REPORT_STATUSES.join(', ')} (comma-separated), got \`${text}\`.`);
  }
  return new Set(names as ReportStatus[]);
}

/** `--csv-raw` changes CSV only: with JSON Lines (always exact) it is a mistake worth saying. */
function csvOptionsOf(raw: boolean, format: ExportFormat): CsvOptions {
  if (raw && format !== 'csv') throw new UsageError('`--csv-raw` applies to `--format csv` only: JSON Lines always keeps every value exactly. Drop `--csv-raw`, or add `--format csv`.');
  return { raw };
}

export const exportCommand = defineCommand({
  usage: USAGE,
  options: {
    format: { type: 'string', value: EXPORT_FORMATS.join('|'), description: 'JSON Lines or CSV (RFC 4180)', defaultText: 'jsonl' },
    status: { type: 'string', value: 'STATUS[,…]', description: 'only jobs in these states, e.g. succeeded or failed,timed_out', defaultText: 'every job' },
    out: { type: 'string', value: 'FILE', description: 'write the rows to FILE instead of stdout' },
    'copy-to': { type: 'string', value: 'DIR', description: 'copy the clips flat into DIR, their source images into DIR/images/, and metadata.jsonl beside them (a Hugging Face videofolder)' },
    'absolute-paths': { type: 'boolean', description: 'give absolute paths in the rows instead of paths relative to the output folder' },
    'csv-raw': { type: 'boolean', description: "CSV: write text cells exactly (by default one starting with = + - @, a tab or a carriage return gets a leading ' so a spreadsheet does not run it as a formula)" },
    output: OUTPUT_FOLDER_OPTION,
    prices: PRICES_OPTION,
    models: MODELS_OPTION,
  },
  examples: [
    { command: 'klingrun export output/example --format csv --status succeeded > clips.csv', description: 'one CSV row per finished clip' },
    { command: 'klingrun export output/example --copy-to dataset/', description: 'a dataset folder: the clips and metadata.jsonl' },
  ],
  async run(args, io) {
    const [target] = positionals(args, ['manifest|output-folder'], USAGE) as [string];
    const format = formatOf(stringOption(args, 'format'));
    const csv = csvOptionsOf(booleanOption(args, 'csv-raw'), format);
    const statuses = statusesOf(stringOption(args, 'status'));
    const flag = stringOption(args, 'output');
    const loaded = await loadOutput(target, {
      cwd: io.cwd,
      outputDir: flag,
      logger: cliLogger(io.stderr, false),
      plan: { modelsFile: stringOption(args, 'models'), pricesFile: stringOption(args, 'prices') },
    });
    const { dir } = loaded;
    const report = withClipHeaders(loaded.report, dir);

    const copyTo = stringOption(args, 'copy-to');
    if (copyTo !== undefined) {
      const dest = resolve(io.cwd, copyTo);
      const { metadata, rows, images } = writeDatasetFolder(report, dir, dest, format, statuses, csv);
      const sources = images ? ` (and ${images} source image(s) to ${IMAGES_FOLDER}/)` : '';
      io.stderr(`Copied ${rows.length} clip(s) to ${relative(io.cwd, dest) || '.'}/${sources} with ${relative(dest, metadata)} beside them.\n`);
    }
    const out = stringOption(args, 'out');
    if (out === undefined && copyTo !== undefined) return EXIT.ok;
    const paths = booleanOption(args, 'absolute-paths') ? outputPaths(report, dir) : undefined;
    const text = formatRows(exportRows(report, { statuses, paths }), format, csv);
    if (out === undefined) {
      io.stdout(text);
    } else {
      const file = resolve(io.cwd, out);
      writeFileAtomic(file, text, 'Choose a file you can write to with --out FILE.');
    }
    return EXIT.ok;
  },
});
