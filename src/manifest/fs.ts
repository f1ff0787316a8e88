// The file-system reads planning needs, as an interface: tests and the bench pass their own,
// so everything from manifest to plan runs without touching the real disk unless asked to.
import { readFile, stat } from 'node:fs/promises';
import fg from 'fast-glob';

export interface ManifestFs {
  readFile(path: string): Promise<Uint8Array>;
  /** What is at `path`, or undefined when nothing is. */
  stat(path: string): Promise<{ readonly size: number; readonly isFile: boolean } | undefined>;
  /** Files matching `pattern` under `cwd`, as paths relative to `cwd` with `/` separators, any order. */
  glob(pattern: string, cwd: string): Promise<string[]>;
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
};
