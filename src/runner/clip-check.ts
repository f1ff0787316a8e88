// Is a downloaded clip still on disk as the journal recorded it? The size and mtime recorded at
// download time answer for an untouched file without reading it; anything else is hashed.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import PQueue from 'p-queue';
import type { Download } from './job-state.js';

export type ClipCheck = 'intact' | 'missing' | 'changed';

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export async function checkDownload(outputDir: string, download: Download): Promise<ClipCheck> {
  const path = join(outputDir, download.path);
  let info;
  try {
    info = await stat(path);
  } catch {
    return 'missing';
  }
  if (!info.isFile()) return 'missing';
  if (info.size !== download.bytes) return 'changed';
  // Whole milliseconds: what every file system keeps, and what a JSON number carries exactly.
  if (download.mtime_ms !== undefined && Math.round(info.mtimeMs) === download.mtime_ms) return 'intact';
  try {
    return (await sha256Of(path)) === download.sha256 ? 'intact' : 'changed';
  } catch {
    return 'missing';
  }
}

/** Checks many clips, several at a time (a resume of 10,000 clips must not read them one by one). */
export async function checkDownloads(outputDir: string, downloads: Iterable<readonly [id: string, download: Download]>, concurrency = 8): Promise<Map<string, ClipCheck>> {
  const queue = new PQueue({ concurrency });
  const results = new Map<string, ClipCheck>();
  for (const [id, download] of downloads) void queue.add(async () => results.set(id, await checkDownload(outputDir, download)));
  await queue.onIdle();
  return results;
}

/** Why a clip that is not intact cannot count as succeeded, for the report. */
export function describeClipProblem(check: Exclude<ClipCheck, 'intact'>, path: string): string {
  return check === 'missing'
    ? `the video ${path} is no longer on disk; a rerun downloads it again`
    : `the video ${path} on disk is not the one downloaded (size or sha256 differ: damaged or replaced); a rerun downloads it again`;
}
