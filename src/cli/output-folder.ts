// Where a manifest's run lives: `output/<name>/` under the current folder, or `--output DIR`.
import { join, resolve } from 'node:path';
import type { CliIO } from './io.js';

export const outputDirFor = (io: Pick<CliIO, 'cwd'>, name: string, flag: string | undefined): string =>
  resolve(io.cwd, flag ?? join('output', name));

export { JOURNAL_FILE, REPORT_FILE } from '../report/load-output.js';
