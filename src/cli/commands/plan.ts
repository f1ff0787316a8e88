// `klingrun plan <manifest>`: the jobs a manifest would run, grouped by variant (model, mode,
// duration and whatever else the matrix varies) with the estimated cost; `--json` prints the whole
// plan, byte-identical on any machine.
import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { loadPlan, summarizePlan, type CostSummary, type Tables } from '../../plan/index.js';
import { variantKey } from '../../plan/variants.js';
import { planJsonChunks } from '../../plan/json.js';
import { checkAgainstReport } from './plan-check.js';
import type { Plan } from '../../plan/schema.js';
import { booleanOption, positionals, stringOption } from '../args.js';
import { alignTable, variantColumns } from '../variant-table.js';
import { EXIT } from '../exit-codes.js';
import { JOURNAL_FILE, outputDirFor } from '../output-folder.js';
import { type CliIO, defineCommand } from '../io.js';
import { MODELS_OPTION, PRICES_OPTION } from '../common-options.js';
import { egressNotes } from '../egress.js';
import { type SampleSpec, formatSample, parseSample, sampleJobs } from '../../plan/sample.js';

const USAGE = 'klingrun plan <manifest> [options] | klingrun plan [<manifest>] --check <report.json>';

const usd = (value: number) => value.toFixed(2);

/** Said under the table when some jobs leave `sound` out where it changes the price. */
export const SOUND_DEFAULT_NOTE =
  'sound default: these jobs leave `sound` out, so Kling\'s default applies: off, priced as silent video. Set `sound: "on"` for generated audio.';

/** The cost table, one row per variant (pure; the run command shows it too before asking to go on); its lines fit `width` when given. */
export function formatCostTable(summary: CostSummary, width?: number): string {
  const columns = variantColumns(summary.rows.map((r) => r.variant));
  // The sound a price assumes, where the variants do not say it already.
  const sound = !columns.header.includes('sound') && summary.rows.some((r) => r.sound !== undefined);
  const header = [...columns.header, ...(sound ? ['sound'] : []), 'jobs', 'USD/job', 'USD'];
  const soundColumn = columns.header.indexOf('sound');
  const rows = summary.rows.map((r) => [
    // A variant without a sound of its own is priced at the provider's default: say so.
    ...columns.cells(r.variant).map((cell, c) => (c === soundColumn && r.sound === 'default' ? 'default' : cell)),
    ...(sound ? [r.sound ?? '-'] : []),
    String(r.jobs),
    // A variant's jobs may differ in price outside its fields (a per-entry sound, say).
    r.unit_usd !== null ? usd(r.unit_usd) : r.total_usd !== null ? 'mixed' : 'unknown',
    r.total_usd === null ? 'unknown' : usd(r.total_usd),
  ]);
  const total =
    summary.unknown_jobs === 0
      ? usd(summary.known_usd)
      : summary.unknown_jobs === summary.jobs
        ? 'unknown'
        : `${usd(summary.known_usd)} + ${summary.unknown_jobs} job(s) at unknown price`;
  const footer = ['total', ...columns.header.slice(1).map(() => ''), ...(sound ? [''] : []), String(summary.jobs), '', total];
  const note = summary.rows.some((r) => r.sound === 'default') ? `

${SOUND_DEFAULT_NOTE}` : '';
  return alignTable([header, ...rows, footer], { numericFrom: columns.header.length + (sound ? 1 : 0), footerRows: 1, looseLastColumn: true, ...(width === undefined ? {} : { width }) }) + note;
}

/**
 * The cost table of a plan's jobs, its variants in manifest order (the order of the progress bars,
 * the run's summary and report.json), not sorted by model.
 */
export function planCostTable(plan: Plan, tables: Tables, width?: number): string {
  const summary = summarizePlan(plan, tables);
  const order = new Map<string, number>();
  for (const job of plan.jobs) {
    const key = variantKey(job);
    if (!order.has(key)) order.set(key, order.size);
  }
  const rank = (key: string): number => order.get(key) ?? order.size;
  return formatCostTable({ ...summary, rows: [...summary.rows].sort((a, b) => rank(a.variant.key) - rank(b.variant.key)) }, width);
}

/** The pilot `--sample` picks, and what it costs beside the whole batch. */
function sampleText(plan: Plan, spec: SampleSpec): string {
  const picked = sampleJobs(plan.jobs, spec);
  const usdOf = (jobs: readonly { cost_usd: number | null }[]) => (jobs.some((job) => job.cost_usd === null) ? 'an unknown amount' : `about $${usd(jobs.reduce((sum, job) => sum + (job.cost_usd ?? 0), 0))}`);
  return `${formatSample(plan.jobs, picked, spec)}\nThe pilot costs ${usdOf(picked)} (the whole batch ${usdOf(plan.jobs)}).`;
}

/** Warnings of a plan, one line each: its own, then what it sends besides the API calls (cli/egress.ts). */
export function reportWarnings(plan: Plan, file: string, io: CliIO, sends: readonly string[] = []): void {
  for (const warning of [...plan.warnings, ...sends]) io.stderr(`warning: ${file}: ${warning}\n`);
}

export const planCommand = defineCommand({
  usage: USAGE,
  options: {
    json: { type: 'boolean', description: 'print the whole plan as JSON (ids, requests, image references), the same bytes on any machine' },
    check: { type: 'string', value: 'REPORT', description: "tell whether the manifest and today's images still make the plan of a run's report.json (exit 1: changed)" },
    sample: { type: 'string', value: 'N', description: 'show the pilot `run --sample N` would run: N jobs spread over every variant (with --json, its jobs only)' },
    'sample-seed': { type: 'string', value: 'S', description: 'which jobs --sample picks: the same seed picks the same jobs', defaultText: '1' },
    prices: PRICES_OPTION,
    models: MODELS_OPTION,
  },
  examples: [
    { command: 'klingrun plan jobs/example.yaml', description: 'jobs and estimated cost by model, mode and duration' },
    { command: 'klingrun plan jobs/sweep.yaml --json > plan.json', description: 'the whole plan, for review or a diff' },
    { command: 'klingrun plan --check output/example/report.json', description: 'has anything changed since that run?' },
  ],
  async run(args, io) {
    const check = stringOption(args, 'check');
    if (check !== undefined) return checkAgainstReport(check, args.positionals[0], io, { modelsFile: stringOption(args, 'models'), pricesFile: stringOption(args, 'prices') });
    const [manifestPath] = positionals(args, ['manifest'], USAGE) as [string];
    const sample = parseSample(stringOption(args, 'sample'), stringOption(args, 'sample-seed'));
    const loaded = await loadPlan(manifestPath, {
      cwd: io.cwd,
      modelsFile: stringOption(args, 'models'),
      pricesFile: stringOption(args, 'prices'),
    });
    const { plan } = loaded;
    // What the jobs send besides the API calls goes to stderr, also with --json: it names this
    // machine's real paths, and the plan's bytes must stay the same on any machine.
    const { sentences } = await egressNotes(plan.jobs, loaded.manifestDir, io.cwd);
    reportWarnings(plan, manifestPath, io, sentences);
    if (booleanOption(args, 'json')) {
      // A piece at a time: a 100,000-job plan is ~100 MB of text.
      for (const chunk of planJsonChunks(sample ? { ...plan, jobs: sampleJobs(plan.jobs, sample) } : plan)) io.stdout(chunk);
      return EXIT.ok;
    }
    io.stdout(`${plan.name} (${manifestPath}): ${plan.jobs.length} job(s)\n\n${planCostTable(plan, loaded, io.columns)}\n`);
    if (sample) io.stdout(`\n${sampleText(plan, sample)}\n`);
    const outputDir = outputDirFor(io, manifestPath, plan.name, undefined);
    if (!existsSync(join(outputDir, JOURNAL_FILE))) {
      io.stderr(
        `note: ${relative(io.cwd, outputDir) || '.'}/ has no record of earlier runs of ${plan.name}. If it ran from another folder or machine, \`run\` asks the provider about each job (by its external_task_id) before submitting it, where the provider offers such lookups (\`klingrun doctor\` tells).\n`,
      );
    }
    return EXIT.ok;
  },
});
