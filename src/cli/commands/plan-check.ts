// `klingrun plan --check <report.json>`: do the manifest and today's images still produce the plan
// a report was made from? Lists every job whose request changed, and why.
import { dirname, relative, resolve } from 'node:path';
import { InputError } from '../../errors.js';
import { comparePlans } from '../../plan/check.js';
import { loadPlan } from '../../plan/index.js';
import { planSha256 } from '../../plan/json.js';
import { canonicalJson } from '../../plan/ids.js';
import { readReportFile } from '../../report/read.js';
import type { Report } from '../../report/schema.js';
import { EXIT } from '../exit-codes.js';
import type { CliIO } from '../io.js';

const MAX_LISTED = 50;

function readReport(path: string): Report {
  const report = readReportFile(path, 'Give the report.json a `run` wrote.');
  if (!report.reproduce) throw new InputError('input_invalid', `${path} has no reproduce block (it was not written by \`klingrun run\`); nothing to check against.`);
  return report;
}

export async function checkAgainstReport(
  reportPath: string,
  manifestArg: string | undefined,
  io: CliIO,
  tables: { modelsFile: string | undefined; pricesFile: string | undefined },
): Promise<number> {
  const absoluteReport = resolve(io.cwd, reportPath);
  const report = readReport(absoluteReport);
  // The report records the manifest relative to its own folder.
  const manifestPath = manifestArg ?? relative(io.cwd, resolve(dirname(absoluteReport), report.manifest.path));
  const { plan, manifestSha256, prices } = await loadPlan(manifestPath, { cwd: io.cwd, ...tables });
  const reproduce = report.reproduce as NonNullable<Report['reproduce']>;

  const notes: string[] = [];
  if (manifestSha256 !== reproduce.manifest_sha256) notes.push('the manifest file changed (its text; the jobs may still be the same)');
  if (canonicalJson(prices) !== canonicalJson(reproduce.prices)) notes.push('the price table differs from the one the run used (estimates change, jobs do not)');

  if (planSha256(plan) === reproduce.plan_sha256) {
    io.stdout(`Same plan: ${manifestPath} with today's images produces exactly the ${plan.jobs.length} job(s) of ${reportPath}.${notes.length ? `\nNote: ${notes.join('; ')}.` : ''}\n`);
    return EXIT.ok;
  }
  const recorded = report.jobs
    .filter((job) => job.in_manifest)
    .map((job) => ({ id: job.id, entry: job.entry ?? undefined, repeat: job.repeat ?? undefined, variant: job.variant, request: job.params }));
  const differences = comparePlans(recorded, plan.jobs, plan.id_salt !== reproduce.id_salt);
  if (differences.length === 0) {
    io.stdout(`Same jobs, same ids: ${plan.jobs.length} job(s). The plan text differs only in order or warnings.${notes.length ? `\nNote: ${notes.join('; ')}.` : ''}\n`);
    return EXIT.ok;
  }
  const lines = differences.slice(0, MAX_LISTED).map((d) => `  ${d.kind.padEnd(7)} ${d.id.slice(0, 12)}: ${d.reasons.join('; ')}`);
  if (differences.length > MAX_LISTED) lines.push(`  …and ${differences.length - MAX_LISTED} more`);
  const counts = (['changed', 'removed', 'added'] as const).map((kind) => `${differences.filter((d) => d.kind === kind).length} ${kind}`).join(', ');
  io.stdout(`The plan changed since ${reportPath}: ${counts}.\n${lines.join('\n')}${notes.length ? `\nNote: ${notes.join('; ')}.` : ''}\nA rerun submits the changed and added jobs as new jobs; finished ones are kept.\n`);
  return EXIT.jobsFailed;
}
