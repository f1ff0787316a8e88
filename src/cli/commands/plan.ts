// `klingrun plan <manifest>`: the jobs a manifest would run, grouped by model × mode × duration
// with the estimated cost; `--json` prints the whole plan, byte-identical on any machine.
import { loadPlan, summarizePlan, type CostSummary } from '../../plan/index.js';
import { planJson } from '../../plan/json.js';
import { checkAgainstReport } from './plan-check.js';
import type { Plan } from '../../plan/schema.js';
import { booleanOption, positionals, stringOption } from '../args.js';
import { EXIT } from '../exit-codes.js';
import { type CliIO, defineCommand } from '../io.js';
import { MODELS_OPTION, PRICES_OPTION } from '../common-options.js';

const USAGE = 'klingrun plan <manifest> [options] | klingrun plan [<manifest>] --check <report.json>';

const usd = (value: number) => value.toFixed(2);

/** The cost table as text lines (pure; the run command shows it too before asking to go on). */
export function formatCostTable(summary: CostSummary): string {
  const header = ['model', 'mode', 'duration', 'jobs', 'USD/job', 'USD'];
  const rows = summary.rows.map((r) => [
    r.model_name,
    r.mode ?? '-',
    `${r.duration} s`,
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
  const footer = ['total', '', '', String(summary.jobs), '', total];
  const all = [header, ...rows, footer];
  const widths = header.map((_, c) => Math.max(...all.slice(0, -1).map((row) => (row[c] ?? '').length)));
  // Numbers right-aligned; the last cell of the total may be wider than the column.
  const line = (row: string[]) =>
    row.map((cell, c) => (c >= 3 && c < row.length - 1 ? cell.padStart(widths[c] ?? 0) : c === row.length - 1 ? cell : cell.padEnd(widths[c] ?? 0))).join('  ').trimEnd();
  return all.map(line).join('\n');
}

/** Warnings of a plan, one line each. */
export function reportWarnings(plan: Plan, file: string, io: CliIO): void {
  for (const warning of plan.warnings) io.stderr(`warning: ${file}: ${warning}\n`);
}

export const planCommand = defineCommand({
  usage: USAGE,
  options: {
    json: { type: 'boolean', description: 'print the whole plan as JSON (ids, requests, image references), the same bytes on any machine' },
    check: { type: 'string', value: 'REPORT', description: "tell whether the manifest and today's images still make the plan of a run's report.json (exit 1: changed)" },
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
    const { plan, models } = await loadPlan(manifestPath, {
      cwd: io.cwd,
      modelsFile: stringOption(args, 'models'),
      pricesFile: stringOption(args, 'prices'),
    });
    reportWarnings(plan, manifestPath, io);
    if (booleanOption(args, 'json')) {
      io.stdout(planJson(plan));
      return EXIT.ok;
    }
    io.stdout(`${plan.name} (${manifestPath}): ${plan.jobs.length} job(s)\n\n${formatCostTable(summarizePlan(plan, models))}\n`);
    return EXIT.ok;
  },
});
