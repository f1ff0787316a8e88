// Reports of a known shape for the gallery, export and merge tests: the example manifest's plan
// and a journal written by hand, one outcome per job, so every status is one line to set up.
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadPlan } from '../../src/plan/index.js';
import type { Plan } from '../../src/plan/schema.js';
import { replay } from '../../src/runner/job-state.js';
import { buildReport } from '../../src/report/build.js';
import type { Report } from '../../src/report/schema.js';
import { videoPath } from '../../src/runner/paths.js';
import type { JournalEvent } from '../../src/state/events.js';
import { tempTree } from './manifest.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** jobs/example.yaml: 2 images × model (2) × mode (2) = 8 jobs. */
export async function examplePlan(): Promise<Plan> {
  return (await loadPlan('jobs/example.yaml', { cwd: ROOT })).plan;
}

export type Outcome = 'succeeded' | 'failed' | 'in_flight' | 'pending' | 'timed_out';

const T0 = 1_700_000_000_000;

/** A journal in which job i ended as `outcomes[i]` (missing: pending), each taking i+1 seconds; its clip is `clip(i)`. */
export function journalFor(plan: Plan, outcomes: readonly Outcome[]): JournalEvent[] {
  const events: JournalEvent[] = [
    { ev: 'header', t: T0, version: 1, name: plan.name, tool_version: 'test' },
    { ev: 'run', t: T0, pid: 1, manifest_sha256: 'm', argv: ['run'] },
  ];
  plan.jobs.forEach((job, i) => {
    const outcome = outcomes[i] ?? 'pending';
    if (outcome === 'pending') return;
    const t = T0 + 1000;
    const base = { job: job.id, attempt: 1 } as const;
    events.push({ ev: 'submitting', t, ...base, external_task_id: job.external_task_id, request: job.request });
    events.push({ ev: 'submitted', t, ...base, task_id: `T${i}` });
    const end = t + (i + 1) * 1000;
    if (outcome === 'succeeded') {
      events.push({ ev: 'succeeded', t: end, job: job.id, task_id: `T${i}`, videos: [{ id: `v${i}`, url: `https://cdn.test/${i}.mp4`, duration: '5' }] });
      events.push({ ev: 'downloaded', t: end, job: job.id, path: videoPath(job), sha256: clipSha(i), bytes: clip(i).length, duration_s: 5, width: 256, height: 144 });
    }
    if (outcome === 'failed') events.push({ ev: 'failed', t: end, ...base, code: 1301, message: 'Failure to pass the risk control system', retriable: true });
    if (outcome === 'timed_out') events.push({ ev: 'timed_out', t: end, ...base, task_id: `T${i}` });
  });
  return events;
}

export function reportFor(plan: Plan, outcomes: readonly Outcome[], manifestPath = '../jobs/example.yaml'): Report {
  return buildReport({ plan, states: replay(journalFor(plan, outcomes)), manifest: { path: manifestPath, sha256: 'm' }, toolVersion: 'test', startedAt: T0, finishedAt: T0 + 60_000 });
}

/** The bytes of job i's clip in an outputFolder, and their sha256. */
export const clip = (i: number): Buffer => Buffer.from(`clip ${i}`);
export const clipSha = (i: number): string => createHash('sha256').update(clip(i)).digest('hex');

/** Writes what a run of `plan` leaves in `dir` apart from its report: state.jsonl and the clips on disk. */
export function writeRun(dir: string, plan: Plan, outcomes: readonly Outcome[]): JournalEvent[] {
  const events = journalFor(plan, outcomes);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'state.jsonl'), events.map((e) => JSON.stringify(e) + '\n').join(''));
  for (const event of events) {
    if (event.ev !== 'downloaded') continue;
    mkdirSync(dirname(join(dir, event.path)), { recursive: true });
    writeFileSync(join(dir, event.path), clip(plan.jobs.findIndex((job) => job.id === event.job)));
  }
  return events;
}

/**
 * An output folder (removed after the test) as `run` leaves it: report.json, state.jsonl and the
 * clips. Its report names a manifest that does not exist, so it is read as written.
 */
export function outputFolder(plan: Plan, outcomes: readonly Outcome[]): { dir: string; report: Report } {
  const dir = tempTree();
  const events = writeRun(dir, plan, outcomes);
  const report = buildReport({ plan, states: replay(events), manifest: { path: '../gone.yaml', sha256: 'm' }, toolVersion: 'test' });
  writeFileSync(join(dir, 'report.json'), JSON.stringify(report));
  return { dir, report };
}

/**
 * An output folder (see outputFolder) whose report names the real example manifest, so the source
 * images resolve from it, but with another sha256, so the report is used as written.
 */
export function folderWithImages(plan: Plan, outcomes: readonly Outcome[]): { dir: string; report: Report } {
  const { dir, report } = outputFolder(plan, outcomes);
  const placed: Report = { ...report, manifest: { ...report.manifest, path: relative(dir, join(ROOT, 'jobs/example.yaml')) } };
  writeFileSync(join(dir, 'report.json'), JSON.stringify(placed));
  return { dir, report: placed };
}
