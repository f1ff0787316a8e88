// Downloading a finished video: streamed to a temp file beside its destination, hashed on the
// way, checked (size, MP4 signature, announced length), renamed into place, then read back and
// verified, so the journal never records a sha256 the file on disk does not have.
// Video URLs are public and expire; no API key is ever sent to them.
import { createHash } from 'node:crypto';
import * as nodeFs from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ProviderError } from '../api/errors.js';
import { API_DEFAULTS } from '../api/schemas.js';
import { linkSignals } from '../signals.js';
import { type RunContext, backoffMs } from './context.js';
import { checkClip, probeMp4 } from './mp4.js';
import { videosOf } from './poll.js';

/** The file-system calls a download makes; tests inject failures (disk full, short writes) here. */
export interface DownloadFs {
  open(path: string, flags: 'w'): Promise<{ write(data: Uint8Array): Promise<{ bytesWritten: number }>; sync(): Promise<void>; close(): Promise<void> }>;
  rename(from: string, to: string): Promise<void>;
  rm(path: string, options: { force: true }): Promise<void>;
  mkdir(path: string, options: { recursive: true }): Promise<unknown>;
  readFile(path: string): Promise<Buffer>;
  stat(path: string): Promise<{ size: number; mtimeMs: number }>;
}

export const nodeDownloadFs: DownloadFs = nodeFs;

export type DownloadOutcome = 'downloaded' | 'gave_up' | 'stopped';

const MAX_TRIES = 6;

class DownloadFailure extends Error {
  constructor(message: string, readonly expired = false) {
    super(message);
  }
}

export interface Downloader {
  readonly fetch: typeof fetch;
  readonly fs: DownloadFs;
  readonly outputDir: string;
  readonly timeoutMs: number;
}

export async function downloadVideo(context: RunContext, downloader: Downloader, jobId: string, relativePath: string): Promise<DownloadOutcome> {
  const giveUp = (message: string): 'gave_up' => {
    context.record({ ev: 'download_failed', job: jobId, message: `${message}. A rerun downloads it again.` });
    return 'gave_up';
  };
  let last = 'no try was made';
  for (let tries = 1; tries <= MAX_TRIES; tries++) {
    if (context.hardSignal.aborted) return 'stopped';
    const state = context.state(jobId);
    const { video } = state;
    if (!video || !state.taskId) return giveUp('the task has no video URL');
    let fetched: Awaited<ReturnType<typeof fetchToFile>>;
    try {
      fetched = await fetchToFile(downloader, video.url, join(downloader.outputDir, relativePath), context.hardSignal);
    } catch (error) {
      if (context.hardSignal.aborted) return 'stopped';
      const message = error instanceof Error ? error.message : String(error);
      if (isDiskError(error)) {
        // More downloads would fail the same way: stop submitting, keep the journal as it is.
        context.stopRun(error);
        context.logger.warn(`cannot write ${relativePath}: ${message}`);
        return giveUp(`cannot write ${relativePath}: ${message}`);
      }
      last = message;
      context.logger.debug(`download of job ${jobId.slice(0, 12)} failed (try ${tries}): ${message}`);
      // An expired URL, or one whose host no longer answers (a CDN moved, a provider restarted):
      // the provider gives a fresh one.
      if ((error instanceof DownloadFailure && error.expired) || isConnectionFailure(error)) {
        if (!(await refreshUrl(context, jobId, state.taskId))) return giveUp(`the video URL expired and no fresh one could be had (${message})`);
      } else {
        await context.clock.sleep(backoffMs(context, tries), context.hardSignal).catch(() => {});
      }
      continue;
    }
    // Outside the try: a journal that cannot be written stops the run, it is not a failed download.
    const { content, ...result } = fetched;
    // The provider charged for this clip: check it is the one asked for, and say so when not.
    const probe = probeMp4(content);
    const warnings = checkClip(probe, context.jobs.get(jobId)?.request.duration ?? API_DEFAULTS.duration);
    context.record({
      ev: 'downloaded',
      job: jobId,
      path: relativePath,
      ...result,
      ...(probe.ok ? { duration_s: probe.duration_s, width: probe.width, height: probe.height, fps: probe.fps, codec: probe.codec, frames: probe.frames } : { invalid: true }),
      ...(warnings.length ? { warnings } : {}),
    });
    return 'downloaded';
  }
  return giveUp(`the download failed ${MAX_TRIES} times (last: ${last})`);
}

/** An expired URL: ask the provider again; the answer carries a fresh one. */
async function refreshUrl(context: RunContext, jobId: string, taskId: string): Promise<boolean> {
  try {
    await context.limiter.take(context.hardSignal);
    const task = await context.client.getTask(taskId, { signal: context.hardSignal });
    const videos = videosOf(task);
    if (task.task_status !== 'succeed' || videos.length === 0) return false;
    context.record({ ev: 'succeeded', job: jobId, task_id: taskId, videos, finished_at: task.updated_at });
    return true;
  } catch (error) {
    if (error instanceof ProviderError && error.errorClass === 'fatal-run') {
      context.stopRun(error);
      return false;
    }
    return !context.hardSignal.aborted;
  }
}

/** fetch could not reach the video's host at all. */
const isConnectionFailure = (error: unknown): boolean =>
  error instanceof TypeError && /^(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH)$/.test(String((error.cause as NodeJS.ErrnoException | undefined)?.code));

function isDiskError(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT' || code === 'EROFS' || code === 'EACCES' || code === 'EIO';
}

const sha256Of = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** Writes all of `data`, however many calls the file system needs; a write that takes nothing is a full disk. */
async function writeAll(file: { write(data: Uint8Array): Promise<{ bytesWritten: number }> }, data: Uint8Array): Promise<void> {
  for (let done = 0; done < data.length; ) {
    const { bytesWritten } = await file.write(data.subarray(done));
    if (!(bytesWritten > 0)) throw Object.assign(new Error(`ENOSPC: the disk took ${done} of ${data.length} bytes of a write`), { code: 'ENOSPC' });
    done += bytesWritten;
  }
}

interface Fetched {
  readonly sha256: string;
  readonly bytes: number;
  readonly mtime_ms: number;
  readonly content: Buffer;
}

/** The video at `url` written to `destination`, under the run's signal and the download deadline. */
async function fetchToFile(downloader: Downloader, url: string, destination: string, signal: AbortSignal): Promise<Fetched> {
  const linked = linkSignals([signal, AbortSignal.timeout(downloader.timeoutMs)]);
  try {
    return await fetchBody(downloader, url, destination, linked.signal);
  } finally {
    linked.unlink();
  }
}

async function fetchBody(downloader: Downloader, url: string, destination: string, signal: AbortSignal): Promise<Fetched> {
  const response = await downloader.fetch(url, { signal, redirect: 'follow' });
  if (response.status === 403 || response.status === 404 || response.status === 410) {
    await response.body?.cancel();
    throw new DownloadFailure(`the video URL answered HTTP ${response.status} (expired)`, true);
  }
  if (!response.ok || !response.body) {
    await response.body?.cancel();
    throw new DownloadFailure(`the video URL answered HTTP ${response.status}`);
  }
  const announced = Number(response.headers.get('content-length') ?? NaN);
  const { fs } = downloader;
  await fs.mkdir(dirname(destination), { recursive: true });
  const temp = `${destination}.part`;
  // Kept in memory (a clip is a few MB) so its header is checked without another read.
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  let content: Buffer;
  let renamed = false;
  try {
    const file = await fs.open(temp, 'w');
    try {
      for await (const chunk of response.body) {
        const data = chunk as Uint8Array;
        chunks.push(data);
        bytes += data.length;
        await writeAll(file, data);
      }
      await file.sync();
    } finally {
      await file.close();
    }
    if (bytes === 0) throw new DownloadFailure('the video is empty');
    if (Number.isFinite(announced) && bytes !== announced) throw new DownloadFailure(`the download was cut short (${bytes} of ${announced} bytes)`);
    content = Buffer.concat(chunks, bytes);
    if (content.subarray(4, 8).toString('latin1') !== 'ftyp') throw new DownloadFailure('the file is not an MP4 (no ftyp box)');
    await fs.rename(temp, destination);
    renamed = true;
    // What the disk holds is what the journal will say: read it back.
    const written = await fs.readFile(destination);
    const sha256 = sha256Of(content);
    if (written.length !== bytes || sha256Of(written) !== sha256) {
      throw new DownloadFailure(`the file on disk does not match what was downloaded (${written.length} of ${bytes} bytes, or different content)`);
    }
    const { mtimeMs } = await fs.stat(destination);
    return { sha256, bytes, mtime_ms: Math.round(mtimeMs), content };
  } catch (error) {
    await fs.rm(renamed ? destination : temp, { force: true }).catch(() => {});
    throw error;
  }
}
