// Where a manifest's run lives: `--output DIR` (relative to the command's folder), else the
// manifest's default (state/output-folder.ts), which does not depend on the current directory.
import { resolve } from 'node:path';
import { defaultOutputDir } from '../state/output-folder.js';
import type { CliIO } from './io.js';

export const outputDirFor = (io: Pick<CliIO, 'cwd'>, manifestPath: string, name: string, flag: string | undefined): string =>
  flag === undefined ? defaultOutputDir(resolve(io.cwd, manifestPath), name, io.cwd) : resolve(io.cwd, flag);

export { JOURNAL_FILE, REPORT_FILE } from '../state/output-folder.js';
