// Resolves every image a manifest names (globs, files, https URLs) to plan references, checking
// local files against the API's limits first. Each distinct file is read and hashed once, however
// many jobs or table rows use it; all reads go through the injected ManifestFs.
import { createHash } from 'node:crypto';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import fg from 'fast-glob';
import PQueue from 'p-queue';
import type { InputIssue } from '../errors.js';
import type { ImageRef } from '../plan/schema.js';
import { eachOtherImage } from '../request/fields.js';
import { caseOnlyMatch, type ManifestFs } from './fs.js';
import { inspectImage, sizeProblem } from './image-file.js';
import { isEndFrameOnlyEntry, type Manifest } from './schema.js';
import type { FieldPath, Source } from './source.js';

/** One image-valued field: of the manifest, or a cell of a table. `many`: the images an entry expands over (`jobs[].image`, or an end-frame-only entry's `image_tail`), which may be a glob. */
export interface ImageSpec {
  readonly spec: string;
  readonly many: boolean;
  /** An issue located where the spec is written. */
  readonly issue: (message: string) => InputIssue;
}

/** Resolved references by spec string (specs are relative to one folder, so a string means one thing). */
export type ResolvedImages = ReadonlyMap<string, readonly ImageRef[]>;

/** Files read at once; enough to keep the disk busy, few enough to stay far from EMFILE. */
const READ_CONCURRENCY = 32;

type Resolution =
  | { readonly kind: 'url'; readonly ref: ImageRef }
  | { readonly kind: 'files'; readonly glob: boolean; readonly files: readonly string[] }
  | { readonly kind: 'problem'; readonly message: string };

type FileResult = ImageRef | { readonly problem: string };

/** Every image-valued field of a manifest, in document order. */
export function imageSpecsOf(manifest: Manifest, source: Source): ImageSpec[] {
  const specs: ImageSpec[] = [];
  const add = (spec: string, path: FieldPath, many: boolean) => specs.push({ spec, many, issue: (message) => source.issue(path, message) });
  const singles = (fields: Manifest['defaults'], at: FieldPath) => {
    if (fields) eachOtherImage<string>(fields, (spec, path) => add(spec, [...at, ...path], false));
  };
  singles(manifest.defaults, ['defaults']);
  const many = (specs: string | readonly string[] | undefined, at: FieldPath) => {
    if (typeof specs === 'string') add(specs, at, true);
    else specs?.forEach((spec, k) => add(spec, [...at, k], true));
  };
  manifest.jobs.forEach((entry, i) => {
    const { image_tail, ...others } = entry;
    const endFrameOnly = isEndFrameOnlyEntry(entry);
    many(entry.image, ['jobs', i, 'image']);
    if (endFrameOnly) many(image_tail, ['jobs', i, 'image_tail']);
    // Beside `image` or `from`, `image_tail` is a single spec (the schema allows a list only without them).
    singles(endFrameOnly ? others : (entry as Manifest['defaults']), ['jobs', i]);
  });
  return specs;
}

const toPosix = (path: string) => path.split(sep).join('/');

function urlResolution(spec: string): Resolution | undefined {
  if (/^https:\/\//i.test(spec)) {
    return URL.canParse(spec) ? { kind: 'url', ref: { kind: 'url', url: spec } } : { kind: 'problem', message: `\`${spec}\` is not a valid URL.` };
  }
  const scheme = /^([a-z][a-z0-9+.-]+):/i.exec(spec)?.[1]?.toLowerCase();
  if (!scheme) return undefined;
  const why = scheme === 'http' ? 'the provider fetches images over https only' : 'use a local file path or an https URL';
  return { kind: 'problem', message: `\`${spec}\` is not an https URL; ${why}.` };
}

/** Specs read more than once, each time from the start: an array, or specs made on the fly (a table's). */
export interface ImageSpecs {
  [Symbol.iterator](): Iterator<ImageSpec>;
}

/**
 * Resolves and checks images (a manifest's, from imageSpecsOf, and its tables'); problems come
 * back as issues located where each spec is written. Specs are relative to `dir`.
 */
export async function resolveImages(
  specs: ImageSpecs,
  options: { readonly dir: string; readonly fs: ManifestFs },
): Promise<{ images: ResolvedImages; issues: InputIssue[] }> {
  const { dir, fs } = options;
  const queue = new PQueue({ concurrency: READ_CONCURRENCY });
  const specCache = new Map<string, Promise<Resolution>>();
  const fileCache = new Map<string, Promise<FileResult>>();
  const rel = (abs: string) => toPosix(relative(dir, abs));

  const cached = <T>(cache: Map<string, Promise<T>>, key: string, make: (key: string) => Promise<T>): Promise<T> => {
    let hit = cache.get(key);
    if (!hit) cache.set(key, (hit = make(key)));
    return hit;
  };

  // Folder listings for case-only did-you-means, read once per folder however many paths miss.
  const listings = new Map<string, Promise<readonly string[] | undefined>>();
  const list = (path: string) => cached(listings, path, (p) => fs.readdir?.(p) ?? Promise.resolve(undefined));
  const caseHint = async (spec: string): Promise<string> => {
    const match = fs.readdir ? await caseOnlyMatch(spec, dir, list) : undefined;
    return match === undefined ? '' : ` Did you mean \`${match}\`? Only the case differs, and file names here are case-sensitive.`;
  };
  // A glob's folders (`Images/*.png`), up to its first wildcard, may differ only in case as well.
  const globCaseHint = async (spec: string): Promise<string> => {
    const parts = spec.split('/');
    const wild = parts.findIndex((part) => fg.isDynamicPattern(part));
    const folder = wild > 0 && fs.readdir ? await caseOnlyMatch(parts.slice(0, wild).join('/'), dir, list) : undefined;
    const fixed = folder === undefined ? undefined : [folder, ...parts.slice(wild)].join('/');
    return fixed !== undefined && (await fs.glob(fixed, dir)).length ? ` Did you mean \`${fixed}\`? Only the case differs, and file names here are case-sensitive.` : '';
  };

  const resolveSpec = async (spec: string): Promise<Resolution> => {
    const url = urlResolution(spec);
    if (url) return url;
    const abs = isAbsolute(spec) ? spec : resolve(dir, spec);
    const found = await fs.stat(abs);
    if (found?.isFile) return { kind: 'files', glob: false, files: [abs] };
    if (found) return { kind: 'problem', message: `\`${spec}\` is a folder; name its images with a glob such as \`${spec.replace(/\/?$/, '/*.jpg')}\`.` };
    if (!fg.isDynamicPattern(spec)) return { kind: 'problem', message: `\`${spec}\` does not exist (paths are relative to the manifest's folder).${await caseHint(spec)}` };
    const matches = (await fs.glob(spec, dir)).map((m) => resolve(dir, m)).sort((a, b) => (rel(a) < rel(b) ? -1 : 1));
    if (matches.length === 0) return { kind: 'problem', message: `the glob \`${spec}\` matches no files (globs are relative to the manifest's folder).${await globCaseHint(spec)}` };
    return { kind: 'files', glob: true, files: matches };
  };

  const checkFile = (abs: string): Promise<FileResult> =>
    queue.add(async () => {
      const size = (await fs.stat(abs))?.size ?? 0;
      const tooBig = sizeProblem(size);
      if (tooBig) return { problem: tooBig };
      let bytes: Uint8Array;
      try {
        bytes = await fs.readFile(abs);
      } catch (error) {
        return { problem: `cannot be read: ${(error as Error).message}.` };
      }
      const facts = inspectImage(bytes);
      if (typeof facts === 'string') return { problem: facts };
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      return { kind: 'file', path: rel(abs), sha256, bytes: bytes.length, width: facts.width, height: facts.height } as const;
    });

  /** What a spec resolves to: its references when all are fine, and sentences (completing "at <field>: …") for what is not. */
  const outcomeOf = async (spec: string): Promise<{ refs?: ImageRef[]; problems: string[]; glob: boolean }> => {
    const resolution = await cached(specCache, spec, resolveSpec);
    if (resolution.kind === 'problem') return { problems: [resolution.message], glob: false };
    if (resolution.kind === 'url') return { refs: [resolution.ref], problems: [], glob: false };
    const results = await Promise.all(resolution.files.map((abs) => cached(fileCache, abs, checkFile)));
    const refs = results.filter((r): r is ImageRef => !('problem' in r));
    const problems = results.flatMap((result, k) => ('problem' in result ? [`image \`${rel(resolution.files[k] ?? '')}\` ${result.problem}`] : []));
    return { ...(refs.length === results.length ? { refs } : {}), problems, glob: resolution.glob };
  };
  // Each distinct spec is resolved once, however many fields or table rows name it.
  const distinct = new Set<string>();
  for (const { spec } of specs) distinct.add(spec);
  const outcomes = new Map(await Promise.all([...distinct].map(async (spec) => [spec, await outcomeOf(spec)] as const)));

  const images = new Map<string, ImageRef[]>();
  // Issues come in field order, so the output never depends on I/O timing.
  const issues: InputIssue[] = [];
  for (const { spec, many, issue } of specs) {
    const outcome = outcomes.get(spec);
    if (!outcome) continue;
    if (!many && outcome.glob) {
      issues.push(issue(`\`${spec}\` is a glob; this field takes exactly one image file or https URL.`));
      continue;
    }
    for (const problem of outcome.problems) issues.push(issue(problem));
    if (outcome.refs) images.set(spec, outcome.refs);
  }
  return { images, issues };
}
