// Downloading a video as a stream: cut for idleness (never for being long), resumed with a Range
// request where the host allows it, refused over the size cap, and never held in memory (written
// as it arrives, read back and probed a buffer at a time). Timeouts here are tens of milliseconds
// and bodies a few hundred KB; the 600 MB case is `npm run bench -- download`.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { mp4Chunks } from '../bench/download.js';
import { type DownloadFs, nodeDownloadFs } from '../src/runner/download.js';
import { probeMp4, probeMp4File } from '../src/runner/mp4.js';
import { resolveRunOptions } from '../src/runner/options.js';
import { FAKE_MP4, type Harness, createHarness, eventsOf, makePlan } from './helpers/runner-harness.js';

const KB = 1024;
/** A video of `bytes` (an MP4 header, then filler). */
const videoOf = (bytes: number): Buffer => Buffer.concat([...mp4Chunks(bytes, 16 * KB)]);
const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

type Handler = (req: IncomingMessage, res: ServerResponse, index: number) => void;

/** A video host on 127.0.0.1 whose n-th request is answered by `handle`; each request's headers are kept. */
async function videoHost(handle: Handler): Promise<{ fetch: typeof fetch; requests: IncomingHttpHeaders[] }> {
  const requests: IncomingHttpHeaders[] = [];
  const server = createServer((req, res) => handle(req, res, requests.push(req.headers) - 1));
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  onTestFinished(
    () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  );
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const toHost = ((input: string | URL | Request, init?: RequestInit) => fetch(`${base}${new URL(String(input)).pathname}`, init)) as typeof fetch;
  return { fetch: toHost, requests };
}

/** `bytes` from `from` on, in pieces of `piece` bytes every `everyMs`, then the end (or a stall when `stallAt` is reached). */
function trickle(res: ServerResponse, bytes: Buffer, options: { from?: number; piece: number; everyMs: number; stallAt?: number }): void {
  let at = options.from ?? 0;
  const timer = setInterval(() => {
    if (options.stallAt !== undefined && at >= options.stallAt) return; // nothing more, the connection stays open
    const end = Math.min(at + options.piece, bytes.length, options.stallAt ?? Infinity);
    res.write(bytes.subarray(at, end));
    at = end;
    if (at >= bytes.length) {
      clearInterval(timer);
      res.end();
    }
  }, options.everyMs);
  res.once('close', () => clearInterval(timer));
}

const rangeHeaders = (bytes: Buffer, from: number): Record<string, string | number> => ({
  'Content-Type': 'video/mp4',
  'Content-Length': bytes.length - from,
  'Content-Range': `bytes ${from}-${bytes.length - 1}/${bytes.length}`,
});

let harness: Harness;
afterEach(() => harness?.cleanup());

function onlyState(result: Awaited<ReturnType<Harness['run']>>) {
  return [...result.states.values()][0]!;
}

function expectOnDisk(state: ReturnType<typeof onlyState>, video: Buffer): void {
  expect(state.phase).toBe('downloaded');
  const onDisk = readFileSync(join(harness.outputDir, state.download!.path));
  expect(onDisk.equals(video)).toBe(true);
  expect(state.download!.sha256).toBe(sha256(video));
  expect(state.download!.invalid).toBeUndefined();
}

describe('idleness, not length, ends a try', () => {
  it('a slow but steady body that lasts many times the timeout completes in one try', async () => {
    const video = videoOf(64 * KB);
    const host = await videoHost((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'video/mp4', 'Content-Length': video.length });
      trickle(res, video, { piece: 2 * KB, everyMs: 25 }); // ~800 ms in all, never idle for 300
    });
    harness = createHarness(makePlan(1));
    const result = await harness.run({ overrides: { fetch: host.fetch, downloadTimeoutMs: 300 } });
    expectOnDisk(onlyState(result), video);
    expect(host.requests).toHaveLength(1);
  });

  it('a body that stalls is cut after the idle timeout and resumed with Range from the byte it stopped at', async () => {
    const video = videoOf(64 * KB);
    const half = 32 * KB;
    const host = await videoHost((req, res, index) => {
      if (index === 0) {
        res.writeHead(200, { 'Content-Type': 'video/mp4', 'Content-Length': video.length, 'Accept-Ranges': 'bytes', ETag: '"v1"' });
        return trickle(res, video, { piece: 8 * KB, everyMs: 5, stallAt: half });
      }
      const from = rangeStart(req);
      if (from === undefined) res.writeHead(200, { 'Content-Type': 'video/mp4', 'Content-Length': video.length });
      else res.writeHead(206, rangeHeaders(video, from));
      res.end(video.subarray(from ?? 0));
    });
    harness = createHarness(makePlan(1));
    const result = await harness.run({ overrides: { fetch: host.fetch, downloadTimeoutMs: 300 } });
    expectOnDisk(onlyState(result), video);
    expect(host.requests).toHaveLength(2);
    expect(host.requests[1]).toMatchObject({ range: `bytes=${half}-`, 'if-range': '"v1"' });
  });

  it('the idle timeout comes from limits.download_timeout_s, and the size cap from limits.max_video_mb', () => {
    const options = resolveRunOptions([{ download_timeout_s: 2.5, max_video_mb: 1.5 }]);
    expect(options).toMatchObject({ downloadIdleTimeoutMs: 2500, maxVideoBytes: 1.5 * 1024 * 1024 });
    expect(resolveRunOptions([])).toMatchObject({ downloadIdleTimeoutMs: 60_000, maxVideoBytes: 500 * 1024 * 1024 });
  });
});

/** The downloader's file system, counting what it wrote: a test can wait until bytes reached the disk. */
function watchedDisk(): { fs: DownloadFs; written(bytes: number): Promise<void> } {
  let total = 0;
  const waiting: { bytes: number; done: () => void }[] = [];
  const fs: DownloadFs = {
    ...nodeDownloadFs,
    async open(path, flags) {
      const handle = await nodeDownloadFs.open(path, flags);
      const write = async (data: Uint8Array) => {
        const result = await handle.write(data);
        total += data.length;
        for (const waiter of waiting.filter((w) => total >= w.bytes)) waiter.done();
        return result;
      };
      return { write, sync: () => handle.sync(), close: () => handle.close() };
    },
  };
  const written = (bytes: number) => (total >= bytes ? Promise.resolve() : new Promise<void>((done) => void waiting.push({ bytes, done })));
  return { fs, written };
}

/**
 * Part of the video, then the connection drops: only once the client has written that part to
 * disk, so what it resumes from never depends on how fast a busy machine read the socket.
 */
function dropAfter(req: IncomingMessage, res: ServerResponse, video: Buffer, bytes: number, written: (bytes: number) => Promise<void>): void {
  res.writeHead(200, { 'Content-Type': 'video/mp4', 'Content-Length': video.length, 'Accept-Ranges': 'bytes' });
  res.write(video.subarray(0, bytes));
  void written(bytes).then(() => req.socket.destroy());
}

/** The byte a `Range: bytes=N-` header asks to start from. */
const rangeStart = (req: IncomingMessage): number | undefined => {
  const match = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
  return match ? Number(match[1]) : undefined;
};

describe('a cut download', () => {
  it('resumes with Range after a dropped connection; the sha256 is the whole file', async () => {
    const video = videoOf(96 * KB);
    const disk = watchedDisk();
    const host = await videoHost((req, res, index) => {
      if (index === 0) return dropAfter(req, res, video, 40 * KB, disk.written);
      const from = rangeStart(req) ?? 0;
      res.writeHead(206, rangeHeaders(video, from));
      res.end(video.subarray(from));
    });
    harness = createHarness(makePlan(1));
    expectOnDisk(onlyState(await harness.run({ overrides: { fetch: host.fetch, fs: disk.fs } })), video);
    expect(host.requests.map((h) => h.range)).toEqual([undefined, `bytes=${40 * KB}-`]);
  });

  it('starts over from zero when the host answers the Range with the whole file', async () => {
    const video = videoOf(96 * KB);
    const disk = watchedDisk();
    const host = await videoHost((req, res, index) => {
      if (index === 0) return dropAfter(req, res, video, 40 * KB, disk.written);
      res.writeHead(200, { 'Content-Type': 'video/mp4', 'Content-Length': video.length });
      res.end(video);
    });
    harness = createHarness(makePlan(1));
    expectOnDisk(onlyState(await harness.run({ overrides: { fetch: host.fetch, fs: disk.fs } })), video);
    // It asked for the rest, got all of it, and kept only that.
    expect(host.requests.map((h) => h.range)).toEqual([undefined, `bytes=${40 * KB}-`]);
  });

  it('starts over when the host answers a range other than the one asked for', async () => {
    const video = videoOf(96 * KB);
    const disk = watchedDisk();
    const host = await videoHost((req, res, index) => {
      if (index === 0) return dropAfter(req, res, video, 40 * KB, disk.written);
      if (index === 1) {
        res.writeHead(206, rangeHeaders(video, 10 * KB));
        return void res.end(video.subarray(10 * KB));
      }
      res.writeHead(200, { 'Content-Type': 'video/mp4', 'Content-Length': video.length });
      res.end(video);
    });
    harness = createHarness(makePlan(1));
    expectOnDisk(onlyState(await harness.run({ overrides: { fetch: host.fetch, fs: disk.fs } })), video);
    expect(host.requests.map((h) => h.range)).toEqual([undefined, `bytes=${40 * KB}-`, undefined]);
  });
});

/** A response whose body is made on demand, counting what the downloader pulled. */
function countedBody(total: number, announce: boolean): { response: Response; pulled: () => number } {
  const chunks = mp4Chunks(total, 16 * KB);
  let pulled = 0;
  const body = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        const next = chunks.next();
        if (next.done) return controller.close();
        pulled += next.value.length;
        controller.enqueue(new Uint8Array(next.value));
      },
    },
    { highWaterMark: 0 },
  );
  const headers: Record<string, string> = { 'content-type': 'video/mp4', ...(announce ? { 'content-length': String(total) } : {}) };
  return { response: new Response(body, { status: 200, headers }), pulled: () => pulled };
}

describe('the size cap', () => {
  it.each([
    ['announced in Content-Length: refused before the body is read', true, /is 2\.0 MB, over the 1 MB cap/],
    ['not announced: the download stops once the cap is passed', false, /passed 1\.0 MB without announcing its size, over the 1 MB cap/],
  ])('%s', async (_name, announce, message) => {
    const answers: Array<ReturnType<typeof countedBody>> = [];
    const fetch = (async () => {
      answers.push(countedBody(2 * 1024 * KB, announce));
      return answers.at(-1)!.response;
    }) as typeof globalThis.fetch;
    const plan = makePlan(1);
    harness = createHarness(plan);
    const result = await harness.run({ limits: { max_video_mb: 1 }, overrides: { fetch } });
    expect(onlyState(result).phase).toBe('succeeded');
    const [failed, ...more] = eventsOf(harness.events, 'download_failed') as Array<{ message: string }>;
    expect(more).toEqual([]);
    expect(failed!.message).toMatch(message);
    expect(failed!.message).toContain(plan.jobs[0]!.id.slice(0, 12));
    expect(failed!.message).toContain('--max-video-mb');
    // Not retried: a larger answer next time would be refused the same way.
    expect(answers).toHaveLength(1);
    expect(answers[0]!.pulled()).toBeLessThanOrEqual(announce ? 0 : 1024 * KB + 16 * KB);
    // Nothing is left on disk, not even the partial file.
    const videos = join(harness.outputDir, 'videos');
    expect(existsSync(videos) ? readdirSync(videos, { recursive: true }).filter((f) => String(f).includes('.mp4')) : []).toEqual([]);
  });
});

describe('memory', () => {
  it('never holds more than a chunk of the body, and reads the file back a bounded buffer at a time', async () => {
    const total = 6 * 1024 * KB;
    let pulled = 0;
    let written = 0;
    let heldMost = 0;
    let readMost = 0;
    let readFileCalls = 0;
    const chunks = mp4Chunks(total, 64 * KB);
    const fetch = (async () =>
      new Response(
        new ReadableStream<Uint8Array>(
          {
            pull(controller) {
              const next = chunks.next();
              if (next.done) return controller.close();
              pulled += next.value.length;
              heldMost = Math.max(heldMost, pulled - written);
              controller.enqueue(new Uint8Array(next.value));
            },
          },
          { highWaterMark: 0 },
        ),
        { status: 200, headers: { 'content-type': 'video/mp4', 'content-length': String(total) } },
      )) as typeof globalThis.fetch;
    const counting = {
      ...nodeDownloadFs,
      async open(path: string, flags: 'w') {
        const handle = await nodeDownloadFs.open(path, flags);
        return { write: async (data: Uint8Array) => ((written += data.length), handle.write(data)), sync: () => handle.sync(), close: () => handle.close() };
      },
      async openRead(path: string) {
        const handle = await nodeDownloadFs.openRead(path);
        return {
          read: (buffer: Uint8Array, offset: number, length: number, position: number) => ((readMost = Math.max(readMost, length)), handle.read(buffer, offset, length, position)),
          close: () => handle.close(),
        };
      },
      // The old downloader read the whole file back; nothing may now.
      readFile: async () => void (readFileCalls += 1),
    } satisfies DownloadFs & { readFile: unknown };
    harness = createHarness(makePlan(1));
    const result = await harness.run({ overrides: { fetch, fs: counting } });
    const state = onlyState(result);
    expect(state.phase).toBe('downloaded');
    expect(state.download).toMatchObject({ bytes: total, duration_s: expect.any(Number) });
    expect(readFileCalls).toBe(0);
    // Pulled ahead of the disk by at most one chunk (and the 8-byte MP4 check's first chunk).
    expect(heldMost).toBeLessThanOrEqual(2 * 64 * KB + 1024);
    expect(readMost).toBeLessThanOrEqual(1024 * KB);
  });

  it('probeMp4File reads what probeMp4 reads, from a file it never loads whole', async () => {
    const files = [FAKE_MP4, videoOf(300 * KB), FAKE_MP4.subarray(0, FAKE_MP4.length - 1), Buffer.from('not an mp4 at all')];
    for (const bytes of files) {
      const reads: number[] = [];
      const readAt = async (position: number, length: number) => {
        reads.push(length);
        return bytes.subarray(position, position + length);
      };
      expect(await probeMp4File(readAt, bytes.length)).toEqual(probeMp4(bytes));
      expect(Math.max(...reads)).toBeLessThan(64 * KB);
    }
  });
});
