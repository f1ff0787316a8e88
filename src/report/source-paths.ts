// Every path a user sees in an output folder has that folder as its base: videos already do,
// and source images, which the plan records relative to the manifest's folder, are rebased
// here. So `output/<name>/` keeps working wherever it goes alongside the manifest's folder, and
// a `--copy-to` dataset folder, which holds its own copies, works anywhere.
import { posix } from 'node:path';
import type { ImageRef } from '../plan/schema.js';

/**
 * A source image as a path relative to the output folder, or its URL. `manifestPath` is the
 * manifest relative to the output folder, as report.json records it.
 */
export function imageFromOutput(manifestPath: string, ref: ImageRef): string {
  if (ref.kind === 'url') return ref.url;
  return posix.normalize(posix.join(posix.dirname(manifestPath.replace(/\\/g, '/')), ref.path));
}
