// `klingrun rate`: keep / reject / clear clips of an output folder by the start of their job id, or
// import the ratings.json the gallery saved; ratings.json changes, and so does the folder's gallery.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { rateCommand } from '../src/cli/commands/rate.js';
import { writeGallery } from '../src/report/gallery.js';
import { readRatings } from '../src/report/ratings.js';
import { runCommand, tempTree } from './helpers/manifest.js';
import { examplePlan, outputFolder } from './helpers/reports.js';

/** An output folder of the example (jobs 0 and 2 succeeded), with its gallery; `rate` run from its parent. */
async function folder() {
  const { dir, report } = outputFolder(await examplePlan(), ['succeeded', 'failed', 'succeeded']);
  writeGallery(dir, report);
  const ids = report.jobs.map((job) => job.id);
  const rate = (positionals: string[], values: Record<string, string | boolean>) => runCommand(rateCommand, { positionals: [basename(dir), ...positionals], values }, dirname(dir));
  const gallery = () => readFileSync(join(dir, 'gallery.html'), 'utf8');
  return { dir, report, ids, rate, gallery };
}

/** The shortest prefix that names only `id` among `ids`. */
const unique = (id: string, ids: readonly string[]): string => {
  for (let n = 1; ; n++) if (ids.filter((other) => other.startsWith(id.slice(0, n))).length === 1) return id.slice(0, n);
};

describe('klingrun rate', () => {
  it('keeps, rejects and clears clips named by the start of their id (or external id), says what changed, and rewrites the gallery', async () => {
    const { dir, report, ids, rate, gallery } = await folder();
    const [a, b, c] = ids as [string, string, string];
    const out = basename(dir);
    const kept = await rate([unique(a, ids), c.slice(0, 20).toUpperCase()], { keep: true });
    expect(kept).toMatchObject({ code: 0, stderr: '' });
    expect(kept.stdout).toBe(
      `unrated → keep  ${a.slice(0, 12)}  images/harbor.png  kling-v2-6 std 5s  succeeded\n` +
        `unrated → keep  ${c.slice(0, 12)}  images/harbor.png  kling-v2-5-turbo std 5s  succeeded\n` +
        `2 changed; ratings.json has 2 kept, 0 rejected. Wrote ratings.json, gallery.html in ${out}/\n`,
    );
    expect(readRatings(dir)).toEqual(new Map([[a, 'keep'], [c, 'keep']]));
    expect(gallery()).toContain(`<div class="clip r-keep" tabindex="-1" data-id="${a}"`);

    const rejected = await rate([report.jobs[1]?.external_task_id as string], { reject: true });
    expect(rejected.stdout).toMatch(new RegExp(`^unrated → reject  ${b.slice(0, 12)}  images/harbor.png  kling-v2-6 pro 5s  failed\n`));
    const cleared = await rate([a.slice(0, 16)], { clear: true });
    expect(cleared.stdout).toMatch(new RegExp(`^keep → unrated  ${a.slice(0, 12)} .*\n1 changed; ratings.json has 1 kept, 1 rejected\\.`));
    expect(readRatings(dir)).toEqual(new Map([[b, 'reject'], [c, 'keep']]));
    expect(gallery()).not.toContain(`r-keep" tabindex="-1" data-id="${a}"`);
    expect(await rate([c.slice(0, 16)], { keep: true })).toMatchObject({ code: 0, stdout: `Nothing changed: the clip is already rated so in ${out}/ratings.json.\n` });
  });

  it('refuses a prefix that names no job, or several (listing them), before writing anything', async () => {
    const { dir, ids, rate } = await folder();
    const shared = [...'0123456789abcdef'].find((digit) => ids.filter((id) => id.startsWith(digit)).length >= 2) as string;
    expect(shared).toBeDefined(); // the example's ids are fixed: some two start alike
    const result = await rate([unique(ids[0] as string, ids), shared, 'kr-nothing'], { keep: true });
    expect(result.code).toBe(2);
    const many = ids.filter((id) => id.startsWith(shared));
    expect(result.stderr).toContain(`\`${shared}\` matches ${many.length} jobs; give more of the id:\n`);
    for (const id of many) expect(result.stderr).toContain(`  ${id.slice(0, 12)}  images/`);
    expect(result.stderr).toContain('`kr-nothing` is the start of no job id of');
    expect(existsSync(join(dir, 'ratings.json'))).toBe(false);
  });

  it('imports the file the gallery saved, merging it; refuses one that rates jobs of another folder, naming them', async () => {
    const { dir, ids, rate, gallery } = await folder();
    const [a, b] = ids as [string, string];
    await rate([a], { reject: true });
    const saved = join(tempTree(), 'ratings.json');
    writeFileSync(saved, JSON.stringify({ version: 1, ratings: { [a]: 'keep', [ids[2] as string]: 'keep' } }));
    const imported = await rate([], { import: saved });
    expect(imported).toMatchObject({ code: 0, stderr: '' });
    expect(imported.stdout).toMatch(new RegExp(`^reject → keep  ${a.slice(0, 12)}.*\nunrated → keep  ${ids[2]?.slice(0, 12)}.*\n2 changed; ratings\\.json has 2 kept, 0 rejected\\.`));
    expect(gallery()).toContain(`"ratings":{"${a}":"keep","${ids[2]}":"keep"}`);

    const stranger = 'f'.repeat(64);
    writeFileSync(saved, JSON.stringify({ version: 1, ratings: { [b]: 'keep', [stranger]: 'reject' } }));
    const refused = await rate([], { import: saved });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain(`rates 1 job(s) that are not in `);
    expect(refused.stderr).toContain(`: ${stranger}. Was it saved from the gallery of another folder? Nothing was changed.`);
    expect(readRatings(dir).get(b)).toBeUndefined();

    writeFileSync(saved, '{"version": 1, "ratings": {}}');
    expect((await rate([], { import: saved })).stdout).toBe('Nothing changed: the file rates no clip.\n');
    writeFileSync(saved, '{"version": 2}');
    expect((await rate([], { import: saved })).stderr).toMatch(/ratings\.json: `version`: .*save it again from the gallery/);
  });

  it('takes exactly one of --keep, --reject, --clear, --import, and job ids only without --import', async () => {
    const { ids, rate } = await folder();
    const id = ids[0] as string;
    expect((await rate([id], {})).stderr).toBe(`error: Give exactly one of --keep, --reject, --clear or --import FILE. Usage: ${rateCommand.usage}\n`);
    expect((await rate([id], { keep: true, reject: true })).code).toBe(2);
    expect((await rate([], { keep: true })).stderr).toMatch(/^error: Name the clips to rate by the start of their job id\./);
    expect((await rate([id], { import: 'r.json' })).stderr).toMatch(/^error: --import takes no job ids/);
  });
});
