// Bench: downloads of large videos in constant memory. Four 600 MB answers at once, through the
// real runner and downloader (real fetch over HTTP, real files, hashed while streamed, read back
// and probed from disk) from a video host on 127.0.0.1 that makes each body on the fly. Target:
// the whole process under 300 MB peak RSS; the downloader held every answer in memory about three
// times over before (a 300 MB answer peaked at 1.03 GB).
import { once } from 'node:events';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolveRunOptions } from '../src/runner/options.js';
import { makePlan } from '../test/helpers/runner-harness.js';
import { scaledClock } from './clock.js';
import { fmt } from './emulated.js';
import type { BenchCase, BenchResult } from './index.js';
import { MemoryProvider, headerOnlyMp4, runFromEmpty } from './memory-provider.js';

const MB = 1024 * 1024;
const CHUNK_BYTES = 64 * 1024;

export interface DownloadSetup {
  readonly videos: number;
  readonly bytes: number;
}

export const downloadSetup: DownloadSetup = { videos: 4, bytes: 600 * MB };

/**
 * An MP4-looking answer of `total` bytes, made as it is read: a real clip's ftyp and moov (a 5 s
 * 256x144 clip to the runner's probe), then one `mdat` box of filler up to `total`.
 */
export function* mp4Chunks(total: number, chunkBytes = CHUNK_BYTES): Generator<Uint8Array> {
  const header = headerOnlyMp4();
  const mdat = Buffer.alloc(8);
  mdat.writeUInt32BE(total - header.length, 0);
  mdat.write('mdat', 4, 'latin1');
  yield Buffer.concat([header, mdat]);
  const filler = Buffer.alloc(chunkBytes, 0x2a);
  for (let left = total - header.length - 8; left > 0; left -= chunkBytes) yield left >= chunkBytes ? filler : filler.subarray(0, left);
}

/** A video host whose every URL answers `bytes` of mp4Chunks, written as the socket drains. */
export async function startVideoHost(bytes: number): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'video/mp4', 'Content-Length': bytes });
    void (async () => {
      for (const chunk of mp4Chunks(bytes)) {
        if (res.destroyed) return;
        if (!res.write(chunk)) await once(res, 'drain');
      }
      res.end();
    })().catch(() => res.destroy());
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

export async function measureDownloads(setup: DownloadSetup, dir: string): Promise<BenchResult> {
  const host = await startVideoHost(setup.bytes);
  try {
    const plan = makePlan(setup.videos);
    const clock = scaledClock(1e-3);
    const options = resolveRunOptions([{ rpm: 1_000_000, poll_interval_s: 1, download_concurrency: setup.videos, max_video_mb: (2 * setup.bytes) / MB }]);
    // The provider's video URLs, sent to the local host instead.
    const toHost = ((input: string | URL | Request, init?: RequestInit) => fetch(`${host.url}${new URL(String(input)).pathname}`, init)) as typeof fetch;
    const started = performance.now();
    const result = await runFromEmpty({ plan, dir, clock, client: new MemoryProvider(clock, 5_000), options }, { fetch: toHost });
    const ms = performance.now() - started;
    const downloaded = [...result.states.values()].filter((state) => state.phase === 'downloaded' && !state.download?.invalid).length;
    if (downloaded !== setup.videos) throw new Error(`only ${downloaded} of ${setup.videos} videos downloaded`);
    const total = (setup.videos * setup.bytes) / MB;
    const rssMb = process.resourceUsage().maxRSS / 1024;
    return {
      detail: `${setup.videos} × ${setup.bytes / MB} MB at once, hashed, written, read back and probed: ${fmt(total / (ms / 1000), 0)} MB/s`,
      metrics: [{ name: 'peak RSS, MB (whole process)', value: Math.round(rssMb), target: 300 }],
    };
  } finally {
    host.server.closeAllConnections();
    host.server.close();
  }
}

export const downloadCase: BenchCase = {
  name: 'download',
  description: 'four concurrent 600 MB video downloads through the real downloader from a local host, whole-process peak RSS',
  targets: { rssMb: 300 },
  prepare: async (dir) => dir,
  run: (dir) => measureDownloads(downloadSetup, dir as string),
};
