// Writing output files atomically: a reader (or a crash) never sees half a report, and a failed
// write leaves neither half a file nor a stray temp file behind.
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { StateError } from '../errors.js';

export function writeFileAtomic(path: string, content: string): void {
  const temp = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(temp, content);
    renameSync(temp, path);
  } catch (cause) {
    rmSync(temp, { force: true });
    throw new StateError(
      'output_unwritable',
      `Cannot write ${path}: ${(cause as Error).message}. Nothing recorded in the journal is lost: free some disk space or fix the folder's permissions, then rerun the command (\`klingrun report <manifest>\` rewrites the report alone).`,
      { cause },
    );
  }
}
