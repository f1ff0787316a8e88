// `klingrun export`: one row per clip (JSON Lines or CSV) for a training pipeline or a dataset
// loader, paths relative to the output folder (absolute with --absolute-paths); `--copy-to DIR`
// lays the clips out flat, their source images under images/, and the metadata file beside them;
// `--format hf` and `--format webdataset` write a dataset Hugging Face or WebDataset loads.
// `--where` keeps the rows whose columns match (a rating from the folder's ratings.json included).
import { relative, resolve } from 'node:path';
import { UsageError } from '../../errors.js';
import { withClipHeaders, withHeader } from '../../report/clip-headers.js';
import { type StreamedReport, asStream } from '../../report/build.js';
import { IMAGES_FOLDER, type RowSelection, writeDatasetFolder } from '../../report/dataset-folder.js';
import { type CsvOptions, EXPORT_FORMATS, type ExportFormat, type ExportOptions, checkWhere, formatRowStream, jobRows, outputPaths } from '../../report/export.js';
import { writeHfFolder } from '../../report/hf.js';
import { loadOutput } from '../../report/load-output.js';
import { readRatings } from '../../report/ratings.js';
import { REPORT_STATUSES, type ReportJob, type ReportStatus } from '../../report/schema.js';
import { type SplitRule, parseRatio } from '../../report/splits.js';
import { DEFAULT_SHARD_SIZE, writeWebDataset } from '../../report/webdataset.js';
import { parseWhere } from '../../report/where.js';
import { writeFileAtomic } from '../../report/write.js';
import { booleanOption, numberOption, positionals, stringOption } from '../args.js';
import { EXIT } from '../exit-codes.js';
import { type CommandArgs, defineCommand } from '../io.js';
import { MODELS_OPTION, OUTPUT_FOLDER_OPTION, PRICES_OPTION } from '../common-options.js';
import { cliLogger } from '../logger.js';

const USAGE = 'klingrun export <manifest|output-folder> [options]';

/** Formats that write a dataset folder (with --copy-to) rather than rows. */
const DATASET_FORMATS = ['hf', 'webdataset'] as const;
type DatasetFormat = (typeof DATASET_FORMATS)[number];
const FORMATS = [...EXPORT_FORMATS, ...DATASET_FORMATS] as const;

function formatOf(text: string | undefined): ExportFormat | DatasetFormat {
  if (text === undefined) return 'jsonl';
  if ((FORMATS as readonly string[]).includes(text)) return text as ExportFormat | DatasetFormat;
  throw new UsageError(`Expected \`--format\` to be one of ${FORMATS.join(', ')}, got \`${text}\`.`);
}

const isDataset = (format: string): format is DatasetFormat => (DATASET_FORMATS as readonly string[]).includes(format);

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
function csvOptionsOf(raw: boolean, format: string): CsvOptions {
  if (raw && format !== 'csv') throw new UsageError('`--csv-raw` applies to `--format csv` only: JSON Lines always keeps every value exactly. Drop `--csv-raw`, or add `--format csv`.');
  return { raw };
}

const OPTIONS = {
  format: { type: 'string', value: FORMATS.join('|'), description: 'JSON Lines or CSV (RFC 4180) rows; hf or webdataset: a dataset folder (with --copy-to, see docs/datasets.md)', defaultText: 'jsonl' },
  status: { type: 'string', value: 'STATUS[,…]', description: 'only jobs in these states, e.g. succeeded or failed,timed_out', defaultText: 'every job' },
  where: { type: 'string', value: 'FIELD=VALUE', multiple: true, description: 'only rows whose column FIELD is VALUE (FIELD!=VALUE: is not), e.g. rating=keep or category=harbor; all must hold' },
  out: { type: 'string', value: 'FILE', description: 'write the rows to FILE instead of stdout', rule: { kind: 'path', must: 'have-folder' } },
  'copy-to': { type: 'string', value: 'DIR', description: 'copy the clips flat into DIR, their source images into DIR/images/, and metadata.jsonl beside them (a Hugging Face videofolder); with --format hf or webdataset, that dataset' },
  'split-by': { type: 'string', value: 'COLUMN', description: 'hf, webdataset: one split per value of COLUMN, e.g. category' },
  split: { type: 'string', value: 'NAME=FRACTION,…', description: 'hf, webdataset: splits drawn from each job id at these ratios, e.g. train=0.9,test=0.1', defaultText: 'one split, train' },
  seed: { type: 'string', value: 'N', description: 'the seed of --split: the same seed gives the same splits', defaultText: '1', rule: { kind: 'number', integer: true, min: 0 } },
  license: { type: 'string', value: 'ID', description: "hf: the dataset card's license, e.g. cc-by-4.0", defaultText: 'other' },
  'shard-size': { type: 'string', value: 'N', description: 'webdataset: samples per tar shard', defaultText: String(DEFAULT_SHARD_SIZE), rule: { kind: 'number', integer: true, min: 1 } },
  'absolute-paths': { type: 'boolean', description: 'give absolute paths in the rows instead of paths relative to the output folder' },
  'csv-raw': { type: 'boolean', description: "CSV: write text cells exactly (by default one starting with = + - @, a tab or a carriage return gets a leading ' so a spreadsheet does not run it as a formula)" },
  output: OUTPUT_FOLDER_OPTION,
  prices: PRICES_OPTION,
  models: MODELS_OPTION,
} as const;
type Args = CommandArgs<typeof OPTIONS>;

/** An option given to a format it does not apply to: a mistake worth saying before any work. */
function refuse(args: Args, names: readonly (keyof typeof OPTIONS & string)[], applies: string): void {
  const given = names.find((name) => args.values[name] !== undefined && args.values[name] !== false);
  if (given !== undefined) throw new UsageError(`\`--${given}\` applies to ${applies}. Drop it, or change \`--format\`.`);
}

function splitRuleOf(args: Args): SplitRule | undefined {
  const by = stringOption(args, 'split-by');
  const ratio = stringOption(args, 'split');
  const seed = numberOption(args, 'seed');
  if (by !== undefined && ratio !== undefined) throw new UsageError('`--split-by` and `--split` are two ways to split a dataset: give one of them.');
  if (seed !== undefined && ratio === undefined) throw new UsageError('`--seed` sets the draw of `--split NAME=FRACTION,…`: add `--split`, or drop `--seed`.');
  if (by !== undefined) return { kind: 'column', column: parseWhere(`${by}=`).column };
  return ratio === undefined ? undefined : { kind: 'ratio', parts: parseRatio(ratio), seed: seed ?? 1 };
}

interface DatasetPlan {
  readonly format: DatasetFormat;
  readonly dest: string;
  readonly split: SplitRule | undefined;
  readonly license: string;
  readonly shardSize: number;
}

/** Checks every dataset option against the format, before anything is read or written. */
function datasetPlanOf(args: Args, format: ExportFormat | DatasetFormat, cwd: string): DatasetPlan | undefined {
  if (!isDataset(format)) {
    refuse(args, ['split-by', 'split', 'seed', 'license', 'shard-size'], '`--format hf` or `--format webdataset`');
    return undefined;
  }
  const copyTo = stringOption(args, 'copy-to');
  if (copyTo === undefined) throw new UsageError(`\`--format ${format}\` writes a dataset folder: add \`--copy-to DIR\`.`);
  refuse(args, ['out', 'absolute-paths'], 'rows (`--format jsonl` or `csv`): a dataset folder names its files relative to itself');
  refuse(args, [format === 'hf' ? 'shard-size' : 'license'], format === 'hf' ? '`--format webdataset`' : '`--format hf`');
  return {
    format,
    dest: resolve(cwd, copyTo),
    split: splitRuleOf(args),
    license: stringOption(args, 'license') ?? 'other',
    shardSize: numberOption(args, 'shard-size') ?? DEFAULT_SHARD_SIZE,
  };
}

/** Writes the dataset and says on stderr what it wrote and how to load it. */
function writeDataset(plan: DatasetPlan, report: Parameters<typeof writeHfFolder>[0], dir: string, select: RowSelection, selection: string[], io: { cwd: string; stderr: (text: string) => void }): void {
  const where = relative(io.cwd, plan.dest) || '.';
  if (plan.format === 'hf') {
    const result = writeHfFolder(report, dir, plan.dest, { select, split: plan.split, license: plan.license, selection });
    const splits = [...result.splits].map(([name, n]) => `${name} ${n}`).join(', ');
    const left = result.dropped.length ? ` Left out for having no value in some split: ${result.dropped.join(', ')}.` : '';
    io.stderr(`Wrote a Hugging Face dataset of ${result.rows.length} clip(s) to ${where}/ (${splits}; ${result.images} source image(s) in ${IMAGES_FOLDER}/; card README.md).${left} Load it with load_dataset("${where}").\n`);
    return;
  }
  const result = writeWebDataset(report, dir, plan.dest, { select, split: plan.split, shardSize: plan.shardSize });
  io.stderr(`Wrote ${result.rows.length} sample(s) in ${result.shards.length} WebDataset shard(s) to ${where}/: ${result.shards.join(', ')}.\n`);
}

export const exportCommand = defineCommand({
  usage: USAGE,
  options: OPTIONS,
  examples: [
    { command: 'klingrun export output/example --format csv --status succeeded > clips.csv', description: 'one CSV row per finished clip' },
    { command: 'klingrun export output/example --copy-to dataset/', description: 'a dataset folder: the clips and metadata.jsonl' },
    { command: 'klingrun export output/example --where rating=keep --format hf --split train=0.9,test=0.1 --copy-to dataset/', description: 'the clips rated keep, as a Hugging Face dataset with a train and a test split' },
  ],
  async run(args, io) {
    const [target] = positionals(args, ['manifest|output-folder'], USAGE) as [string];
    const format = formatOf(stringOption(args, 'format'));
    const csv = csvOptionsOf(booleanOption(args, 'csv-raw'), format);
    const statuses = statusesOf(stringOption(args, 'status'));
    const whereTexts = args.values.where ?? [];
    const where = whereTexts.map(parseWhere);
    const dataset = datasetPlanOf(args, format, io.cwd);
    const flag = stringOption(args, 'output');
    const loaded = await loadOutput(target, {
      cwd: io.cwd,
      outputDir: flag,
      logger: cliLogger(io.stderr, false),
      plan: { modelsFile: stringOption(args, 'models'), pricesFile: stringOption(args, 'prices') },
    });
    const { dir } = loaded;
    const select: RowSelection = { statuses, where, ratings: readRatings(dir) };
    const copyTo = stringOption(args, 'copy-to');
    if (dataset === undefined && copyTo === undefined) {
      writeRows(loaded.stream, dir, { ...select, paths: booleanOption(args, 'absolute-paths') ? outputPaths(loaded.stream.summary, dir) : undefined }, format as ExportFormat, csv, stringOption(args, 'out'), io);
      return EXIT.ok;
    }
    const report = withClipHeaders(loaded.report, dir);
    if (dataset !== undefined) {
      const selection = [...(statuses ? [`--status ${[...statuses].join(',')}`] : []), ...whereTexts.map((text) => `--where ${text}`)];
      writeDataset(dataset, report, dir, select, selection, io);
      return EXIT.ok;
    }
    const rowFormat = format as ExportFormat;
    const dest = resolve(io.cwd, copyTo as string);
    const { metadata, rows, images } = writeDatasetFolder(report, dir, dest, rowFormat, select, csv);
    const sources = images ? ` (and ${images} source image(s) to ${IMAGES_FOLDER}/)` : '';
    io.stderr(`Copied ${rows.length} clip(s) to ${relative(io.cwd, dest) || '.'}/${sources} with ${relative(dest, metadata)} beside them.\n`);
    const out = stringOption(args, 'out');
    if (out !== undefined) writeRows(asStream(report), dir, { ...select, paths: booleanOption(args, 'absolute-paths') ? outputPaths(report, dir) : undefined }, rowFormat, csv, out, io);
    return EXIT.ok;
  },
});

/**
 * The rows to stdout or `out`, made a job at a time from the report (read twice: for the columns,
 * then the text), so a 100,000-job export never holds its jobs, rows or text whole.
 */
function writeRows(report: StreamedReport, dir: string, options: ExportOptions, format: ExportFormat, csv: CsvOptions, out: string | undefined, io: { cwd: string; stdout: (text: string) => void }): void {
  const paths = options.paths ?? outputPaths(report.summary);
  const jobs = function* (): Generator<ReportJob> {
    for (const job of report.jobs()) yield withHeader(job, dir);
  };
  checkWhere(options.where?.length ? jobs() : [], options, paths);
  const text = formatRowStream(() => jobRows(jobs(), options, paths), format, csv);
  if (out === undefined) {
    for (const piece of text) io.stdout(piece);
  } else {
    writeFileAtomic(resolve(io.cwd, out), text, 'Choose a file you can write to with --out FILE.');
  }
}
