// Merging the output folders of one batch split with `run --shard i/n`: two folders run from one
// plan split in two merge into the report (and gallery) of the whole batch, videos included; the
// folders of another manifest, a job run twice, and a destination that is a run folder are handled.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { reportCommand } from '../src/cli/commands/report.js';
import type { Plan } from '../src/plan/schema.js';
import { replay } from '../src/runner/job-state.js';
import { buildReport } from '../src/report/build.js';
import { loadOutput } from '../src/report/load-output.js';
import { type MergeSource, mergeOutputs, writeMerged } from '../src/report/merge.js';
import { reportSchema } from '../src/report/schema.js';
import { readRatings, writeRatings } from '../src/report/ratings.js';
import { shardJobs } from '../src/runner/select.js';
import { runCommand, tempTree } from './helpers/manifest.js';
import { ROOT, examplePlan } from './helpers/reports.js';
import { type Harness, createHarness } from './helpers/runner-harness.js';

const MANIFEST = join(ROOT, 'jobs/example.yaml');
const MANIFEST_SHA = createHash('sha256').update(readFileSync(MANIFEST)).digest('hex');
const harnesses: Harness[] = [];
afterEach(() => harnesses.splice(0).forEach((h) => h.cleanup()));

/**
 * An output folder as `run --shard index/2` leaves it (journal, report of its slice, videos), run
 * by the real runner against the fake provider. `manifestSha` other than the real one makes the
 * folder look like a CI artifact whose manifest is not at hand (its report is used as written).
 */
async function shard(plan: Plan, index: number, options: { failPrompts?: string[]; manifestSha?: string; all?: boolean } = {}): Promise<MergeSource> {
  const slice = { ...plan, jobs: options.all ? plan.jobs : shardJobs(plan.jobs, { index, count: 2 }) };
  const harness = createHarness(slice);
  harnesses.push(harness);
  for (const prompt of options.failPrompts ?? []) harness.provider.failPrompts.add(prompt);
  await harness.run({ overrides: { manifestDir: join(ROOT, 'jobs') } });
  const dir = harness.outputDir;
  const report = buildReport({ plan: slice, states: replay(harness.events), manifest: { path: relative(dir, MANIFEST), sha256: options.manifestSha ?? MANIFEST_SHA }, toolVersion: 'test', startedAt: 1000 * index, finishedAt: 5000 * index });
  writeFileSync(join(dir, 'report.json'), JSON.stringify(report));
  writeFileSync(join(dir, 'state.jsonl'), harness.events.map((e) => JSON.stringify(e) + '\n').join(''));
  return { dir, report, states: replay(harness.events), hasJournal: true };
}

const sha256Of = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

describe('merging shards', () => {
  it('joins two halves of one plan into the report of the whole batch, with every video in place', async () => {
    const plan = await examplePlan();
    const sources = [await shard(plan, 1, { manifestSha: 'artifact' }), await shard(plan, 2, { manifestSha: 'artifact' })];
    expect(sources.map((s) => s.report.jobs.length)).toEqual([expect.any(Number), 8 - sources[0]!.report.jobs.length]);
    const dest = join(tempTree(), 'merged');
    const merged = mergeOutputs(sources, dest);
    writeMerged(merged, sources, dest);

    const report = reportSchema.parse(JSON.parse(readFileSync(join(dest, 'report.json'), 'utf8')));
    expect(report.jobs.map((j) => j.id).sort()).toEqual(plan.jobs.map((j) => j.id).sort());
    expect(report.totals).toMatchObject({ jobs: 8, succeeded: 8, pending: 0 });
    expect(report.by_variant.map((v) => `${v.model_name} ${v.mode} ${v.jobs}/${v.succeeded}`).sort()).toEqual([
      'kling-v2-5-turbo pro 2/2',
      'kling-v2-5-turbo std 2/2',
      'kling-v2-6 pro 2/2',
      'kling-v2-6 std 2/2',
    ]);
    expect(resolve(dest, report.manifest.path)).toBe(MANIFEST);
    expect({ started: report.started_at, finished: report.finished_at }).toEqual({ started: new Date(1000).toISOString(), finished: new Date(10_000).toISOString() });
    for (const job of report.jobs) expect(sha256Of(join(dest, job.video!.path!))).toBe(job.video!.sha256);
    // Every path in the merged report is from the merged folder, source images included.
    for (const job of report.jobs) expect(sha256Of(join(dest, job.image_path!))).toBe((job.params!.image as { sha256: string }).sha256);
    expect(merged.videos).toHaveLength(8);
    expect(merged.warnings).toEqual([]);
  });

  it('is what `klingrun report --merge` writes, with the gallery, from folders whose manifest is at hand', async () => {
    const plan = await examplePlan();
    const [a, b] = [await shard(plan, 1), await shard(plan, 2)];
    // With the manifest there, a folder's report is rebuilt from its journal, still covering its slice only.
    const rebuilt = await loadOutput(a!.dir, { cwd: ROOT });
    expect(rebuilt).toMatchObject({ rebuilt: true, report: { totals: { jobs: a!.report.jobs.length, succeeded: a!.report.jobs.length } } });
    // Curated in each shard: the merged folder keeps every rating, the first folder's where both rate a job.
    const [ja, jb] = [a!.report.jobs[0]!.id, b!.report.jobs[0]!.id];
    writeRatings(a!.dir, new Map([[ja, 'keep'], [jb, 'keep']]));
    writeRatings(b!.dir, new Map([[jb, 'reject']]));
    const dest = join(tempTree(), 'merged');
    const result = await runCommand(reportCommand, { positionals: [a!.dir, b!.dir], values: { merge: true, output: dest } }, ROOT);
    expect(readRatings(dest)).toEqual(new Map([[ja, 'keep'], [jb, 'keep']]));
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toMatch(/8 job\(s\): 8 succeeded\. .*\nWrote report\.json, gallery\.html, 8 video\(s\) in .*merged\/\n$/);
    const gallery = readFileSync(join(dest, 'gallery.html'), 'utf8');
    const sources = [...gallery.matchAll(/<video src="([^"]+)"/g)].map((m) => decodeURIComponent(m[1]!));
    expect(sources).toHaveLength(8);
    for (const src of sources) expect(existsSync(join(dest, src))).toBe(true);
  });

  it('keeps the furthest state of a job that ran in two folders, and warns it may have been paid twice', async () => {
    const plan = await examplePlan();
    const harbor = plan.jobs[0]!.request.prompt!;
    const good = await shard(plan, 1, { all: true });
    const bad = await shard(plan, 1, { all: true, failPrompts: [harbor] });
    const merged = mergeOutputs([bad, good], join(tempTree(), 'merged'));
    expect(merged.report.totals).toMatchObject({ jobs: 8, succeeded: 8, failed: 0 });
    expect(merged.warnings).toHaveLength(8);
    expect(merged.warnings[0]).toMatch(new RegExp(`^job [0-9a-f]{12} was submitted from 2 folders \\(${bad.dir}: task T\\d, ${good.dir}: task T\\d\\); each may have been paid for\\. The report keeps the one from ${good.dir}$`));
    // The documented rule, whatever order the jobs finished in: warnings in plan order; the furthest
    // state wins, and between equal ones the folder named first.
    const kept = merged.warnings.map((warning) => warning.slice(warning.lastIndexOf(' from ') + 6));
    const expected = plan.jobs.map((job) => (job.request.prompt === harbor ? good.dir : bad.dir));
    expect(merged.warnings.map((warning) => warning.slice(4, 16))).toEqual(plan.jobs.map((job) => job.id.slice(0, 12)));
    expect(kept).toEqual(expected);
    expect(mergeOutputs([good, bad], join(tempTree(), 'merged')).warnings.map((w) => w.slice(w.lastIndexOf(' from ') + 6))).toEqual(plan.jobs.map(() => good.dir));
  });

  it('refuses folders of different manifests, folders without a journal, and a destination that is a run folder', async () => {
    const plan = await examplePlan();
    const a = await shard(plan, 1);
    const other = await shard({ ...plan, name: 'other' }, 2);
    const renamed = { ...other, report: { ...other.report, manifest: { ...other.report.manifest, name: 'other' } } };
    expect(() => mergeOutputs([a, renamed], tempTree())).toThrow(/^Only folders of the same batch can be merged, but these belong to different manifests: .*\("example"\), .*\("other"\)\. Merge the folders of one manifest name at a time\.$/);
    expect(() => mergeOutputs([a, { ...a, states: new Map(), hasJournal: false }], tempTree())).toThrow(/has no state\.jsonl, which the merge reads/);
    const merged = mergeOutputs([a], tempTree());
    expect(() => writeMerged(merged, [a], a.dir)).toThrow(/is the output folder of a run \(it has a state\.jsonl\); merging into it would mix two records\. Give --output a new folder\./);
  });

  it('needs the folders and --output', async () => {
    const result = await runCommand(reportCommand, { positionals: [], values: { merge: true } }, ROOT);
    expect(result).toMatchObject({ code: 2, stderr: expect.stringMatching(/^error: --merge needs the output folders to merge and --output DIR for the result\./) });
  });
});
