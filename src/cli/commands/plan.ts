// `klingrun plan <manifest>`: the jobs a manifest would run, grouped by model × mode × duration
// with the estimated cost; `--json` prints the whole plan, byte-identical on any machine.
import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { loadPlan, summarizePlan, type CostSummary } from '../../plan/index.js';
import { planJsonChunks } from '../../plan/json.js';
import { checkAgainstReport } from './plan-check.js';
import type { Plan } from '../../plan/schema.js';
import { booleanOption, positionals, stringOption } from '../args.js';
import { EXIT } from '../exit-codes.js';
import { JOURNAL_FILE, outputDirFor } from '../output-folder.js';
import type { CliIO, Command } from '../io.js';

const USAGE = 'klingrun plan <manifest> [--json] [--prices <file>] [--models <file>] | klingrun plan [<manifest>] --check <report.json>';

const usd = (value: number) => value.toFixed(2);

/** Said under the table when some jobs leave `sound` out where it changes the price. */
export const SOUND_DEFAULT_NOTE =
  'sound default: these jobs leave `sound` out, so the provider\'s default applies; it is not documented, so they are priced as sound on. Set `sound: "off"` for the silent price.';

/** The cost table as text lines (pure; the run command shows it too before asking to go on). */
export function formatCostTable(summary: CostSummary): string {
  // The sound column only where sound changes a price.
  const sound = summary.rows.some((r) => r.sound !== undefined);
  const header = ['model', 'mode', 'duration', ...(sound ? ['sound'] : []), 'jobs', 'USD/job', 'USD'];
  const rows = summary.rows.map((r) => [
    r.model_name,
    r.mode ?? '-',
    `${r.duration} s`,
    ...(sound ? [r.sound ?? '-'] : []),
    String(r.jobs),
    r.unit_usd === null ? 'unknown' : usd(r.unit_usd),
    r.total_usd === null ? 'unknown' : usd(r.total_usd),
  ]);
  const total =
    summary.unknown_jobs === 0
      ? usd(summary.known_usd)
      : summary.unknown_jobs === summary.jobs
        ? 'unknown'
        : `${usd(summary.known_usd)} + ${summary.unknown_jobs} job(s) at unknown price`;
  const footer = ['total', '', '', ...(sound ? [''] : []), String(summary.jobs), '', total];
  const all = [header, ...rows, footer];
  const widths = header.map((_, c) => Math.max(...all.slice(0, -1).map((row) => (row[c] ?? '').length)));
  const numbers = header.indexOf('jobs');
  // Numbers right-aligned; the last cell of the total may be wider than the column.
  const line = (row: string[]) =>
    row.map((cell, c) => (c >= numbers && c < row.length - 1 ? cell.padStart(widths[c] ?? 0) : c === row.length - 1 ? cell : cell.padEnd(widths[c] ?? 0))).join('  ').trimEnd();
  const note = summary.rows.some((r) => r.sound === 'default') ? `\n\n${SOUND_DEFAULT_NOTE}` : '';
  return all.map(line).join('\n') + note;
}

/** Warnings of a plan, one line each. */
export function reportWarnings(plan: Plan, file: string, io: CliIO): void {
  for (const warning of plan.warnings) io.stderr(`warning: ${file}: ${warning}\n`);
}

export const planCommand: Command = {
  name: 'plan',
  summary: 'Show the jobs a manifest would run and their estimated cost (--json: the whole plan).',
  usage: USAGE,
  options: { json: { type: 'boolean' }, prices: { type: 'string' }, models: { type: 'string' }, check: { type: 'string' } },
  async run(args, io) {
    const check = stringOption(args, 'check');
    if (check !== undefined) return checkAgainstReport(check, args.positionals[0], io, { modelsFile: stringOption(args, 'models'), pricesFile: stringOption(args, 'prices') });
    const [manifestPath] = positionals(args, ['manifest'], USAGE) as [string];
    const loaded = await loadPlan(manifestPath, {
      cwd: io.cwd,
      modelsFile: stringOption(args, 'models'),
      pricesFile: stringOption(args, 'prices'),
    });
    const { plan } = loaded;
    reportWarnings(plan, manifestPath, io);
    if (booleanOption(args, 'json')) {
      // A piece at a time: a 100,000-job plan is ~100 MB of text.
      for (const chunk of planJsonChunks(plan)) io.stdout(chunk);
      return EXIT.ok;
    }
    io.stdout(`${plan.name} (${manifestPath}): ${plan.jobs.length} job(s)\n\n${formatCostTable(summarizePlan(plan, loaded))}\n`);
    const outputDir = outputDirFor(io, manifestPath, plan.name, undefined);
    if (!existsSync(join(outputDir, JOURNAL_FILE))) {
      io.stderr(
        `note: ${relative(io.cwd, outputDir) || '.'}/ has no record of earlier runs of ${plan.name}. If it ran from another folder or machine, \`run\` asks the provider about each job (by its external_task_id) before submitting it, where the provider offers such lookups (\`klingrun doctor\` tells).\n`,
      );
    }
    return EXIT.ok;
  },
};
