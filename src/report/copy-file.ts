// Placing a finished video in another folder (a dataset folder, a merged report): a hard link when
// the file system allows (instant, no space), else a copy, checked against its recorded sha256 so
// a damaged clip never travels on silently.
import { createHash } from 'node:crypto';
import { constants, copyFileSync, existsSync, linkSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { InputError } from '../errors.js';

const sha256Of = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');

/**
 * Puts `from` at `to` (replacing a different file there). Throws InputError when `from` is missing
 * or its content is not the recorded `sha256`; `rerun` says how to get the file back.
 */
export function placeFile(from: string, to: string, sha256: string | null, rerun: string): void {
  if (!existsSync(from)) throw new InputError('input_missing', `The video ${from} is missing. ${rerun}`);
  if (sha256 !== null && sha256Of(from) !== sha256) {
    throw new InputError('input_invalid', `The video ${from} does not match the sha256 its run recorded (it was changed or damaged). ${rerun}`);
  }
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
}
