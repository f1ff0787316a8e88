// Writing output files atomically: a reader (or a crash) never sees half a report.
import { renameSync, writeFileSync } from 'node:fs';

export function writeFileAtomic(path: string, content: string): void {
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, content);
  renameSync(temp, path);
}
