// Where a job's video lands: `videos/<model>_<mode>_<duration>s/<image-stem>__<job-id-12>[_r<k>].mp4`,
// relative to the output folder, so the layout is predictable and stable across reruns.
import { posix } from 'node:path';
import { type PlannedJob, effectiveParams } from '../plan/schema.js';

const unsafe = /[^A-Za-z0-9._-]+/g;

function stemOf(job: PlannedJob): string {
  if (job.name) return job.name.replace(unsafe, '_');
  const image = job.request.image;
  const base = image.kind === 'file' ? posix.basename(image.path) : posix.basename(new URL(image.url).pathname) || 'image';
  const stem = base.replace(/\.[^.]*$/, '');
  return (stem || 'image').replace(unsafe, '_').slice(0, 80);
}

/** The variant folder name, e.g. `kling-v2-6_pro_5s` (`default` for models with one quality level). */
export function variantFolder(job: PlannedJob): string {
  const { model_name, mode, duration } = effectiveParams(job.request);
  return `${model_name}_${mode ?? 'default'}_${duration}s`.replace(unsafe, '_');
}

export function videoPath(job: PlannedJob): string {
  const repeat = job.repeats > 1 ? `_r${job.repeat}` : '';
  return posix.join('videos', variantFolder(job), `${stemOf(job)}__${job.id.slice(0, 12)}${repeat}.mp4`);
}
