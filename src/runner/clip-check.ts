// Is a downloaded clip still on disk as the journal recorded it? The size and mtime recorded at
// download time answer for an untouched file without reading it; anything else is hashed.
import { createHash } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import { join } from 'node:path';
import PQueue from 'p-queue';
import type { Download } from './job-state.js';

export type ClipCheck = 'intact' | 'missing' | 'changed';

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * What one stat tells of a clip; undefined when only its hash can. Synchronous on purpose: a
 * stat is a few microseconds, and 100,000 of them as promises took seconds.
 */
function checkByStat(path: string, download: Download): ClipCheck | undefined {
  let info;
  try {
    info = statSync(path, { throwIfNoEntry: false });
  } catch {
    return 'missing';
  }
  if (!info?.isFile()) return 'missing';
  if (info.size !== download.bytes) return 'changed';
  // Whole milliseconds: what every file system keeps, and what a JSON number carries exactly.
  if (download.mtime_ms !== undefined && Math.round(info.mtimeMs) === download.mtime_ms) return 'intact';
  return undefined;
}

async function checkByHash(path: string, download: Download): Promise<ClipCheck> {
  try {
    return (await sha256Of(path)) === download.sha256 ? 'intact' : 'changed';
  } catch {
    return 'missing';
  }
}

/** Checks many clips: each with a stat, and those a stat cannot vouch for read and hashed several at a time. */
export async function checkDownloads(outputDir: string, downloads: Iterable<readonly [id: string, download: Download]>, concurrency = 8): Promise<Map<string, ClipCheck>> {
  const queue = new PQueue({ concurrency });
  const results = new Map<string, ClipCheck>();
  for (const [id, download] of downloads) {
    const path = join(outputDir, download.path);
    const known = checkByStat(path, download);
    if (known) results.set(id, known);
    else void queue.add(async () => results.set(id, await checkByHash(path, download)));
  }
  await queue.onIdle();
  return results;
}

/** Why a clip that is not intact cannot count as succeeded, for the report. */
export function describeClipProblem(check: Exclude<ClipCheck, 'intact'>, path: string): string {
  return check === 'missing'
    ? `the video ${path} is no longer on disk; a rerun downloads it again`
    : `the video ${path} on disk is not the one downloaded (size or sha256 differ: damaged or replaced); a rerun downloads it again`;
}
