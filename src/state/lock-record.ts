// What the lock folder holds: generation files `g<n>`, each the record of the runner that won
// number n, and the few file operations the lock needs, behind a seam so tests can make a
// generation unreadable (root reads everything). See docs/lock.md for the scheme.
import { closeSync, fstatSync, linkSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { errnoCode } from '../errors.js';

export const recordSchema = z.object({
  pid: z.number().int().positive(),
  host: z.string(),
  started_at: z.string(),
  // Linux only: with the same boot and pid namespace, a starter can check the pid for real, and
  // the start time (clock ticks after boot) tells the holder from a later process given its pid.
  boot_id: z.string().optional(),
  pid_ns: z.string().optional(),
  start_ticks: z.string().optional(),
  /** Set by release(): the folder is free. */
  released_at: z.string().optional(),
});
export type LockRecord = z.infer<typeof recordSchema>;

export interface LockFs {
  list(dir: string): string[];
  /** Text and modification time through one open file (on NFS, opening revalidates cached attributes). */
  read(path: string): { readonly text: string; readonly mtimeMs: number };
  /** `exclusive`: fail with EEXIST when the file exists. */
  write(path: string, text: string, exclusive: boolean): void;
  link(existing: string, path: string): void;
  rename(from: string, to: string): void;
  remove(path: string): void;
  touch(path: string, mtimeMs: number): void;
  /** Creates the folder and its parents; nothing when it exists. */
  mkdir(path: string): void;
  /** undefined when nothing is there. */
  kind(path: string): 'folder' | 'file' | undefined;
}

export const nodeLockFs: LockFs = {
  list: (dir) => readdirSync(dir),
  read(path) {
    const fd = openSync(path, 'r');
    try {
      return { text: readFileSync(fd, 'utf8'), mtimeMs: fstatSync(fd).mtimeMs };
    } finally {
      closeSync(fd);
    }
  },
  write: (path, text, exclusive) => writeFileSync(path, text, exclusive ? { flag: 'wx' } : {}),
  link: linkSync,
  rename: renameSync,
  remove: unlinkSync,
  touch: (path, mtimeMs) => utimesSync(path, mtimeMs / 1000, mtimeMs / 1000),
  mkdir: (path) => void mkdirSync(path, { recursive: true }),
  kind(path) {
    try {
      return lstatSync(path).isDirectory() ? 'folder' : 'file';
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return undefined;
      throw error;
    }
  },
};

export const generationName = (n: number): string => `g${n}`;
const GENERATION = /^g([1-9][0-9]*)$/;

export interface Scan {
  /** 0 when there is none. */
  readonly highest: number;
  /** Every entry but the generation files: temp files, possibly left by a killed runner. */
  readonly others: readonly string[];
  readonly generations: readonly number[];
}

export function scan(fs: LockFs, lockDir: string): Scan {
  const generations: number[] = [];
  const others: string[] = [];
  for (const name of fs.list(lockDir)) {
    const match = GENERATION.exec(name);
    if (match) generations.push(Number(match[1]));
    else others.push(name);
  }
  return { highest: Math.max(0, ...generations), generations, others };
}

/** The highest generation, which decides who holds the folder. */
export type Top =
  | { readonly kind: 'free'; readonly generation: number }
  | { readonly kind: 'held'; readonly generation: number; readonly file: string; readonly record: LockRecord; readonly text: string; readonly mtimeMs: number }
  | { readonly kind: 'unreadable'; readonly generation: number; readonly file: string; readonly reason: string }
  /** Removed between listing and reading: a higher generation appeared meanwhile (the highest is never removed). */
  | { readonly kind: 'vanished' };

export function readTop(fs: LockFs, lockDir: string): Top {
  const generation = scan(fs, lockDir).highest;
  if (generation === 0) return { kind: 'free', generation };
  const file = join(lockDir, generationName(generation));
  let read;
  try {
    read = fs.read(file);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return { kind: 'vanished' };
    return { kind: 'unreadable', generation, file, reason: errnoCode(error) === 'EACCES' ? 'permission denied' : (error as Error).message };
  }
  const record = parseRecord(read.text);
  if (!record) return { kind: 'unreadable', generation, file, reason: `not a klingrun lock: ${JSON.stringify(read.text.slice(0, 60))}` };
  if (record.released_at !== undefined) return { kind: 'free', generation };
  return { kind: 'held', generation, file, record, text: read.text, mtimeMs: read.mtimeMs };
}

export function parseRecord(text: string): LockRecord | undefined {
  try {
    return recordSchema.parse(JSON.parse(text));
  } catch {
    return undefined;
  }
}

export const recordText = (record: LockRecord): string => `${JSON.stringify(record)}\n`;
