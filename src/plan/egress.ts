// What a run sends besides its API calls, worked out from the jobs before anything is sent: the
// hosts that `callback_url` has the provider post task updates (and so video URLs) to, and the
// local files the jobs inline that lie outside the manifest's folder (an absolute path, `../`, or
// a symlink leading out). A manifest or table from someone else can name either, so the commands
// show them and `run` asks for them whatever the cost. Image URLs are not here: the provider
// fetches them, nothing of this machine goes with them.
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { eachOtherImage } from '../request/fields.js';
import type { ImageRef, PlannedJob } from './schema.js';

/** Files named in full; the rest are counted. */
export const LISTED_FILES = 3;

export interface CallbackHost {
  /** `host[:port]` of the URL. */
  readonly host: string;
  /** Jobs whose updates go there. */
  readonly jobs: number;
}

export interface OutsideFile {
  /** As the plan has it: relative to the manifest's folder. */
  readonly path: string;
  /** Where it really is, symlinks resolved. */
  readonly real_path: string;
}

export interface Egress {
  /** Sorted by host. */
  readonly callback_hosts: readonly CallbackHost[];
  /** Distinct local files outside the folder: how many, and the first few in plan order. */
  readonly outside_files: { readonly count: number; readonly first: readonly OutsideFile[] };
}

/** Calls `visit` with each local file of a job: its image, then the others the registry names (tail image, masks). */
function eachFile(job: PlannedJob, visit: (path: string) => void): void {
  const { image } = job.request;
  if (image?.kind === 'file') visit(image.path);
  eachOtherImage<ImageRef>(job.request, (ref) => ref.kind === 'file' && visit(ref.path));
}

/** Every local file the jobs read (paths relative to the manifest's folder), each once, in plan order. */
export function localFiles(jobs: Iterable<PlannedJob>): string[] {
  const paths = new Set<string>();
  const add = (path: string) => void paths.add(path);
  for (const job of jobs) eachFile(job, add);
  return [...paths];
}

/** Whether `path` lies outside `folder` (a name starting with `..` inside it does not). */
function isOutside(folder: string, path: string): boolean {
  const rel = relative(folder, path);
  return rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel);
}

const hostOf = (url: string): string => (URL.canParse(url) ? new URL(url).host : url);

/**
 * What the jobs send besides the API calls. `folder` is the manifest's folder and `realPaths` each
 * local file's real path by its plan path, both with symlinks resolved (by the caller, which reads
 * the disk); a file missing from `realPaths` is taken where its path points.
 */
export function egressOf(jobs: Iterable<PlannedJob>, folder: string, realPaths: ReadonlyMap<string, string>): Egress {
  const hosts = new Map<string, number>();
  const seen = new Set<string>();
  const first: OutsideFile[] = [];
  let count = 0;
  const visit = (path: string): void => {
    if (seen.has(path)) return;
    seen.add(path);
    const real_path = realPaths.get(path) ?? resolve(folder, path);
    if (!isOutside(folder, real_path)) return;
    count += 1;
    if (first.length < LISTED_FILES) first.push({ path, real_path });
  };
  for (const job of jobs) {
    const url = job.request.callback_url;
    const host = url === undefined ? undefined : hostOf(url);
    if (host !== undefined) hosts.set(host, (hosts.get(host) ?? 0) + 1);
    eachFile(job, visit);
  }
  return {
    callback_hosts: [...hosts].map(([host, n]) => ({ host, jobs: n })).sort((a, b) => (a.host < b.host ? -1 : a.host > b.host ? 1 : 0)),
    outside_files: { count, first },
  };
}

/** Whether anything besides the API calls leaves the machine. */
export const sendsMore = (egress: Egress): boolean => egress.callback_hosts.length > 0 || egress.outside_files.count > 0;
