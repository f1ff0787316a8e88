// What a run sends besides its API calls (src/plan/egress.ts, and its disk-reading edge in
// src/cli/egress.ts): callback hosts with their job counts, and the local files that lie outside
// the manifest's folder once symlinks are resolved.
import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeEgress, egressNotes } from '../src/cli/egress.js';
import { egressOf, localFiles, sendsMore } from '../src/plan/egress.js';
import { loadPlan } from '../src/plan/index.js';
import type { ImageRef, JobRequest, PlannedJob } from '../src/plan/schema.js';
import { png, tempTree, writeTree } from './helpers/manifest.js';
import { ROOT } from './helpers/reports.js';

const file = (path: string): ImageRef => ({ kind: 'file', path, sha256: '0'.repeat(64), bytes: 1, width: 512, height: 512 });
const url = (u: string): ImageRef => ({ kind: 'url', url: u });

let made = 0;
function job(request: JobRequest): PlannedJob {
  made += 1;
  const id = made.toString(16).padStart(64, '0');
  return { id, external_task_id: `kr-${id.slice(0, 24)}`, entry: 0, repeat: 1, repeats: 1, variant: {}, request, cost_usd: 0.21 };
}

describe('egressOf', () => {
  const folder = '/p/jobs';

  it('counts the jobs of each callback host, sorted by host; image URLs are the provider\'s to fetch, not counted', () => {
    const jobs = [
      job({ image: file('a.png'), callback_url: 'https://attacker.example/hook' }),
      job({ image: file('b.png'), callback_url: 'https://attacker.example/other?x=1' }),
      job({ image: url('https://images.example/c.png'), callback_url: 'http://hooks.example:8443/k' }),
      job({ image: url('https://images.example/d.png') }),
    ];
    const egress = egressOf(jobs, folder, new Map());
    expect(egress.callback_hosts).toEqual([
      { host: 'attacker.example', jobs: 2 },
      { host: 'hooks.example:8443', jobs: 1 },
    ]);
    expect(egress.outside_files).toEqual({ count: 0, first: [] });
    expect(sendsMore(egress)).toBe(true);
  });

  it('counts each distinct local file outside the folder once, by its real path, naming the first three in plan order', () => {
    const jobs = [
      job({ image: file('a.png') }),
      job({ image: file('../../etc/one.png'), image_tail: file('link.png') }),
      job({ image: file('../../etc/one.png'), static_mask: file('../two.png') }),
      job({ image: file('..hidden.png'), dynamic_masks: [{ mask: file('../../x/three.png'), trajectories: [{ x: 1, y: 2 }] }] }),
      job({ image: file('sub/inner-link.png') }),
    ];
    const realPaths = new Map([
      ['link.png', '/elsewhere/secret.png'],
      ['sub/inner-link.png', '/p/jobs/a.png'],
    ]);
    const egress = egressOf(jobs, folder, realPaths);
    expect(egress.callback_hosts).toEqual([]);
    expect(egress.outside_files).toEqual({
      count: 4,
      first: [
        { path: '../../etc/one.png', real_path: '/etc/one.png' },
        { path: 'link.png', real_path: '/elsewhere/secret.png' },
        { path: '../two.png', real_path: '/p/two.png' },
      ],
    });
    expect(localFiles(jobs)).toEqual(['a.png', '../../etc/one.png', 'link.png', '../two.png', '..hidden.png', '../../x/three.png', 'sub/inner-link.png']);
  });

  it('is empty for jobs that read only files inside the folder and set no callback', () => {
    const egress = egressOf([job({ image: file('images/a.png') }), job({ image: url('https://x.example/a.png') })], folder, new Map());
    expect(sendsMore(egress)).toBe(false);
    expect(describeEgress(egress, folder, 'jobs/')).toEqual([]);
  });
});

describe('egressNotes (the disk read: symlinks resolved)', () => {
  it('a link inside the folder that leads out counts as outside, named with where it leads; an absolute path out is named in full', async () => {
    const outside = tempTree({ 'secret.png': png(2), 'other.png': png(3) });
    const dir = tempTree({ 'jobs/a.png': png(1) });
    symlinkSync(join(outside, 'secret.png'), join(dir, 'jobs', 'link.png'));
    writeTree(dir, { 'jobs/m.yaml': `version: 1\nname: m\njobs:\n  - image: [a.png, link.png, ${join(outside, 'other.png')}]\n    callback_url: https://attacker.example/hook\n` });
    const loaded = await loadPlan('jobs/m.yaml', { cwd: dir });
    const { egress, sentences } = await egressNotes(loaded.plan.jobs, loaded.manifestDir, dir);
    expect(egress.outside_files.count).toBe(2);
    expect(sentences).toEqual([
      "The provider will POST each task's updates, video URLs included, to attacker.example (3 jobs), as callback_url asks.",
      `2 local files outside the manifest's folder (jobs/) will be read and sent to the provider: link.png (a link to ${join(outside, 'secret.png')}), ${join(outside, 'other.png')}.`,
    ]);
  });

  it('says how many more files and hosts there are beyond those it names', () => {
    const jobs = [...'abcdef'].map((c) => job({ image: file(`../${c}.png`), callback_url: `https://${c}.example/` }));
    expect(describeEgress(egressOf(jobs, '/p/jobs', new Map()), '/p/jobs', 'jobs/')).toEqual([
      "The provider will POST each task's updates, video URLs included, to a.example (1 job), b.example (1 job), c.example (1 job), d.example (1 job), e.example (1 job) and 1 more host(s), as callback_url asks.",
      "6 local files outside the manifest's folder (jobs/) will be read and sent to the provider: /p/a.png, /p/b.png, /p/c.png and 3 more file(s).",
    ]);
  });

  it('the shipped examples send nothing besides their API calls (so `npm start` is unchanged)', async () => {
    for (const manifest of ['jobs/example.yaml', 'jobs/sweep.yaml', 'jobs/dataset.yaml', 'jobs/dataset-table.yaml']) {
      const loaded = await loadPlan(manifest, { cwd: ROOT });
      expect((await egressNotes(loaded.plan.jobs, loaded.manifestDir, ROOT)).sentences, manifest).toEqual([]);
    }
  });

  it('a manifest folder reached through a symlink: its own files are inside', async () => {
    const real = tempTree({ 'a.png': png(1), 'm.yaml': 'version: 1\nname: m\njobs:\n  - image: a.png\n' });
    const dir = tempTree();
    mkdirSync(join(dir, 'p'));
    symlinkSync(real, join(dir, 'p', 'jobs'));
    const loaded = await loadPlan('p/jobs/m.yaml', { cwd: dir });
    expect((await egressNotes(loaded.plan.jobs, loaded.manifestDir, dir)).sentences).toEqual([]);
  });
});
