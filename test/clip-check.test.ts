// Whether the clips the journal recorded are still on disk: a stat answers for untouched ones, a
// hash for the others, and every case is told apart (a resume checks 100,000 of them this way).
import { createHash } from 'node:crypto';
import { mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkDownloads } from '../src/runner/clip-check.js';
import type { Download } from '../src/runner/job-state.js';
import { tempTree } from './helpers/manifest.js';

const sha = (text: string) => createHash('sha256').update(text).digest('hex');
const MTIME_S = 1_700_000_000;

describe('checkDownloads', () => {
  it('tells intact, changed and missing clips apart, by stat where it can and by hash where it must', async () => {
    const dir = tempTree();
    mkdirSync(join(dir, 'videos'));
    const clip = (name: string, content: string, mtimeS = MTIME_S) => {
      writeFileSync(join(dir, 'videos', name), content);
      utimesSync(join(dir, 'videos', name), mtimeS, mtimeS);
    };
    const recorded = (name: string, content: string, mtime = true): Download => ({ path: `videos/${name}`, sha256: sha(content), bytes: content.length, ...(mtime ? { mtime_ms: MTIME_S * 1000 } : {}) });
    clip('same.mp4', 'clip one');
    clip('touched.mp4', 'clip two', MTIME_S + 5); // same bytes, other mtime: the hash vouches for it
    clip('replaced.mp4', 'clip 3!!', MTIME_S + 5); // same size, other bytes
    clip('resized.mp4', 'longer clip four');
    clip('unrecorded.mp4', 'clip five'); // no mtime in the journal: hashed
    mkdirSync(join(dir, 'videos', 'folder.mp4'));
    const downloads: [string, Download][] = [
      ['same', recorded('same.mp4', 'clip one')],
      ['touched', recorded('touched.mp4', 'clip two')],
      ['replaced', recorded('replaced.mp4', 'clip six')],
      ['resized', recorded('resized.mp4', 'clip four')],
      ['unrecorded', recorded('unrecorded.mp4', 'clip five', false)],
      ['gone', recorded('gone.mp4', 'clip seven')],
      ['folder', recorded('folder.mp4', 'clip eight')],
    ];
    const checks = await checkDownloads(dir, downloads);
    expect(Object.fromEntries(downloads.map(([id]) => [id, checks.get(id)]))).toEqual({
      same: 'intact',
      touched: 'intact',
      replaced: 'changed',
      resized: 'changed',
      unrecorded: 'intact',
      gone: 'missing',
      folder: 'missing',
    });
  });
});
