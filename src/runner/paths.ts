// Where a job's video lands: `videos/<variant folder>/<image-stem>__<job-id-12>[_r<k>].mp4`,
// relative to the output folder. The variant folder (plan/variants.ts) depends on the job alone,
// so the layout is the same in every shard and across reruns of a growing manifest.
import { posix } from 'node:path';
import { frameOf, type PlannedJob } from '../plan/schema.js';
import { variantOf } from '../plan/variants.js';

const unsafe = /[^A-Za-z0-9._-]+/g;

function stemOf(job: PlannedJob): string {
  if (job.name) return job.name.replace(unsafe, '_');
  // An end-frame-only job is named after its end frame.
  const image = frameOf(job.request);
  const base = image.kind === 'file' ? posix.basename(image.path) : posix.basename(new URL(image.url).pathname) || 'image';
  const stem = base.replace(/\.[^.]*$/, '');
  return (stem || 'image').replace(unsafe, '_').slice(0, 80);
}

export function videoPath(job: PlannedJob): string {
  const repeat = job.repeats > 1 ? `_r${job.repeat}` : '';
  // Joined, not posix.join'ed: no part holds a slash or is `.` or `..`. The path is held by every
  // job of a run (100,000 of them), so it is made compact: posix.join builds it as a chain of pieces,
  // and V8 stores a text derived from an interned one (the model name) at two bytes a character.
  // Every character is ASCII (see `unsafe` and the variant folder), so a latin1 round trip keeps it
  // as it is, at one byte a character: 120 bytes a path instead of 336.
  const path = ['videos', variantOf(job).folder, `${stemOf(job)}__${job.id.slice(0, 12)}${repeat}.mp4`].join('/');
  return Buffer.from(path, 'latin1').toString('latin1');
}
