// What a run sends besides its API calls (plan/egress.ts), with the disk read for it here, at the
// edge: symlinks resolved, so a link inside the manifest's folder that leads out counts as out.
// And the sentences plan, validate and run say it in.
import { realpath } from 'node:fs/promises';
import { relative, resolve } from 'node:path';
import { egressOf, localFiles, type Egress } from '../plan/egress.js';
import type { PlannedJob } from '../plan/schema.js';

/** Paths resolved at once: the disk kept busy, far from EMFILE. */
const AT_ONCE = 256;
/** Callback hosts named in full; the rest are counted. */
const LISTED_HOSTS = 5;

/** What `jobs` send besides the API calls; their local paths are relative to `manifestDir`. */
export async function egressOfJobs(jobs: readonly PlannedJob[], manifestDir: string): Promise<Egress> {
  const folder = await realpath(manifestDir).catch(() => manifestDir);
  // The files were just read to plan them; one gone since is taken where its path points.
  const real = (path: string) => realpath(resolve(manifestDir, path)).catch(() => resolve(folder, path));
  const paths = localFiles(jobs);
  const realPaths = new Map<string, string>();
  for (let at = 0; at < paths.length; at += AT_ONCE) {
    const slice = paths.slice(at, at + AT_ONCE);
    const resolved = await Promise.all(slice.map(real));
    slice.forEach((path, k) => realPaths.set(path, resolved[k] as string));
  }
  return egressOf(jobs, folder, realPaths);
}

/** What `jobs` send besides the API calls, and the sentences that say it (`cwd` names the folder). */
export async function egressNotes(jobs: readonly PlannedJob[], manifestDir: string, cwd: string): Promise<{ egress: Egress; sentences: string[] }> {
  const egress = await egressOfJobs(jobs, manifestDir);
  return { egress, sentences: describeEgress(egress, manifestDir, `${relative(cwd, manifestDir) || '.'}/`) };
}

const jobsText = (n: number) => `${n} job${n === 1 ? '' : 's'}`;
const more = (n: number, what: string) => (n > 0 ? ` and ${n} more ${what}` : '');

/**
 * One sentence per kind of thing sent ([] when nothing is): the callback hosts, and the files
 * outside the manifest's folder (named `folderLabel`, e.g. `jobs/`), each as the manifest
 * names it, with where a link leads.
 */
export function describeEgress(egress: Egress, manifestDir: string, folderLabel: string): string[] {
  const sentences: string[] = [];
  const hosts = egress.callback_hosts;
  if (hosts.length > 0) {
    const listed = hosts.slice(0, LISTED_HOSTS).map((h) => `${h.host} (${jobsText(h.jobs)})`);
    sentences.push(`The provider will POST each task's updates, video URLs included, to ${listed.join(', ')}${more(hosts.length - listed.length, 'host(s)')}, as callback_url asks.`);
  }
  const { count, first } = egress.outside_files;
  if (count > 0) {
    // A path that leads where it says is shown in full; a link, as named and where it leads.
    const named = first.map((f) => (resolve(manifestDir, f.path) === f.real_path ? f.real_path : `${f.path} (a link to ${f.real_path})`));
    const files = count === 1 ? '1 local file' : `${count} local files`;
    sentences.push(`${files} outside the manifest's folder (${folderLabel}) will be read and sent to the provider: ${named.join(', ')}${more(count - first.length, 'file(s)')}.`);
  }
  return sentences;
}
