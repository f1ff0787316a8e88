// Where a manifest's run lives by default: `output/<name>/` in the manifest's project, found from
// the manifest's own folder, so the same command gives the same folder from any working directory.
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join, parse, sep } from 'node:path';
import { StateError } from '../errors.js';

/** The journal: the run's only memory. */
export const JOURNAL_FILE = 'state.jsonl';
/** The report, rewritten at the end of every run. */
export const REPORT_FILE = 'report.json';

/** A folder that holds one of these is a project's top: its `output/` is the default root. */
const PROJECT_MARKERS = ['output', 'package.json', '.git'] as const;

/**
 * `output/` of the nearest folder, from the manifest's own upwards, that has an `output/` folder,
 * a `package.json` or a `.git`; `output/` beside the manifest when none has. A manifest shipped
 * inside an installed package (under `node_modules/`) is not the user's project: writing into the
 * installation would fail for a global install and vanish on the next `npm install`, so its runs
 * go to `output/` of the working directory.
 */
export function defaultOutputRoot(manifestAbsolutePath: string, cwd: string): string {
  const start = dirname(manifestAbsolutePath);
  if (start.split(sep).includes('node_modules')) return join(cwd, 'output');
  for (let dir = start; ; dir = dirname(dir)) {
    if (PROJECT_MARKERS.some((marker) => existsSync(join(dir, marker)))) return join(dir, 'output');
    if (dir === parse(dir).root) return join(start, 'output');
  }
}

export const defaultOutputDir = (manifestAbsolutePath: string, name: string, cwd: string): string => join(defaultOutputRoot(manifestAbsolutePath, cwd), name);

/** Creates the output folder (and its parents), or says plainly why it cannot. */
export function createOutputFolder(outputDir: string): void {
  try {
    mkdirSync(outputDir, { recursive: true });
  } catch (cause) {
    throw new StateError(
      'output_unwritable',
      `Cannot create the output folder ${outputDir}: ${(cause as Error).message}. Choose a folder you can write to with --output DIR.`,
      { cause },
    );
  }
}
