// Writing output files atomically: a reader (or a crash) never sees half a report, and a failed
// write leaves neither half a file nor a stray temp file behind.
import { closeSync, mkdirSync, openSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { StateError } from '../errors.js';

/** Writes pieces one after another: a 100,000-job report is never one string. */
function writeChunks(path: string, chunks: Iterable<string>): void {
  const fd = openSync(path, 'w');
  try {
    for (const chunk of chunks) {
      const bytes = Buffer.from(chunk);
      for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done);
    }
  } finally {
    closeSync(fd);
  }
}

function removeTemp(temp: string): void {
  try {
    rmSync(temp, { force: true });
  } catch {
    // Its folder is missing or a file (ENOTDIR): no temp file could have been made.
  }
}

/**
 * `content`: the file's text, or its pieces in order. Its folder is created when missing. `hint`
 * ends the message when it cannot be written (how to get this file back).
 */
export function writeFileAtomic(path: string, content: string | Iterable<string>, hint = "Nothing recorded in the journal is lost: free some disk space or fix the folder's permissions, then rerun the command (`klingrun report <manifest>` rewrites the report alone)."): void {
  const temp = `${path}.${process.pid}.tmp`;
  try {
    mkdirSync(dirname(path), { recursive: true });
    if (typeof content === 'string') writeFileSync(temp, content);
    else writeChunks(temp, content);
    renameSync(temp, path);
  } catch (cause) {
    removeTemp(temp);
    throw new StateError('output_unwritable', `Cannot write ${path}: ${(cause as Error).message}. ${hint}`, { cause });
  }
}

