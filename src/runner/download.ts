// Downloading a finished video, in constant memory whatever its size: streamed to a temp file
// beside its destination, hashed on the way, checked (an MP4 from its first bytes, the announced
// length, a size cap), renamed into place, then hashed again from disk and probed from its own
// header boxes, so the journal never records a sha256 the file on disk does not have. A download
// is cut when no byte arrives for a while (never for being long), and a cut one resumes with a
// Range request where the host allows it.
// Video URLs are public and expire; no API key is ever sent to them. An answer that is not the
// video (any status, an HTML page, not an MP4) may be a stale URL whatever it says: the task is
// looked up again for a fresh URL before giving up.
import { type Hash, createHash } from 'node:crypto';
import * as nodeFs from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ProviderError } from '../api/errors.js';
import { API_DEFAULTS } from '../api/schemas.js';
import { linkSignals } from '../signals.js';
import { type RunContext, backoffMs } from './context.js';
import { type Mp4Probe, type ReadAt, checkClip, probeMp4File } from './mp4.js';
import { videosOf } from './poll.js';

export interface WriteHandle {
  write(data: Uint8Array): Promise<{ bytesWritten: number }>;
  sync(): Promise<void>;
  close(): Promise<void>;
}

export interface ReadHandle {
  read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
  close(): Promise<void>;
}

/** The file-system calls a download makes; tests inject failures (disk full, short writes) here. */
export interface DownloadFs {
  open(path: string, flags: 'w'): Promise<WriteHandle>;
  /** The written file, read back a buffer at a time (its hash, its MP4 header boxes). */
  openRead(path: string): Promise<ReadHandle>;
  rename(from: string, to: string): Promise<void>;
  rm(path: string, options: { force: true }): Promise<void>;
  mkdir(path: string, options: { recursive: true }): Promise<unknown>;
  stat(path: string): Promise<{ size: number; mtimeMs: number }>;
}

export const nodeDownloadFs: DownloadFs = {
  open: (path, flags) => nodeFs.open(path, flags),
  openRead: (path) => nodeFs.open(path, 'r'),
  rename: nodeFs.rename,
  rm: nodeFs.rm,
  mkdir: nodeFs.mkdir,
  stat: nodeFs.stat,
};

export type DownloadOutcome = 'downloaded' | 'gave_up' | 'stopped';

/** Tries that got no further than an earlier one; a try that brings more bytes than any before is free. */
const MAX_TRIES = 6;
/** Bytes of the file read back at a time. */
const READ_BUFFER_BYTES = 1024 * 1024;
const MB = 1024 * 1024;

/**
 * Why a try did not end with the video on disk, and so what comes next: `expired` and `not-video`
 * ask the provider for a fresh URL, `cut` resumes, `too-large` gives up at once.
 */
type FailureKind = 'expired' | 'not-video' | 'cut' | 'too-large' | 'other';

class DownloadFailure extends Error {
  constructor(
    message: string,
    readonly kind: FailureKind = 'other',
  ) {
    super(message);
  }
}

export interface Downloader {
  readonly fetch: typeof fetch;
  readonly fs: DownloadFs;
  readonly outputDir: string;
  /** A try is cut after this long without a byte (waiting for the answer included). */
  readonly idleTimeoutMs: number;
  readonly maxBytes: number;
}

/** A download under way, kept across tries so a cut one resumes where it stopped. */
interface Transfer {
  readonly destination: string;
  /** Where the video is written until it is whole and checked. */
  readonly temp: string;
  file: WriteHandle | undefined;
  hash: Hash;
  /** Bytes in the temp file, all hashed. */
  bytes: number;
  /** The whole video's length, when the host announced it. */
  total: number | undefined;
  /** The answer's ETag or Last-Modified: a resume asks for the rest of that same file (If-Range). */
  validator: string | undefined;
  /** The most bytes any try reached. */
  best: number;
}

interface Fetched {
  readonly sha256: string;
  readonly bytes: number;
  readonly mtime_ms: number;
  readonly probe: Mp4Probe;
}

export async function downloadVideo(context: RunContext, downloader: Downloader, jobId: string, relativePath: string): Promise<DownloadOutcome> {
  const destination = join(downloader.outputDir, relativePath);
  const transfer: Transfer = { destination, temp: `${destination}.part`, file: undefined, hash: createHash('sha256'), bytes: 0, total: undefined, validator: undefined, best: 0 };
  let outcome: DownloadOutcome | undefined;
  try {
    outcome = await tryDownloads(context, downloader, transfer, jobId, relativePath);
    return outcome;
  } finally {
    // A finished download closed and renamed its file before it was recorded: nothing is left to
    // wait for, so the run counts it done as soon as the journal says so.
    if (outcome !== 'downloaded') {
      await transfer.file?.close().catch(() => {});
      await downloader.fs.rm(transfer.temp, { force: true }).catch(() => {});
    }
  }
}

async function tryDownloads(context: RunContext, downloader: Downloader, transfer: Transfer, jobId: string, relativePath: string): Promise<DownloadOutcome> {
  const giveUp = (message: string, next = 'A rerun downloads it again.'): 'gave_up' => {
    context.record({ ev: 'download_failed', job: jobId, message: `${message}. ${next}` });
    return 'gave_up';
  };
  let last = 'no try was made';
  /** The URL a lookup last replaced: each URL that answers with something else is refreshed once. */
  let refreshedFrom: string | undefined;
  for (let failures = 0; failures < MAX_TRIES; ) {
    if (context.hardSignal.aborted) return 'stopped';
    const state = context.state(jobId);
    if (!state.video || !state.taskId) return giveUp('the task has no video URL');
    const reached = transfer.best;
    let fetched: Fetched;
    try {
      fetched = await fetchToFile(downloader, state.video.url, transfer, context.hardSignal);
    } catch (error) {
      if (context.hardSignal.aborted) return 'stopped';
      const message = error instanceof Error ? error.message : String(error);
      if (isDiskError(error)) {
        // More downloads would fail the same way: stop submitting, keep the journal as it is.
        context.stopRun(error);
        context.logger.warn(`cannot write ${relativePath}: ${message}`);
        return giveUp(`cannot write ${relativePath}: ${message}`);
      }
      const kind = error instanceof DownloadFailure ? error.kind : isConnectionFailure(error) ? 'expired' : 'other';
      if (kind === 'too-large') {
        const refusal = `the video of job ${jobId.slice(0, 12)} (${relativePath}) ${message} (--max-video-mb, or max_video_mb under limits:)`;
        context.logger.warn(refusal);
        return giveUp(refusal, 'A rerun with a higher cap downloads it.');
      }
      last = message;
      const progressed = transfer.best > reached;
      if (!progressed) failures += 1;
      context.logger.debug(`download of job ${jobId.slice(0, 12)} failed (${progressed ? 'resuming' : `try ${failures}`}): ${message}`);
      // An expired URL, or one whose host no longer answers (a CDN moved, a provider restarted),
      // and, once for each URL, any answer that is not the video: a signed URL past its time answers
      // 400, 401, 5xx or an HTML page as often as 403. The provider gives a fresh one.
      if (kind === 'expired' || (kind === 'not-video' && refreshedFrom !== state.video.url)) {
        const refresh = await refreshUrl(context, jobId, state.taskId);
        if (refresh === 'none') return giveUp(`the video URL expired and no fresh one could be had (${message})`);
        // A lookup that got no answer has not replaced the URL: the next try asks again.
        if (refresh === 'fresh') refreshedFrom = state.video.url;
        else await context.clock.sleep(backoffMs(context, failures), context.hardSignal).catch(() => {});
      } else if (!progressed) {
        await context.clock.sleep(backoffMs(context, failures), context.hardSignal).catch(() => {});
      }
      continue;
    }
    // Outside the try: a journal that cannot be written stops the run, it is not a failed download.
    recordDownloaded(context, jobId, relativePath, fetched);
    return 'downloaded';
  }
  return giveUp(`the download failed ${MAX_TRIES} times (last: ${last})`);
}

/** The provider charged for this clip: check it is the one asked for, and say so when not. */
function recordDownloaded(context: RunContext, jobId: string, relativePath: string, fetched: Fetched): void {
  const { probe, ...result } = fetched;
  const warnings = checkClip(probe, context.jobs.get(jobId)?.request.duration ?? API_DEFAULTS.duration);
  context.record({
    ev: 'downloaded',
    job: jobId,
    path: relativePath,
    ...result,
    ...(probe.ok ? { duration_s: probe.duration_s, width: probe.width, height: probe.height, fps: probe.fps, codec: probe.codec, frames: probe.frames } : { invalid: true }),
    ...(warnings.length ? { warnings } : {}),
  });
}

/**
 * An expired URL: ask the provider again; the answer carries a fresh one. 'retry' when the lookup
 * got no usable answer this time, 'none' when the task has no video to give (or the run stops).
 */
async function refreshUrl(context: RunContext, jobId: string, taskId: string): Promise<'fresh' | 'retry' | 'none'> {
  try {
    await context.limiter.take(context.hardSignal);
    const task = await context.client.getTask(taskId, { signal: context.hardSignal });
    const videos = videosOf(task);
    if (task.task_status !== 'succeed' || videos.length === 0) return 'none';
    context.record({ ev: 'succeeded', job: jobId, task_id: taskId, videos, finished_at: task.updated_at });
    return 'fresh';
  } catch (error) {
    if (error instanceof ProviderError && error.errorClass === 'fatal-run') {
      context.stopRun(error);
      return 'none';
    }
    return context.hardSignal.aborted ? 'none' : 'retry';
  }
}

/** fetch could not reach the video's host at all. */
const isConnectionFailure = (error: unknown): boolean =>
  error instanceof TypeError && /^(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH)$/.test(String((error.cause as NodeJS.ErrnoException | undefined)?.code));

function isDiskError(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT' || code === 'EROFS' || code === 'EACCES' || code === 'EIO';
}

/** Writes all of `data`, however many calls the file system needs; a write that takes nothing is a full disk. */
async function writeAll(file: WriteHandle, data: Uint8Array): Promise<void> {
  for (let done = 0; done < data.length; ) {
    const { bytesWritten } = await file.write(data.subarray(done));
    if (!(bytesWritten > 0)) throw Object.assign(new Error(`ENOSPC: the disk took ${done} of ${data.length} bytes of a write`), { code: 'ENOSPC' });
    done += bytesWritten;
  }
}

/** A signal aborted once `ms` pass without a touch(). */
function idleTimer(ms: number): { readonly signal: AbortSignal; touch(): void; stop(): void } {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new DownloadFailure(`no bytes arrived for ${ms / 1000} s`, 'cut')), ms);
  return { signal: controller.signal, touch: () => void timer.refresh(), stop: () => clearTimeout(timer) };
}

/** One try: the video at `url` (or the rest of it) into the transfer's temp file, then checked and moved into place. */
async function fetchToFile(downloader: Downloader, url: string, transfer: Transfer, signal: AbortSignal): Promise<Fetched> {
  const idle = idleTimer(downloader.idleTimeoutMs);
  const linked = linkSignals([signal, idle.signal]);
  try {
    const response = await downloader.fetch(url, { signal: linked.signal, redirect: 'follow', headers: resumeHeaders(transfer) });
    await receive(downloader, transfer, response, idle);
  } catch (error) {
    // fetch and the body report the idle abort in their own words; say what happened.
    throw idle.signal.aborted && !signal.aborted && !isDiskError(error) ? idle.signal.reason : error;
  } finally {
    idle.stop();
    linked.unlink();
  }
  return finish(downloader.fs, transfer);
}

/** Ask for the rest of a file begun by an earlier try; the ftyp check needs its first 8 bytes. */
function resumeHeaders(transfer: Transfer): Record<string, string> {
  if (transfer.bytes < 8) return {};
  return { Range: `bytes=${transfer.bytes}-`, ...(transfer.validator ? { 'If-Range': transfer.validator } : {}) };
}

/** Status, headers, then the body of one answer, into the temp file. */
async function receive(downloader: Downloader, transfer: Transfer, response: Response, idle: { touch(): void }): Promise<void> {
  const refuse = async (failure: DownloadFailure): Promise<never> => {
    await response.body?.cancel().catch(() => {});
    throw failure;
  };
  const { status } = response;
  if (status === 403 || status === 404 || status === 410) return refuse(new DownloadFailure(`the video URL answered HTTP ${status} (expired)`, 'expired'));
  if (status === 206 && !resumes(transfer, response)) {
    const failure = new DownloadFailure(`the host answered a range other than bytes=${transfer.bytes}- (Content-Range: ${response.headers.get('content-range')})`, 'cut');
    await restart(downloader.fs, transfer, undefined, undefined);
    return refuse(failure);
  }
  if ((status !== 200 && status !== 206) || !response.body) return refuse(new DownloadFailure(`the video URL answered HTTP ${status}, not the video`, 'not-video'));
  if (status === 200) {
    const type = response.headers.get('content-type') ?? '';
    if (/^text\/|json|xml/i.test(type)) return refuse(new DownloadFailure(`the video URL answered a ${type.split(';')[0]} page, not the video`, 'not-video'));
    // A whole file (the host ignored or refused the Range): start over with it.
    await restart(downloader.fs, transfer, lengthOf(response.headers.get('content-length')), validatorOf(response.headers));
  }
  if (transfer.total !== undefined && transfer.total > downloader.maxBytes) return refuse(tooLarge(transfer.total, downloader.maxBytes, true));
  await pump(downloader.maxBytes, transfer, response.body, idle);
  if (transfer.total !== undefined && transfer.bytes !== transfer.total) throw new DownloadFailure(`the download was cut short (${transfer.bytes} of ${transfer.total} bytes)`, 'cut');
}

/** A 206 carrying exactly the rest of the file this transfer holds the start of. */
function resumes(transfer: Transfer, response: Response): boolean {
  const match = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(response.headers.get('content-range') ?? '');
  if (transfer.bytes < 8 || !match) return false;
  const [first, last, total] = match.slice(1).map(Number) as [number, number, number];
  if (first !== transfer.bytes || last !== total - 1 || (transfer.total !== undefined && total !== transfer.total)) return false;
  transfer.total = total;
  return true;
}

const lengthOf = (header: string | null): number | undefined => (header !== null && /^\d+$/.test(header) ? Number(header) : undefined);

/** What If-Range may name: a strong ETag, else the modification date. */
function validatorOf(headers: Headers): string | undefined {
  const etag = headers.get('etag');
  return etag && !etag.startsWith('W/') ? etag : (headers.get('last-modified') ?? undefined);
}

function tooLarge(bytes: number, max: number, announced: boolean): DownloadFailure {
  const size = announced ? `is ${(bytes / MB).toFixed(1)} MB` : `passed ${(bytes / MB).toFixed(1)} MB without announcing its size`;
  return new DownloadFailure(`${size}, over the ${(max / MB).toFixed(0)} MB cap`, 'too-large');
}

/** An empty temp file and a fresh hash, for a file that starts over. */
async function restart(fs: DownloadFs, transfer: Transfer, total: number | undefined, validator: string | undefined): Promise<void> {
  const previous = transfer.file;
  transfer.file = undefined;
  if (previous) await previous.close();
  else await fs.mkdir(dirname(transfer.temp), { recursive: true });
  transfer.file = await fs.open(transfer.temp, 'w');
  Object.assign(transfer, { hash: createHash('sha256'), bytes: 0, total, validator });
}

/**
 * The body into the file a chunk at a time; only the first 8 bytes of a new file are held back,
 * until they show an MP4's `ftyp` box.
 */
async function pump(maxBytes: number, transfer: Transfer, body: ReadableStream<Uint8Array>, idle: { touch(): void }): Promise<void> {
  const reader = body.getReader();
  let head = transfer.bytes === 0 ? new Uint8Array(0) : undefined;
  try {
    for (;;) {
      const { done, value } = await reader.read().catch((error: unknown) => {
        throw Object.assign(new DownloadFailure(`the connection dropped after ${transfer.bytes} bytes (${(error as Error).message})`, 'cut'), { cause: error });
      });
      if (done) break;
      idle.touch();
      let data = value;
      if (head) {
        head = Buffer.concat([head, value]);
        if (head.length < 8) continue;
        if (!isMp4Start(head)) throw new DownloadFailure('the answer is not an MP4 (no ftyp box)', 'not-video');
        data = head;
        head = undefined;
      }
      if (transfer.bytes + data.length > maxBytes) throw tooLarge(transfer.bytes + data.length, maxBytes, false);
      await writeAll(transfer.file as WriteHandle, data);
      transfer.hash.update(data);
      transfer.bytes += data.length;
      transfer.best = Math.max(transfer.best, transfer.bytes);
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  if (head) throw new DownloadFailure(head.length === 0 ? 'the video is empty' : 'the answer is not an MP4 (no ftyp box)', 'not-video');
}

const isMp4Start = (head: Uint8Array): boolean => Buffer.from(head.buffer, head.byteOffset + 4, 4).toString('latin1') === 'ftyp';

/** The temp file synced, renamed into place, and read back: what the disk holds is what the journal will say. */
async function finish(fs: DownloadFs, transfer: Transfer): Promise<Fetched> {
  const { file, bytes, destination } = transfer;
  // Whatever happens next, a later try starts from zero with a new file.
  Object.assign(transfer, { file: undefined, bytes: 0 });
  try {
    await file?.sync();
  } finally {
    await file?.close();
  }
  const sha256 = transfer.hash.digest('hex');
  await fs.rename(transfer.temp, destination);
  try {
    const written = await readBack(fs, destination);
    if (written.bytes !== bytes || written.sha256 !== sha256) {
      throw new DownloadFailure(`the file on disk does not match what was downloaded (${written.bytes} of ${bytes} bytes, or different content)`);
    }
    const { mtimeMs } = await fs.stat(destination);
    return { sha256, bytes, mtime_ms: Math.round(mtimeMs), probe: written.probe };
  } catch (error) {
    await fs.rm(destination, { force: true }).catch(() => {});
    throw error;
  }
}

/** A file's sha256 and size, streamed through one buffer, and what its MP4 header boxes say. */
async function readBack(fs: DownloadFs, path: string): Promise<{ sha256: string; bytes: number; probe: Mp4Probe }> {
  const file = await fs.openRead(path);
  try {
    const hash = createHash('sha256');
    const buffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
    let bytes = 0;
    for (let got = -1; got !== 0; bytes += got) {
      got = (await file.read(buffer, 0, buffer.length, bytes)).bytesRead;
      hash.update(buffer.subarray(0, got));
    }
    const readAt: ReadAt = async (position, length) => {
      const into = Buffer.alloc(length);
      let filled = 0;
      for (let got = -1; got !== 0 && filled < length; filled += got) got = (await file.read(into, filled, length - filled, position + filled)).bytesRead;
      return into.subarray(0, filled);
    };
    return { sha256: hash.digest('hex'), bytes, probe: await probeMp4File(readAt, bytes) };
  } finally {
    await file.close();
  }
}
