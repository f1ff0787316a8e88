// `export --format webdataset`: tar shards of `--shard-size` samples, each sample the consecutive
// entries sharing a key (the job id): `<key>.mp4`, its source image and `<key>.json`. The shards
// are read back with a ustar parser written here, and with the system's `tar` when there is one.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tarHeader } from '../src/report/tar.js';
import { runInProcess } from './helpers/bad-input.js';
import { tempTree } from './helpers/manifest.js';
import { ROOT, clip, examplePlan, folderWithImages, type Outcome } from './helpers/reports.js';

interface Entry {
  readonly name: string;
  readonly data: Buffer;
}

/** A ustar file's entries: header checksum checked, data read by its octal size, ended by zero blocks. */
function readTar(bytes: Buffer): Entry[] {
  const entries: Entry[] = [];
  for (let at = 0; at < bytes.length; ) {
    const header = bytes.subarray(at, at + 512);
    if (header.every((b) => b === 0)) break;
    const field = (start: number, length: number) => header.subarray(start, start + length).toString('latin1').replace(/\0.*$/s, '').trim();
    const sum = header.reduce((total, b, i) => total + (i >= 148 && i < 156 ? 32 : b), 0);
    expect(parseInt(field(148, 8), 8), 'checksum').toBe(sum);
    expect(field(257, 6)).toBe('ustar');
    expect(field(156, 1)).toBe('0');
    const size = parseInt(field(124, 12), 8);
    entries.push({ name: field(0, 100), data: bytes.subarray(at + 512, at + 512 + size) });
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return entries;
}

const ALL_OK: Outcome[] = Array(8).fill('succeeded');

describe('export --format webdataset', () => {
  it('writes shards of --shard-size samples, each sample its clip, source image and columns under one key', async () => {
    const plan = await examplePlan();
    const { dir } = folderWithImages(plan, ALL_OK);
    const dest = join(tempTree(), 'shards');
    const result = await runInProcess(['export', dir, '--format', 'webdataset', '--shard-size', '3', '--copy-to', dest], ROOT);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/^Wrote 8 sample\(s\) in 3 WebDataset shard\(s\) to .*shards\/: shard-000000\.tar, shard-000001\.tar, shard-000002\.tar\.\n$/);
    expect(readdirSync(dest).sort()).toEqual(['shard-000000.tar', 'shard-000001.tar', 'shard-000002.tar']);
    const shards = readdirSync(dest).sort().map((name) => readTar(readFileSync(join(dest, name))));
    expect(shards.map((entries) => entries.length)).toEqual([9, 9, 6]);
    const samples = shards.flat();
    // Grouped: every key's entries are consecutive, in the order clip, image, columns.
    const keys = samples.map((e) => e.name.split('.')[0]!);
    expect(keys.filter((key, i) => key !== keys[i - 1])).toEqual(plan.jobs.map((job) => job.id));
    for (const [i, job] of plan.jobs.entries()) {
      const [video, image, json] = samples.slice(3 * i, 3 * i + 3) as [Entry, Entry, Entry];
      const ext = i < 4 ? 'png' : 'jpg';
      expect([video.name, image.name, json.name]).toEqual([`${job.id}.mp4`, `${job.id}.${ext}`, `${job.id}.json`]);
      expect(video.data).toEqual(clip(i));
      expect(image.data).toEqual(readFileSync(join(ROOT, 'jobs/images', i < 4 ? 'harbor.png' : 'meadow.jpg')));
      expect(JSON.parse(json.data.toString())).toMatchObject({ file_name: `${job.id}.mp4`, image: `${job.id}.${ext}`, job_id: job.id, prompt: job.request.prompt, duration: 5 });
    }
  });

  it('is a tar the system tar lists the same way, when the machine has one', async () => {
    const { dir } = folderWithImages(await examplePlan(), ['succeeded', 'succeeded']);
    const dest = join(tempTree(), 'shards');
    expect((await runInProcess(['export', dir, '--format', 'webdataset', '--copy-to', dest], ROOT)).code).toBe(0);
    const file = join(dest, 'shard-000000.tar');
    let listed: string;
    try {
      listed = execFileSync('tar', ['-tf', file], { encoding: 'utf8' });
    } catch {
      return; // no tar here: the parser above is the check
    }
    expect(listed.trim().split('\n')).toEqual(readTar(readFileSync(file)).map((e) => e.name));
  });

  it('puts the shards of each split in its own folder', async () => {
    const plan = await examplePlan();
    const { dir } = folderWithImages({ ...plan, jobs: plan.jobs.map((job, i) => ({ ...job, extra: { part: i % 2 ? 'odd' : 'even' } })) }, ALL_OK);
    const dest = join(tempTree(), 'shards');
    const result = await runInProcess(['export', dir, '--format', 'webdataset', '--split-by', 'part', '--copy-to', dest], ROOT);
    expect(result.code, result.stderr).toBe(0);
    expect(readdirSync(dest).sort()).toEqual(['even', 'odd']);
    const names = readTar(readFileSync(join(dest, 'odd', 'shard-000000.tar'))).filter((e) => e.name.endsWith('.mp4')).map((e) => e.name);
    expect(names).toEqual([1, 3, 5, 7].map((i) => `${plan.jobs[i]!.id}.mp4`));
  });

  it('headers: octal sizes and a checksum, names up to 100 bytes', () => {
    const header = tarHeader('a.json', 1234, 1_700_000_000);
    expect(header).toHaveLength(512);
    expect(readTar(Buffer.concat([header, Buffer.alloc(1536)]))[0]!.name).toBe('a.json');
    expect(header.subarray(124, 136).toString('latin1')).toBe(`${(1234).toString(8).padStart(11, '0')}\0`);
    expect(() => tarHeader('x'.repeat(101), 0, 0)).toThrow(RangeError);
  });

  it('refuses --license, which only a Hugging Face card has, and a shard of no samples, writing nothing', async () => {
    const { dir } = folderWithImages(await examplePlan(), ALL_OK);
    const dest = join(tempTree(), 'x');
    const result = await runInProcess(['export', dir, '--format', 'webdataset', '--license', 'mit', '--copy-to', dest], ROOT);
    expect(result).toMatchObject({ code: 2, stderr: 'error: `--license` applies to `--format hf`. Drop it, or change `--format`.\n' });
    const empty = await runInProcess(['export', dir, '--format', 'webdataset', '--shard-size', '0', '--copy-to', dest], ROOT);
    expect(empty).toMatchObject({ code: 2, stderr: 'error: Expected `--shard-size` to be an integer >= 1, got `0`.\n' });
    expect(existsSync(dest)).toBe(false);
  });
});
