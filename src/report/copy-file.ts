// Placing a finished video, or a source image, in another folder (a dataset folder, a merged
// report): a hard link when the file system allows (instant, no space), else a copy, checked
// against its recorded sha256 so a damaged or changed file never travels on silently.
import { constants, copyFileSync, existsSync, linkSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { InputError, StateError } from '../errors.js';
import { sha256Hex } from '../plan/ids.js';

const sha256Of = (file: string): string => sha256Hex(readFileSync(file));

export interface PlacedFile {
  /** What the file is, for messages: `video`, `source image`. */
  readonly what: string;
  /** The sha256 the run recorded; null when none was. */
  readonly sha256: string | null;
  /** How to get the file back when it is missing or changed. */
  readonly hint: string;
}

/** The bytes of `from`. Throws InputError when it is missing or its content is not the recorded sha256. */
export function readChecked(from: string, { what, sha256, hint }: PlacedFile): Buffer {
  if (!existsSync(from)) throw new InputError('input_missing', `The ${what} ${from} is missing. ${hint}`);
  const bytes = readFileSync(from);
  if (sha256 !== null && sha256Hex(bytes) !== sha256) {
    throw new InputError('input_invalid', `The ${what} ${from} does not match the sha256 its run recorded (it was changed or damaged). ${hint}`);
  }
  return bytes;
}

/**
 * Puts `from` at `to` (replacing a different file there). Throws InputError when `from` is missing
 * or its content is not the recorded sha256.
 */
export function placeFile(from: string, to: string, file: PlacedFile): void {
  readChecked(from, file);
  const { what, sha256 } = file;
  try {
    if (existsSync(to)) {
      if (sha256 !== null && sha256Of(to) === sha256) return;
      rmSync(to);
    }
    mkdirSync(dirname(to), { recursive: true });
    try {
      linkSync(from, to);
    } catch {
      // Another device, or a file system without hard links.
      copyFileSync(from, to, constants.COPYFILE_FICLONE);
    }
  } catch (cause) {
    throw new StateError('output_unwritable', `Cannot place the ${what} at ${to}: ${(cause as Error).message}. Choose a folder you can write to, with room for the files.`, { cause });
  }
}
