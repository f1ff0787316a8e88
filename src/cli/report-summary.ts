// The human summary of a report: per-variant table and totals. Shown at the end of `run` and by
// `status`, so both say the same thing in the same words.
import { type Variant, variantOfFields } from '../plan/variants.js';
import { type ReportSummary, type StreamedReport, asStream } from '../report/build.js';
import type { Report, ReportJob } from '../report/schema.js';
import { unitPriceText } from '../report/unit-price.js';
import { alignTable, variantColumns } from './variant-table.js';

const cell = (value: number | null, unit = '', digits = 1): string => (value === null ? '-' : `${value.toFixed(digits)}${unit}`);

/** The per-variant table; `width` (a terminal's) is what its lines must fit. */
export function formatVariantTable(report: ReportSummary, width?: number): string {
  // Reports written before variants had fields name model, mode and duration only.
  const variants = report.by_variant.map((v) => variantOfFields(v.fields ?? { model_name: v.model_name, mode: v.mode, duration: v.duration }));
  const columns = variantColumns(variants);
  const header = [...columns.header, 'jobs', 'ok', 'failed', 'success', 'p50', 'p95', 'USD'];
  const rows = report.by_variant.map((v, i) => [
    ...columns.cells(variants[i] as Variant),
    String(v.jobs),
    String(v.succeeded),
    String(v.failed),
    successText(v),
    cell(v.latency_s.p50, ' s'),
    cell(v.latency_s.p95, ' s'),
    v.cost_usd === null ? 'unknown' : v.cost_usd.toFixed(2),
  ]);
  return alignTable([header, ...rows], { numericFrom: columns.header.length, ...(width === undefined ? {} : { width }) });
}

/** The success rate, and of how many finished jobs while some are not finished (4 of 100 done is not "100%"). */
function successText(v: ReportSummary['by_variant'][number]): string {
  if (v.success_rate === null) return '-';
  const finished = v.succeeded + v.failed;
  return `${Math.round(v.success_rate * 100)}%${finished < v.jobs ? ` of ${finished}` : ''}`;
}

export function formatTotals(report: ReportSummary): string {
  const { totals, cost } = report;
  const parts = Object.entries(totals)
    .filter(([key, value]) => key !== 'jobs' && key !== 'not_in_manifest' && value !== 0)
    .map(([key, value]) => `${value} ${key === 'skipped_budget' ? 'skipped by --budget' : key.replaceAll('_', ' ')}`);
  const earlier = totals.not_in_manifest ? ` (${totals.not_in_manifest} of them no longer in the manifest)` : '';
  return `${totals.jobs} job(s)${earlier}: ${parts.join(', ') || 'none'}. ${formatCost(cost)}`;
}

const usd = (n: number): string => `$${n.toFixed(2)}`;

/** Certain, possible and measured cost in one sentence (see the report's `cost`). */
export function formatCost(cost: Report['cost']): string {
  const possible = cost.possible_usd > 0 ? `, ${usd(cost.possible_usd)} possible (tasks in flight, failed, timed out, unconfirmed or lost: the provider may bill them)` : '';
  const unknown = cost.unknown_price_tasks ? `, plus ${cost.unknown_price_tasks} task(s) of unknown price` : '';
  const measured = cost.measured_jobs ? ` The provider reports ${usd(cost.measured_usd)} actually charged for ${cost.measured_jobs} job(s), at ${unitPriceText(cost.unit_price)}.` : '';
  // Tasks found at the provider under the same ids were paid by the run that made them, not by this folder.
  const adopted = cost.certain_adopted_usd
    ? `: ${usd(cost.certain_usd - cost.certain_adopted_usd)} paid by this folder, ${usd(cost.certain_adopted_usd)} adopted from tasks made elsewhere with the same ids (paid before, not by this folder)`
    : '';
  return `Cost: ${usd(cost.certain_usd)} certain (succeeded${adopted})${possible}${unknown}.${measured}`;
}

/** Jobs the user must look at: failures, warnings, unplayable clips. */
export function formatProblems(jobs: Iterable<ReportJob>, max = 10): string {
  const lines: string[] = [];
  let count = 0;
  for (const job of jobs) {
    if (!job.error && job.warnings.length === 0) continue;
    count += 1;
    if (lines.length < max) lines.push(`  ${job.external_task_id ?? job.id.slice(0, 12)} ${job.status}: ${job.error?.message ?? job.warnings.join('; ')}`);
  }
  if (count === 0) return '';
  const more = count > max ? `\n  …and ${count - max} more (see report.json)` : '';
  return `Needs attention:\n${lines.join('\n')}${more}`;
}

/** The summary of `run` and `status`; on a terminal, `columns` is its width. */
export function formatReportSummary(report: Report | StreamedReport, columns?: number): string {
  const { summary, jobs } = asStream(report);
  return [formatVariantTable(summary, columns), '', formatTotals(summary), formatProblems(jobs())].filter((part, i) => i < 3 || part).join('\n');
}
