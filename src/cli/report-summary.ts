// The human summary of a report: per-variant table and totals. Shown at the end of `run` and by
// `status`, so both say the same thing in the same words.
import { type Variant, variantOfFields } from '../plan/variants.js';
import type { Report } from '../report/schema.js';
import { alignTable, variantColumns } from './variant-table.js';

const cell = (value: number | null, unit = '', digits = 1): string => (value === null ? '-' : `${value.toFixed(digits)}${unit}`);

/** The per-variant table; `width` (a terminal's) is what its lines must fit. */
export function formatVariantTable(report: Report, width?: number): string {
  // Reports written before variants had fields name model, mode and duration only.
  const variants = report.by_variant.map((v) => variantOfFields(v.fields ?? { model_name: v.model_name, mode: v.mode, duration: v.duration }));
  const columns = variantColumns(variants);
  const header = [...columns.header, 'jobs', 'ok', 'failed', 'success', 'p50', 'p95', 'USD'];
  const rows = report.by_variant.map((v, i) => [
    ...columns.cells(variants[i] as Variant),
    String(v.jobs),
    String(v.succeeded),
    String(v.failed),
    v.success_rate === null ? '-' : `${Math.round(v.success_rate * 100)}%`,
    cell(v.latency_s.p50, ' s'),
    cell(v.latency_s.p95, ' s'),
    v.cost_usd === null ? 'unknown' : v.cost_usd.toFixed(2),
  ]);
  return alignTable([header, ...rows], { numericFrom: columns.header.length, ...(width === undefined ? {} : { width }) });
}

export function formatTotals(report: Report): string {
  const { totals, cost } = report;
  const parts = Object.entries(totals)
    .filter(([key, value]) => key !== 'jobs' && key !== 'not_in_manifest' && value !== 0)
    .map(([key, value]) => `${value} ${key.replaceAll('_', ' ')}`);
  const earlier = totals.not_in_manifest ? ` (${totals.not_in_manifest} of them no longer in the manifest)` : '';
  return `${totals.jobs} job(s)${earlier}: ${parts.join(', ') || 'none'}. ${formatCost(cost)}`;
}

const usd = (n: number): string => `$${n.toFixed(2)}`;

/** Certain, possible and measured cost in one sentence (see the report's `cost`). */
export function formatCost(cost: Report['cost']): string {
  const possible = cost.possible_usd > 0 ? `, ${usd(cost.possible_usd)} possible (tasks in flight, failed, timed out, unconfirmed or lost: the provider may bill them)` : '';
  const unknown = cost.unknown_price_tasks ? `, plus ${cost.unknown_price_tasks} task(s) of unknown price` : '';
  const measured = cost.measured_jobs ? ` The provider reports ${usd(cost.measured_usd)} actually charged for ${cost.measured_jobs} job(s).` : '';
  return `Cost: ${usd(cost.certain_usd)} certain (succeeded)${possible}${unknown}.${measured}`;
}

/** Jobs the user must look at: failures, warnings, unplayable clips. */
export function formatProblems(report: Report, max = 10): string {
  const lines = report.jobs
    .filter((job) => job.error || job.warnings.length > 0)
    .map((job) => `  ${job.external_task_id ?? job.id.slice(0, 12)} ${job.status}: ${job.error?.message ?? job.warnings.join('; ')}`);
  if (lines.length === 0) return '';
  const more = lines.length > max ? `\n  …and ${lines.length - max} more (see report.json)` : '';
  return `Needs attention:\n${lines.slice(0, max).join('\n')}${more}`;
}

/** The summary of `run` and `status`; on a terminal, `columns` is its width. */
export function formatReportSummary(report: Report, columns?: number): string {
  return [formatVariantTable(report, columns), '', formatTotals(report), formatProblems(report)].filter((part, i) => i < 3 || part).join('\n');
}
