// `klingrun runs [output-root]`: every run under an output root, the most recently active first,
// read from each folder's journal (and the report.json it wrote, for the planned count and prices)
// without any network call or planning. `status <output-root>` prints the same list.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { UsageError } from '../../errors.js';
import type { ReportStatus } from '../../report/schema.js';
import { statusOf } from '../../report/build.js';
import { streamReportFile } from '../../report/read-stream.js';
import { JournalState } from '../../runner/job-state.js';
import { tasksOf } from '../../runner/spend.js';
import { replayJournal } from '../../state/journal.js';
import { lockHolder } from '../../state/lock.js';
import { JOURNAL_FILE, REPORT_FILE, defaultOutputRoot } from '../../state/output-folder.js';
import { booleanOption } from '../args.js';
import { EXIT } from '../exit-codes.js';
import { type CliIO, defineCommand } from '../io.js';
import { alignTable } from '../variant-table.js';

const USAGE = 'klingrun runs [output-root] [options]';

/** One run folder as the list shows it. */
export interface RunSummary {
  /** The folder, relative to the root. */
  readonly folder: string;
  /** The manifest's name, from the journal's header. */
  readonly name: string;
  readonly state: string;
  readonly ok: number;
  readonly total: number;
  /** Succeeded tasks this folder paid for, and those adopted from tasks made elsewhere (same ids). */
  readonly paidUsd: number;
  readonly adoptedUsd: number;
  /** Succeeded tasks whose price neither the journal nor the report knows. */
  readonly unknownPrice: number;
  /** The journal's last event (ms). */
  readonly lastActivity: number;
}

export interface RunList {
  readonly runs: readonly RunSummary[];
  /** Folders under the root that are not runs, each with why. */
  readonly skipped: readonly string[];
}

const OK: ReadonlySet<ReportStatus> = new Set(['succeeded']);
const FAILED: ReadonlySet<ReportStatus> = new Set(['failed', 'timed_out', 'lost_at_provider', 'invalid_output']);

/** What the folder's report.json says of the plan, when it has a readable one (read a job at a time). */
function reportFacts(dir: string): { total: number; price: (id: string) => number | null | undefined } {
  const file = join(dir, REPORT_FILE);
  try {
    if (existsSync(file)) {
      const { stream } = streamReportFile(file, '');
      const prices = new Map<string, number | null>();
      for (const job of stream.jobs()) prices.set(job.id, job.cost_usd);
      return { total: stream.summary.totals.jobs, price: (id) => prices.get(id) };
    }
  } catch {
    // A damaged report.json: the journal alone still tells most of it.
  }
  return { total: 0, price: () => undefined };
}

/** Whether a runner holds the folder now: yes, no, or the host of one that may be alive elsewhere. */
function holderOf(dir: string): boolean | string {
  try {
    const lock = lockHolder(dir);
    return lock.state === 'held' && lock.running !== false ? (lock.running ?? lock.holder.host) : false;
  } catch {
    return false; // a lock folder that cannot be read: the next run says why
  }
}

/** Running, stopped with work left, failed jobs, or done. */
function stateOf(dir: string, left: number, failed: number): string {
  const holder = holderOf(dir);
  if (holder !== false) return holder === true ? 'running' : `running? (lock held on ${holder})`;
  if (left > 0) return `stopped, ${left} left${failed ? `, ${failed} failed` : ''}`;
  return failed ? `${failed} failed` : 'done';
}

/** One folder's summary, or why it is not a run. */
export function summarizeRun(root: string, dir: string): RunSummary | string {
  const folder = relative(root, dir) || '.';
  const journal = join(dir, JOURNAL_FILE);
  if (!existsSync(journal)) return `${folder}/: no ${JOURNAL_FILE}, not a run folder`;
  const folded = new JournalState();
  let name: string | undefined;
  try {
    replayJournal([readFileSync(journal)], journal, (event) => {
      if (event.ev === 'header') name ??= event.name;
      folded.add(event);
    });
  } catch (error) {
    return `${folder}/: ${(error as Error).message}`;
  }
  const facts = reportFacts(dir);
  const counts = { ok: 0, failed: 0, paid: 0, adopted: 0, unknown: 0 };
  for (const [id, state] of folded.states) {
    const status = statusOf(state);
    if (OK.has(status)) counts.ok++;
    if (FAILED.has(status)) counts.failed++;
    const tasks = tasksOf(state);
    if (!tasks.certain) continue;
    const price = state.estimateUsd ?? facts.price(id);
    if (price == null) counts.unknown++;
    else if (tasks.adopted) counts.adopted += price;
    else counts.paid += price;
  }
  const total = Math.max(facts.total, folded.states.size);
  return {
    folder,
    name: name ?? folder,
    state: stateOf(dir, total - counts.ok - counts.failed, counts.failed),
    ok: counts.ok,
    total,
    paidUsd: counts.paid,
    adoptedUsd: counts.adopted,
    unknownPrice: counts.unknown,
    lastActivity: folded.lastEventAt ?? statSync(journal).mtimeMs,
  };
}

/** Every run folder directly under `root`, the most recently active first. */
export function listRuns(root: string): RunList {
  const runs: RunSummary[] = [];
  const skipped: string[] = [];
  const folders = readdirSync(root, { withFileTypes: true }).filter((entry) => entry.isDirectory());
  for (const entry of folders.sort((a, b) => a.name.localeCompare(b.name))) {
    const summary = summarizeRun(root, join(root, entry.name));
    if (typeof summary === 'string') skipped.push(summary);
    else runs.push(summary);
  }
  return { runs: runs.sort((a, b) => b.lastActivity - a.lastActivity), skipped };
}

const usd = (n: number): string => `$${n.toFixed(2)}`;
const when = (ms: number): string => `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;

/** The list as a table, then the folders skipped. */
export function formatRunList(list: RunList, where: string, width?: number): string {
  if (list.runs.length === 0) return `No runs in ${where}/.${list.skipped.length ? ` Skipped: ${list.skipped.join('; ')}.` : ''}\n`;
  const rows = list.runs.map((run) => [
    run.folder === run.name ? run.folder : `${run.folder} (${run.name})`,
    run.state,
    `${run.ok}/${run.total}`,
    `${usd(run.paidUsd)}${run.unknownPrice ? ` + ${run.unknownPrice} unpriced` : ''}`,
    run.adoptedUsd ? usd(run.adoptedUsd) : '-',
    when(run.lastActivity),
  ]);
  const table = alignTable([['run', 'state', 'ok/jobs', 'paid', 'adopted', 'last activity'], ...rows], { numericFrom: 2, ...(width === undefined ? {} : { width }) });
  const notes = list.skipped.map((note) => `Skipped ${note}.`);
  const adopted = list.runs.some((run) => run.adoptedUsd) ? ['adopted: succeeded tasks made elsewhere with the same ids (paid before, not by that folder).'] : [];
  return [`${list.runs.length} run(s) in ${where}/, the most recently active first:`, table, ...adopted, ...notes, ''].join('\n');
}

/** Prints the runs under `root` (as JSON: the RunList); usage error when it is not a folder. */
export function printRuns(root: string, io: Pick<CliIO, 'cwd' | 'stdout' | 'columns'>, json = false): number {
  let isDir = false;
  try {
    isDir = statSync(root).isDirectory();
  } catch {
    // handled below
  }
  const where = relative(io.cwd, root) || '.';
  if (!isDir) throw new UsageError(`${where} is not a folder: give an output root, the folder that holds the run folders (e.g. output).`);
  const list = listRuns(root);
  io.stdout(json ? `${JSON.stringify(list, null, 2)}\n` : formatRunList(list, where, io.columns));
  return EXIT.ok;
}

export const runsCommand = defineCommand({
  usage: USAGE,
  options: {
    json: { type: 'boolean', description: 'print the list as JSON: { runs: [{ folder, name, state, ok, total, paidUsd, adoptedUsd, unknownPrice, lastActivity (ms) }], skipped: [notes] }' },
  },
  examples: [
    { command: 'klingrun runs', description: "the runs in this project's output/ (found as for a manifest in the current folder)" },
    { command: 'klingrun runs out', description: 'the runs in out/ (e.g. the shards of a batch run with --output out/shard-N)' },
  ],
  async run(args, io) {
    if (args.positionals.length > 1) throw new UsageError(`Expected at most one output root, got ${args.positionals.length} arguments. Usage: ${USAGE}`);
    const given = args.positionals[0];
    // Where a manifest in the current folder would put its runs (state/output-folder.ts).
    const root = given === undefined ? defaultOutputRoot(join(io.cwd, 'klingrun.yaml'), io.cwd) : resolve(io.cwd, given);
    const json = booleanOption(args, 'json');
    if (given === undefined && !existsSync(root)) {
      const none: RunList = { runs: [], skipped: [] };
      io.stdout(json ? `${JSON.stringify(none)}\n` : `No runs yet: ${relative(io.cwd, root) || '.'}/ does not exist. Give the output root: \`klingrun runs <folder>\`.\n`);
      return EXIT.ok;
    }
    return printRuns(root, io, json);
  },
});
