// The crash suite's short form: the real CLI, SIGKILLed at seeded moments against an emulator full
// of faults, rerun until the batch finishes, under every duplicate-id behaviour with external-id
// lookups and the list on and off, in both emulator profiles, and with lagging lookups and a large
// account; then the other ways a run dies: a torn journal line, a deleted video, a full
// disk, a second runner. The long form is `npm run soak`. Set CRASH_SEED to explore other seeds.
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { EmulatorOptionsInput } from '../src/emulator/index.js';
import { type DownloadFs, nodeDownloadFs } from '../src/runner/download.js';
import { replay } from '../src/runner/job-state.js';
import { BEHAVIOURS, type Behaviour, CRASH_FAULTS, PROFILES, type Profile, SHAPES, type WorldShape, cliBatch, crashBatch, describeBehaviour, filesUnder, readReport, removeOutput, runInProcess } from './helpers/crash.js';
import { emulator } from './helpers/emulator.js';
import { makePlan } from './helpers/runner-harness.js';

const SEED = Number(process.env.CRASH_SEED ?? 20_251_124);
const BATCH = fileURLToPath(new URL('fixtures/crash/batch.yaml', import.meta.url));
const PAIR = fileURLToPath(new URL('fixtures/crash/pair.yaml', import.meta.url));

/**
 * The soak's faults, with fewer cut downloads and 1303s (each costs the CLI a backoff of up to
 * 1 s), after one certain create that takes effect and then hangs: every batch's first kill lands
 * while that create is unanswered, so each behaviour proves the resume of a task whose answer was lost.
 */
const SHORT_FAULTS: NonNullable<EmulatorOptionsInput['faults']> = [
  { kind: 'hang-after-call', on: ['create'], count: 1 },
  ...CRASH_FAULTS.map((fault) => (fault.kind === 'truncated-download' || fault.kind === 'storm1303' ? { ...fault, p: 0.1 } : fault)),
];

function shape(name: string): WorldShape {
  const found = SHAPES.find((candidate) => candidate.name === name);
  if (!found) throw new Error(`no world shape named ${name}`);
  return found;
}

/** Every behaviour in both profiles; the other shapes of the world with the behaviours they matter to. */
const BATCHES = [
  ...PROFILES.flatMap((profile) => BEHAVIOURS.map((behaviour) => ({ behaviour, profile, shape: SHAPES[0]! }))),
  { behaviour: { duplicateExternalId: 'accept', externalIdLookup: true, listSupported: true }, profile: 'live', shape: SHAPES[1]! },
  { behaviour: { duplicateExternalId: 'accept', externalIdLookup: false, listSupported: true }, profile: 'default', shape: SHAPES[2]! },
  { behaviour: { duplicateExternalId: 'reject', externalIdLookup: true, listSupported: true }, profile: 'default', shape: shape('stale URLs') },
  // A provider that would make a second task for a resent id is where a late create pays twice.
  { behaviour: { duplicateExternalId: 'accept', externalIdLookup: true, listSupported: false }, profile: 'live', shape: shape('late creates') },
  { behaviour: { duplicateExternalId: 'return-existing', externalIdLookup: true, listSupported: true }, profile: 'live', shape: shape('odd answers') },
  // Without lookups the list is scanned, and a scan stops at tasks older than the submit.
  { behaviour: { duplicateExternalId: 'accept', externalIdLookup: false, listSupported: true }, profile: 'default', shape: shape('skewed clock') },
] as const satisfies readonly { behaviour: Behaviour; profile: Profile; shape: WorldShape }[];

describe('SIGKILL at random moments, rerun until the batch finishes', () => {
  it.each(BATCHES.map(({ behaviour, profile, shape }, i) => [describeBehaviour(behaviour, profile, shape), behaviour, profile, shape, SEED + i] as const))(
    '%s: every job paid at most once, every video on disk with its sha256, no key anywhere',
    async (_, behaviour, profile, shape, seed) => {
      const result = await crashBatch({ seed, manifest: BATCH, behaviour, profile, shape, kills: 1, faults: SHORT_FAULTS, firstKill: 'pending-submit' });
      const context = `seed ${seed} (CRASH_SEED=${SEED}), ${describeBehaviour(behaviour, profile, shape)}, runs: ${JSON.stringify(result.runs)}, output kept in ${result.outputDir}`;
      expect(result.problems, context).toEqual([]);
      expect(result.kills, context).toBe(1);
      removeOutput(result.outputDir);
    },
    // A batch takes 2-4 s; the slack is for a loaded machine, where each CLI start costs more.
    60_000,
  );
});

const batchOf = (manifest: string, emulatorOptions: EmulatorOptionsInput = {}, flags: readonly string[] = []) =>
  cliBatch(manifest, { emulator: emulatorOptions, flags, cleanup: (teardown) => onTestFinished(async () => void (await teardown())) });

describe('other ways a run dies', () => {
  it('keeps running while every job waits between polls, against a provider in another process (regression: exit 13)', async () => {
    const batch = await batchOf(PAIR, {}, ['--poll-interval', '0.3']);
    const result = await batch.run();
    expect(result.code, result.stderr).toBe(0);
    expect(await batch.problems()).toEqual([]);
  });

  it('a torn last journal line: the rerun warns, drops it, finds the task of the lost `submitted`, pays nothing twice', async () => {
    const batch = await batchOf(BATCH, { duplicateExternalId: 'reject' });
    const cli = batch.spawn();
    expect(await cli.waitFor((lines) => lines.filter((line) => line.includes(': submitted, task')).length >= 2)).toBe(true);
    batch.results.push(await cli.kill());
    // Crash while writing the last `submitted` line: cut it in half and drop everything after it.
    const file = join(batch.outputDir, 'state.jsonl');
    const text = readFileSync(file, 'utf8');
    const start = text.lastIndexOf('"ev":"submitted"');
    const lineStart = text.lastIndexOf('\n', start) + 1;
    const lineEnd = text.indexOf('\n', start);
    const tornJob = (JSON.parse(text.slice(lineStart, lineEnd)) as { job: string }).job;
    truncateSync(file, Buffer.byteLength(text.slice(0, lineStart + Math.floor((lineEnd - lineStart) / 2))));

    const rerun = await batch.run();
    // Another job's create may have been on its way at the kill: that job waits out the transit window.
    const last = rerun.code === 1 ? await batch.runAfterTransit() : rerun;
    expect(last.code, `${rerun.stdout}\n${last.stdout}\n${last.stderr}`).toBe(0);
    expect(rerun.stderr).toMatch(/state\.jsonl: ignoring the incomplete last line \(line \d+\)/);
    // The line held a task id (its create had been answered): the warning must not claim nothing was sent.
    expect(rerun.stderr).toContain('a task whose id it held is looked up by its external_task_id before anything is sent again');
    expect(await batch.problems()).toEqual([]);
    // The job whose answer was lost with the line was adopted, not submitted again.
    expect(replay(batch.events()).get(tornJob)?.adoptedVia).toMatch(/^(lookup|duplicate)$/);
  });

  it('a deleted or damaged video: the rerun downloads it again, creating no task', async () => {
    const batch = await batchOf(PAIR);
    expect((await batch.run()).code).toBe(0);
    const [deleted, damaged] = readReport(batch.outputDir).jobs;
    rmSync(join(batch.outputDir, deleted!.video!.path!));
    writeFileSync(join(batch.outputDir, damaged!.video!.path!), 'not the video');
    const before = batch.emu.stats();

    const rerun = await batch.run();
    expect(rerun.code, rerun.stderr).toBe(0);
    const after = batch.emu.stats();
    expect(after.requestsByRoute.create).toBe(before.requestsByRoute.create);
    expect(after.requestsByRoute.download).toBe(before.requestsByRoute.download + 2);
    expect(readReport(batch.outputDir).jobs.map((job) => job.video?.sha256)).toEqual([deleted!.video!.sha256, damaged!.video!.sha256]);
    expect(await batch.problems()).toEqual([]);
  });

  it('a full disk while downloading: the job stays succeeded-not-downloaded, submits stop, a later run downloads it', async () => {
    const key = `sk-crash-${randomBytes(12).toString('hex')}`;
    const emu = await emulator({ keys: [key], timeScale: 0.002, queueS: 5, processingS: 100 });
    const plan = makePlan(3);
    const full: DownloadFs = {
      ...nodeDownloadFs,
      async open(path, flags) {
        const handle = await nodeDownloadFs.open(path, flags);
        return {
          write: async () => {
            throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
          },
          sync: () => handle.sync(),
          close: () => handle.close(),
        };
      },
    };
    const first = await runInProcess(emu, plan, { key, limits: { concurrency: 1 }, overrides: { fs: full } });
    onTestFinished(() => rmSync(first.outputDir, { recursive: true, force: true }));
    expect((first.result.stopReason as NodeJS.ErrnoException | undefined)?.code).toBe('ENOSPC');
    const phases = plan.jobs.map((job) => first.result.states.get(job.id)?.phase ?? 'pending');
    expect(phases).toContain('succeeded');
    // Submitting stopped at the full disk (one slot: the last job never got its turn).
    expect(phases).toContain('pending');
    expect(phases.every((phase) => phase === 'succeeded' || phase === 'pending')).toBe(true);
    expect(first.events.some((e) => e.ev === 'downloaded' || e.ev === 'failed')).toBe(false);
    expect(first.warnings.join('\n')).toContain('no space left on device');
    expect(filesUnder(first.outputDir).filter((file) => file.endsWith('.mp4') || file.endsWith('.part'))).toEqual([]);
    const createdBefore = emu.stats().tasksCreated;

    const second = await runInProcess(emu, plan, { key, outputDir: first.outputDir });
    expect(second.result.stopReason).toBeUndefined();
    expect(plan.jobs.map((job) => second.result.states.get(job.id)?.phase)).toEqual(['downloaded', 'downloaded', 'downloaded']);
    expect(emu.stats().tasksByExternalId).toEqual(Object.fromEntries(plan.jobs.map((job) => [job.external_task_id, 1])));
    // The succeeded jobs were downloaded, not submitted again.
    expect(emu.stats().tasksCreated - createdBefore).toBe(phases.filter((phase) => phase === 'pending').length);
  });

  it('two runners started together on one folder: one runs, the other exits 2 naming its pid, nothing is paid twice', async () => {
    const batch = await batchOf(PAIR, { processingS: 250 });
    const runners = [batch.spawn(), batch.spawn()];
    const results = await Promise.all(runners.map((runner) => runner.done));
    batch.results.push(...results);
    const loser = results.findIndex((result) => result.code === 2);
    const winner = 1 - loser;
    expect(results.map((result) => result.code).sort(), results.map((result) => result.stderr).join('\n')).toEqual([0, 2]);
    expect(results[loser]!.stderr).toContain(`Another klingrun (pid ${runners[winner]!.pid}`);
    expect(results[loser]!.stdout).toBe('');
    expect(await batch.problems()).toEqual([]);
  });
});
