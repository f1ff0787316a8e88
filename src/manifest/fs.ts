// The file-system reads planning needs, as an interface: tests and the bench pass their own,
// so everything from manifest to plan runs without touching the real disk unless asked to.
import { readFile, readdir, stat } from 'node:fs/promises';
import { isAbsolute, join, parse, resolve } from 'node:path';
import fg from 'fast-glob';

export interface ManifestFs {
  readFile(path: string): Promise<Uint8Array>;
  /** What is at `path`, or undefined when nothing is. */
  stat(path: string): Promise<{ readonly size: number; readonly isFile: boolean } | undefined>;
  /** Files matching `pattern` under `cwd`, as paths relative to `cwd` with `/` separators, any order. */
  glob(pattern: string, cwd: string): Promise<string[]>;
  /** The names in the folder `path`, or undefined when it is none; without it, no case-only did-you-mean. */
  readdir?(path: string): Promise<readonly string[] | undefined>;
}

export const nodeFs: ManifestFs = {
  readFile: (path) => readFile(path),
  stat: async (path) => {
    try {
      const s = await stat(path);
      return { size: s.size, isFile: s.isFile() };
    } catch {
      return undefined;
    }
  },
  glob: (pattern, cwd) => fg(pattern, { cwd, onlyFiles: true, dot: false, followSymbolicLinks: true }),
  readdir: (path) => readdir(path).catch(() => undefined),
};

/**
 * The path that exists where `spec` (relative to `dir`, or absolute) does not, differing only in
 * the case of its names (`Images/Cat.PNG` for `images/cat.png` on a case-sensitive disk), spelt
 * like `spec`. Only asked about a missing path, so a glob of thousands of images never pays for it.
 * `list` reads a folder (the caller may cache it).
 */
export async function caseOnlyMatch(spec: string, dir: string, list: (path: string) => Promise<readonly string[] | undefined>): Promise<string | undefined> {
  const parts = spec.split(/[\\/]/);
  let at = isAbsolute(spec) ? parse(spec).root : dir;
  let changed = false;
  const out: string[] = [];
  for (const [k, part] of parts.entries()) {
    if (part === '' || part === '.' || part === '..' || (k === 0 && isAbsolute(spec))) {
      out.push(part);
      if (part === '..') at = resolve(at, part);
      continue;
    }
    const names = await list(at);
    const name = names?.includes(part) ? part : names?.find((n) => n.toLowerCase() === part.toLowerCase());
    if (name === undefined) return undefined;
    changed ||= name !== part;
    out.push(name);
    at = join(at, name);
  }
  return changed ? out.join('/') : undefined;
}
