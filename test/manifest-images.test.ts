// Images: globs, files and URLs resolved relative to the manifest, local files checked against the
// API's limits by content before anything is paid, each distinct file read and hashed once.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatError } from '../src/cli/format-error.js';
import { ManifestError } from '../src/errors.js';
import { inspectImage } from '../src/manifest/image-file.js';
import { nodeFs, type ManifestFs } from '../src/manifest/fs.js';
import { loadPlan } from '../src/plan/index.js';
import { makePng } from './helpers/images.js';
import { png, tempTree } from './helpers/manifest.js';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/images/${name}`, import.meta.url));
const HEAD = 'version: 1\nname: test\ndefaults: { model_name: kling-v1-5, mode: pro }\n';

/** The formatted errors of planning `manifest` in a tree of `files` ('' when it plans). */
async function planErrors(manifest: string, files: Record<string, string | Uint8Array>): Promise<string> {
  const dir = tempTree({ 'm.yaml': manifest, ...files });
  try {
    await loadPlan('m.yaml', { cwd: dir });
    return '';
  } catch (error) {
    if (!(error instanceof ManifestError)) throw error;
    return formatError(error);
  }
}

describe('inspectImage', () => {
  it('accepts the shipped fixtures by content: PNG and JPEG, with their size', () => {
    expect(inspectImage(fixture('good.png'))).toEqual({ format: 'png', width: 512, height: 384 });
    expect(inspectImage(fixture('good.jpg'))).toEqual({ format: 'jpeg', width: 384, height: 512 });
  });

  it('refuses what the API would refuse, saying why', () => {
    expect(inspectImage(fixture('small.png'))).toBe('is 200×200 px; both sides must be at least 300 px. Use a larger image.');
    expect(inspectImage(fixture('wide.png'))).toBe('is 900×300 px (3.00:1); the aspect ratio must be between 1:2.5 and 2.5:1. Crop it.');
    expect(inspectImage(fixture('not-an-image.jpg'))).toBe('is not a JPEG or PNG image (judged by its content, not its name). Convert it to JPEG or PNG.');
    expect(inspectImage(Uint8Array.from(fixture('good.png').subarray(0, 20)))).toMatch(/size cannot be read/);
  });

  it('accepts the limits exactly: 300 px sides and a 2.5:1 aspect', () => {
    expect(inspectImage(makePng({ width: 300, height: 300 }))).toMatchObject({ width: 300 });
    expect(inspectImage(makePng({ width: 750, height: 300 }))).toMatchObject({ width: 750 });
    expect(inspectImage(makePng({ width: 300, height: 751 }))).toMatch(/aspect ratio/);
    expect(inspectImage(makePng({ width: 299, height: 400 }))).toMatch(/at least 300 px/);
  });
});

describe('resolving images', () => {
  it('expands globs sorted, relative to the manifest, as POSIX paths with hash, bytes and size', async () => {
    const files = { 'pics/b.png': png(2), 'pics/a.png': png(1), 'pics/sub/c.jpg': fixture('good.jpg'), 'pics/notes.txt': 'x' };
    const dir = tempTree({ 'jobs/m.yaml': `${HEAD}jobs:\n  - image: ../pics/**/*.{png,jpg}\n`, ...files });
    const { plan } = await loadPlan('jobs/m.yaml', { cwd: dir });
    expect(plan.jobs.map((j) => j.request.image)).toEqual([
      { kind: 'file', path: '../pics/a.png', sha256: createHash('sha256').update(files['pics/a.png']).digest('hex'), bytes: files['pics/a.png'].length, width: 512, height: 384 },
      expect.objectContaining({ path: '../pics/b.png' }),
      expect.objectContaining({ path: '../pics/sub/c.jpg', width: 384, height: 512 }),
    ]);
  });

  it('takes a list mixing files, globs and https URLs, and never opens a URL', async () => {
    const dir = tempTree({ 'm.yaml': `${HEAD}jobs:\n  - image: [one.png, "more/*.png", https://example.com/cat.png]\n`, 'one.png': png(1), 'more/x.png': png(2) });
    const { plan } = await loadPlan(join(dir, 'm.yaml'));
    expect(plan.jobs.map((j) => j.request.image)).toEqual([
      expect.objectContaining({ kind: 'file', path: 'one.png' }),
      expect.objectContaining({ kind: 'file', path: 'more/x.png' }),
      { kind: 'url', url: 'https://example.com/cat.png' },
    ]);
  });

  it('reads and hashes each distinct file once, however many jobs and fields use it', async () => {
    const dir = tempTree({ 'm.yaml': '', 'a.png': png(1), 'b.png': png(2) });
    const manifest = `${HEAD}matrix: { prompt: [p1, p2, p3] }\njobs:\n  - { image: "*.png", image_tail: a.png, repeat: 2 }\n  - { image: [a.png, b.png], image_tail: b.png }\n`;
    const reads: string[] = [];
    const fs: ManifestFs = {
      ...nodeFs,
      readFile: async (path) => (path.endsWith('m.yaml') ? Buffer.from(manifest) : (reads.push(path), nodeFs.readFile(path))),
    };
    const { plan } = await loadPlan(join(dir, 'm.yaml'), { fs });
    expect(plan.jobs).toHaveLength(2 * 3 * 2 + 2 * 3);
    expect(reads.map((p) => p.slice(dir.length + 1)).sort()).toEqual(['a.png', 'b.png']);
  });

  it('reports every bad local image at the field that names it, before anything is paid', async () => {
    const out = await planErrors(
      `${HEAD}jobs:\n  - image: "bad/*"\n  - image: missing.png\n  - image: bad\n  - image: http://example.com/a.png\n  - image: "none/*.png"\n`,
      { 'bad/small.png': fixture('small.png'), 'bad/wide.png': fixture('wide.png'), 'bad/text.jpg': fixture('not-an-image.jpg') },
    );
    expect(out).toMatchInlineSnapshot(`
      "error: m.yaml:5:12 at \`jobs[0].image\`: image \`bad/small.png\` is 200×200 px; both sides must be at least 300 px. Use a larger image.
            - image: "bad/*"
                     ^

      error: m.yaml:5:12 at \`jobs[0].image\`: image \`bad/text.jpg\` is not a JPEG or PNG image (judged by its content, not its name). Convert it to JPEG or PNG.
            - image: "bad/*"
                     ^

      error: m.yaml:5:12 at \`jobs[0].image\`: image \`bad/wide.png\` is 900×300 px (3.00:1); the aspect ratio must be between 1:2.5 and 2.5:1. Crop it.
            - image: "bad/*"
                     ^

      error: m.yaml:6:12 at \`jobs[1].image\`: \`missing.png\` does not exist (paths are relative to the manifest's folder).
            - image: missing.png
                     ^

      error: m.yaml:7:12 at \`jobs[2].image\`: \`bad\` is a folder; name its images with a glob such as \`bad/*.jpg\`.
            - image: bad
                     ^

      error: m.yaml:8:12 at \`jobs[3].image\`: \`http://example.com/a.png\` is not an https URL; the provider fetches images over https only.
            - image: http://example.com/a.png
                     ^

      error: m.yaml:9:12 at \`jobs[4].image\`: the glob \`none/*.png\` matches no files (globs are relative to the manifest's folder).
            - image: "none/*.png"
                     ^"
    `);
  });

  it('reports a file that cannot be read as an issue, not a crash', async () => {
    const dir = tempTree({ 'm.yaml': `${HEAD}jobs:\n  - image: a.png\n`, 'a.png': png(1) });
    const fs: ManifestFs = { ...nodeFs, readFile: async (path) => (path.endsWith('a.png') ? Promise.reject(new Error('EACCES: permission denied')) : nodeFs.readFile(path)) };
    await expect(loadPlan(join(dir, 'm.yaml'), { fs })).rejects.toThrow(ManifestError);
    const error = await loadPlan(join(dir, 'm.yaml'), { fs }).catch((e: ManifestError) => e);
    expect((error as ManifestError).issues.map((i) => i.message)).toEqual(['image `a.png` cannot be read: EACCES: permission denied.']);
  });

  it('refuses images over 10 MB without reading them', async () => {
    const big = makePng({ width: 2000, height: 1900, noise: true, level: 0 });
    expect(big.length).toBeGreaterThan(10 * 1024 * 1024);
    const dir = tempTree({ 'm.yaml': `${HEAD}jobs:\n  - image: big.png\n`, 'big.png': big });
    const reads: string[] = [];
    const fs: ManifestFs = { ...nodeFs, readFile: (path) => (reads.push(path), nodeFs.readFile(path)) };
    await expect(loadPlan(join(dir, 'm.yaml'), { fs })).rejects.toThrow(ManifestError);
    expect(reads).toEqual([join(dir, 'm.yaml')]);
    expect(await planErrors(`${HEAD}jobs:\n  - image: big.png\n`, { 'big.png': big })).toContain(
      'm.yaml:5:12 at `jobs[0].image`: image `big.png` is 10.9 MB; the API accepts at most 10.0 MB. Downscale or recompress it.',
    );
  });

  it('checks image_tail and masks like images, but each must name exactly one file or URL', async () => {
    const out = await planErrors(
      `version: 1\nname: test\ndefaults: { model_name: kling-v1, static_mask: "masks/*.png" }\njobs:\n  - image: a.png\n    image_tail: small.png\n    dynamic_masks: [{ mask: nope.png, trajectories: [{ x: 0, y: 0 }, { x: 1, y: 1 }] }]\n`,
      { 'a.png': png(1), 'small.png': fixture('small.png'), 'masks/m.png': png(3) },
    );
    expect(out).toMatchInlineSnapshot(`
      "error: m.yaml:3:48 at \`defaults.static_mask\`: \`masks/*.png\` is a glob; this field takes exactly one image file or https URL.
          defaults: { model_name: kling-v1, static_mask: "masks/*.png" }
                                                         ^

      error: m.yaml:6:17 at \`jobs[0].image_tail\`: image \`small.png\` is 200×200 px; both sides must be at least 300 px. Use a larger image.
              image_tail: small.png
                          ^

      error: m.yaml:6:17 at \`jobs[0].image_tail\`: \`image_tail\` cannot be combined with \`static_mask\` on kling-v1 (in jobs[0]). Remove one of them.
              image_tail: small.png
                          ^

      error: m.yaml:7:29 at \`jobs[0].dynamic_masks[0].mask\`: \`nope.png\` does not exist (paths are relative to the manifest's folder).
              dynamic_masks: [{ mask: nope.png, trajectories: [{ x: 0, y: 0 }, { x: 1, y: 1 }] }]
                                      ^"
    `);
  });
});
