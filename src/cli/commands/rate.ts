// `klingrun rate <output-folder> <job-id-prefix>… --keep|--reject|--clear`, or `--import FILE`:
// edits the folder's ratings.json (report/ratings.ts), the verdicts `export --where rating=keep`
// reads, and rewrites the folder's gallery so its page shows them.
import { existsSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { InputError, UsageError } from '../../errors.js';
import { frameOf } from '../../plan/schema.js';
import { variantOf } from '../../plan/variants.js';
import { GALLERY_FILE, writeGallery } from '../../report/gallery.js';
import { loadOutput } from '../../report/load-output.js';
import { RATINGS_FILE, type Rating, parseRatings, readRatings, writeRatings } from '../../report/ratings.js';
import type { ReportJob } from '../../report/schema.js';
import { namedBy } from '../../runner/select.js';
import { booleanOption, stringOption } from '../args.js';
import { EXIT } from '../exit-codes.js';
import { type CommandArgs, defineCommand } from '../io.js';
import { cliLogger } from '../logger.js';

const USAGE = 'klingrun rate <output-folder> <job-id-prefix>… --keep|--reject|--clear | klingrun rate <output-folder> --import FILE';

const OPTIONS = {
  keep: { type: 'boolean', description: 'keep the clips: `export --where rating=keep` takes them' },
  reject: { type: 'boolean', description: 'reject the clips' },
  clear: { type: 'boolean', description: 'remove the clips\' ratings' },
  import: { type: 'string', value: 'FILE', description: 'merge a ratings.json saved from the gallery page into the folder\'s (its verdicts win)' },
} as const;

/** What a job is, for people: its short id, its name or image, its variant. */
interface JobLine {
  readonly id: string;
  readonly external_task_id: string | null;
  readonly text: string;
}

const SHORT = 12;

function jobLine(job: ReportJob): JobLine {
  const image = job.params ? frameOf(job.params) : null;
  const source = job.name ?? (image ? (image.kind === 'file' ? image.path : image.url) : '');
  const variant = job.params ? variantOf({ request: job.params, variant: job.variant }).label : '';
  return { id: job.id, external_task_id: job.external_task_id, text: [job.id.slice(0, SHORT), source, variant, job.status.replace(/_/g, ' ')].filter(Boolean).join('  ') };
}

/**
 * The one job each prefix names (of its id or its external_task_id, as `run --only`), every
 * prefix checked before anything is written: all problems are told at once.
 */
function matchPrefixes(prefixes: readonly string[], jobs: readonly JobLine[], where: string): JobLine[] {
  const problems: string[] = [];
  const found = new Map<string, JobLine>();
  for (const prefix of prefixes.map((p) => p.toLowerCase())) {
    const hits = prefix === '' ? [] : jobs.filter((job) => namedBy(job, prefix));
    const [hit] = hits;
    if (hits.length === 1 && hit) found.set(hit.id, hit);
    else if (hits.length === 0) problems.push(`\`${prefix}\` is the start of no job id of ${where} (ids are in report.json, and under each clip of gallery.html)`);
    else problems.push(`\`${prefix}\` matches ${hits.length} jobs; give more of the id:\n${hits.slice(0, 10).map((job) => `  ${job.text}`).join('\n')}${hits.length > 10 ? `\n  … and ${hits.length - 10} more` : ''}`);
  }
  if (problems.length) throw new UsageError(problems.join('\n'));
  return [...found.values()];
}

/** The verdicts of an imported ratings file; each must be for a job of this folder. */
function importFile(file: string, cwd: string, jobs: ReadonlyMap<string, JobLine>, where: string): [JobLine, Rating][] {
  const path = resolve(cwd, file);
  if (!existsSync(path)) throw new InputError('input_missing', `Cannot find ${file}: give the ratings.json the gallery's "Save ratings" button downloaded.`);
  const entries = [...parseRatings(readFileSync(path, 'utf8'), file)];
  const unknown = entries.filter(([id]) => !jobs.has(id)).map(([id]) => id);
  if (unknown.length) {
    throw new InputError(
      'input_invalid',
      `${file} rates ${unknown.length} job(s) that are not in ${where}: ${unknown.slice(0, 5).join(', ')}${unknown.length > 5 ? `, … and ${unknown.length - 5} more` : ''}. Was it saved from the gallery of another folder? Nothing was changed.`,
    );
  }
  return entries.map(([id, rating]) => [jobs.get(id) as JobLine, rating]);
}

const verdict = (rating: Rating | undefined): string => rating ?? 'unrated';

/** Which of --keep, --reject, --clear, --import was given (exactly one). */
function action(args: CommandArgs<typeof OPTIONS>): Rating | 'clear' | { import: string } {
  const file = stringOption(args, 'import');
  const given = (['keep', 'reject', 'clear'] as const).filter((name) => booleanOption(args, name));
  if (given.length + (file === undefined ? 0 : 1) !== 1) throw new UsageError(`Give exactly one of --keep, --reject, --clear or --import FILE. Usage: ${USAGE}`);
  return file === undefined ? (given[0] as Rating | 'clear') : { import: file };
}

export const rateCommand = defineCommand({
  usage: USAGE,
  options: OPTIONS,
  examples: [
    { command: 'klingrun rate output/example 3f2a9c 81be04 --keep', description: 'keep two clips, named by the start of their job id' },
    { command: 'klingrun rate output/example --import ~/Downloads/ratings.json', description: 'take the ratings saved from the gallery page' },
  ],
  async run(args, io) {
    const what = action(args);
    const [folder, ...prefixes] = args.positionals;
    if (folder === undefined) throw new UsageError(`Expected an output folder. Usage: ${USAGE}`);
    if (typeof what === 'object' ? prefixes.length > 0 : prefixes.length === 0) {
      throw new UsageError(typeof what === 'object' ? `--import takes no job ids (the file names them). Usage: ${USAGE}` : `Name the clips to rate by the start of their job id. Usage: ${USAGE}`);
    }
    const loaded = await loadOutput(folder, { cwd: io.cwd, logger: cliLogger(io.stderr, false), keepReproduce: false });
    const where = `${relative(io.cwd, loaded.dir) || '.'}/`;
    const ratings = readRatings(loaded.dir);
    const jobs = new Map<string, JobLine>();
    for (const job of loaded.stream.jobs()) jobs.set(job.id, jobLine(job));
    const wanted: [JobLine, Rating | undefined][] =
      typeof what === 'object' ? importFile(what.import, io.cwd, jobs, where) : matchPrefixes(prefixes, [...jobs.values()], where).map((job) => [job, what === 'clear' ? undefined : what]);

    const changed = wanted.filter(([job, rating]) => ratings.get(job.id) !== rating);
    for (const [job, rating] of changed) {
      io.stdout(`${verdict(ratings.get(job.id))} → ${verdict(rating)}  ${job.text}\n`);
      if (rating) ratings.set(job.id, rating);
      else ratings.delete(job.id);
    }
    if (changed.length === 0) {
      const why = wanted.length === 0 ? 'the file rates no clip' : `${wanted.length === 1 ? 'the clip is' : `the ${wanted.length} clips are`} already rated so in ${where}${RATINGS_FILE}`;
      io.stdout(`Nothing changed: ${why}.\n`);
      return EXIT.ok;
    }
    writeRatings(loaded.dir, ratings);
    const gallery = existsSync(join(loaded.dir, GALLERY_FILE));
    if (gallery) writeGallery(loaded.dir, loaded.stream);
    const kept = [...ratings.values()].filter((r) => r === 'keep').length;
    io.stdout(`${changed.length} changed; ${RATINGS_FILE} has ${kept} kept, ${ratings.size - kept} rejected. Wrote ${RATINGS_FILE}${gallery ? `, ${GALLERY_FILE}` : ''} in ${where}\n`);
    return EXIT.ok;
  },
});
