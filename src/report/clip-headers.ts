// Clips downloaded before their frame rate, codec and frame count were recorded have none in the
// journal; the export reads them from the files' own headers instead, so every row that has a
// clip has them.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { probeMp4 } from '../runner/mp4.js';
import type { Report, ReportJob } from './schema.js';

/** The job with fps, codec and frames read from its clip when the journal had none. */
export function withHeader(job: ReportJob, outputDir: string): ReportJob {
  const video = job.video;
  if (!video?.path || (video.codec ?? null) !== null || job.status !== 'succeeded') return job;
  let bytes: Buffer;
  try {
    bytes = readFileSync(join(outputDir, video.path));
  } catch {
    return job; // not there, a folder, unreadable: its columns stay null
  }
  const probe = probeMp4(bytes);
  return probe.ok ? { ...job, video: { ...video, fps: probe.fps, codec: probe.codec, frames: probe.frames } } : job;
}

/** The report with fps, codec and frames filled in from the clips in `outputDir` where the journal had none. */
export function withClipHeaders(report: Report, outputDir: string): Report {
  return { ...report, jobs: report.jobs.map((job) => withHeader(job, outputDir)) };
}
