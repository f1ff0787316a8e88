// A minimal POSIX ustar writer, enough for WebDataset shards: regular files only, names of at most
// 100 bytes, written in order. Written by hand (about 60 lines) rather than adding a dependency for
// it; test/export-webdataset.test.ts reads the shards back with its own parser and with `tar`.
import { closeSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { KlingrunError, StateError } from '../errors.js';

const BLOCK = 512;

/** `value` as `width - 1` octal digits and a NUL, as ustar's numeric fields are. */
function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, '0')}\0`;
}

/** The 512-byte header of a regular file (mode 0644, owner 0). */
export function tarHeader(name: string, size: number, mtime: number): Buffer {
  const header = Buffer.alloc(BLOCK);
  if (Buffer.byteLength(name) > 100) throw new RangeError(`tar entry name longer than 100 bytes: ${name}`);
  header.write(name, 0, 100, 'utf8');
  header.write(octal(0o644, 8), 100, 'ascii');
  header.write(octal(0, 8), 108, 'ascii');
  header.write(octal(0, 8), 116, 'ascii');
  header.write(octal(size, 12), 124, 'ascii');
  header.write(octal(Math.max(0, Math.floor(mtime)), 12), 136, 'ascii');
  header.write(' '.repeat(8), 148, 'ascii'); // the checksum counts its own field as spaces
  header.write('0', 156, 'ascii');
  header.write('ustar\0' + '00', 257, 'ascii');
  const sum = header.reduce((total, byte) => total + byte, 0);
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return header;
}

export interface TarEntry {
  readonly name: string;
  readonly data: Uint8Array;
  /** Seconds since the epoch. */
  readonly mtime: number;
}

function writeAll(fd: number, bytes: Uint8Array): void {
  for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done);
}

/**
 * Writes `file` whole (temp file, then rename; its folder is created): each entry, padded to 512
 * bytes, then two zero blocks. A file-system failure is a StateError ending with `hint`; an error
 * the entries throw (a missing clip) goes through as it is, leaving no temp file.
 */
export function writeTar(file: string, entries: Iterable<TarEntry>, hint: string): void {
  const temp = `${file}.${process.pid}.tmp`;
  try {
    mkdirSync(dirname(file), { recursive: true });
    const fd = openSync(temp, 'w');
    try {
      for (const entry of entries) {
        writeAll(fd, tarHeader(entry.name, entry.data.length, entry.mtime));
        writeAll(fd, entry.data);
        writeAll(fd, Buffer.alloc((BLOCK - (entry.data.length % BLOCK)) % BLOCK));
      }
      writeAll(fd, Buffer.alloc(2 * BLOCK));
    } finally {
      closeSync(fd);
    }
    renameSync(temp, file);
  } catch (cause) {
    try {
      rmSync(temp, { force: true });
    } catch {
      // Its folder is missing or a file: no temp file was made.
    }
    if (cause instanceof KlingrunError) throw cause;
    throw new StateError('output_unwritable', `Cannot write ${file}: ${(cause as Error).message}. ${hint}`, { cause });
  }
}
