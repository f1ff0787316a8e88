// state.jsonl: the run's only memory, append-only, one JSON event per line. Replayed on open;
// each append is one synchronous write, fsynced before money is spent (`submitting`). A crash
// mid-write leaves at most a torn last line, which is dropped (and cut off the file) with a
// warning; any other damage stops the run with a message, because guessing could pay twice.
import * as nodeFs from 'node:fs';
import { dirname } from 'node:path';
import type { z } from 'zod';
import { type Clock, type Logger, silentLogger, systemClock } from '../effects.js';
import { KlingrunError, StateError, errnoCode } from '../errors.js';
import { VERSION } from '../version.js';
import { JOURNAL_VERSION, type JournalEvent, journalEventSchema } from './events.js';
import { compileFastCheck } from './fast-check.js';

/** The synchronous file calls the journal makes, so a test can inject a full disk or an I/O error. */
export interface JournalFs {
  openSync(file: string, flags: string): number;
  readSync(fd: number, buffer: Uint8Array, offset: number, length: number, position: number): number;
  writeSync(fd: number, data: Uint8Array, offset: number, length: number): number;
  fsyncSync(fd: number): void;
  ftruncateSync(fd: number, length: number): void;
  closeSync(fd: number): void;
}

export const nodeJournalFs: JournalFs = nodeFs;

/** An event to append; `t` is stamped from the clock when absent. */
export type JournalInput = JournalEvent extends infer E ? (E extends JournalEvent ? Omit<E, 't'> & { t?: number } : never) : never;

export interface JournalOptions {
  /** The manifest's `name`: a journal written for another name is refused. */
  readonly name: string;
  /** Recorded in the header of a new journal. */
  readonly toolVersion: string;
  /** @default systemClock */
  readonly clock?: Clock;
  /** Told about a torn last line. @default silentLogger */
  readonly logger?: Logger;
  /** @default nodeJournalFs */
  readonly fs?: JournalFs;
  /**
   * Told about every event in the file, in order, as it is read: the caller folds them (into job
   * states, say). Events are not kept here: a 100,000-job journal holds ~600,000 of them.
   */
  readonly onEvent?: (event: JournalEvent) => void;
}

export interface Journal {
  /** Records in the file when it was opened, the header included (0 for a new journal). */
  readonly replayed: number;
  /** Writes one line; fsyncs before returning when the event is `submitting`. */
  append(event: JournalInput): JournalEvent;
  /** Forces everything written so far to disk. */
  flush(): void;
  close(): void;
}

export interface ReplayedJournal {
  /** Records replayed, the header included. */
  readonly records: number;
  /** The first record, which must be the header. */
  readonly first: JournalEvent | undefined;
  /** Bytes read. */
  readonly size: number;
  /** Bytes to keep: all but a torn last line and any blank tail after the last record. */
  readonly keep: number;
  /** The last line, cut short by a crash mid-write: not replayed, and to be removed. */
  readonly torn?: { readonly line: number; readonly reason: string };
  /** The last record is complete but its newline is missing. */
  readonly unterminated: boolean;
}

function corrupt(file: string, line: number, what: string): StateError {
  return new StateError(
    'state_invalid',
    `${file}, line ${line}: ${what}. This journal is the output folder's only record of what was submitted and paid for, ` +
      `so klingrun will not guess. If you can tell what the line should be, fix it by hand; otherwise move the file away ` +
      `(e.g. \`mv ${file} ${file}.bad\`) to start over, knowing that every job already submitted will then be submitted, and paid for, again.`,
  );
}

/**
 * The refusal of a journal a newer klingrun began (its header has a later format): not damage, so
 * nothing is to be fixed or moved away (that would lose the record of paid work); a klingrun as
 * new as the one that wrote it reads it. Undefined for any other value.
 */
function newerJournal(value: unknown, file: string): StateError | undefined {
  const header = (typeof value === 'object' && value !== null ? value : {}) as { ev?: unknown; version?: unknown; tool_version?: unknown };
  if (header.ev !== 'header' || typeof header.version !== 'number' || header.version <= JOURNAL_VERSION) return undefined;
  const writer = typeof header.tool_version === 'string' ? `klingrun ${header.tool_version}` : 'a newer klingrun';
  const upgrade = typeof header.tool_version === 'string' ? `to ${header.tool_version} or later` : 'to the latest version';
  return new StateError(
    'state_invalid',
    `${file} was written by ${writer} (journal format ${header.version}); this klingrun is ${VERSION} and reads format ${JOURNAL_VERSION} only. ` +
      `Upgrade klingrun ${upgrade} and run the same command again. Nothing was changed: the journal is the record of what was submitted and paid for, so keep it as it is.`,
  );
}

/** What is wrong with a JSON value that is not a journal event, in one clause. */
function describeInvalid(value: unknown, error: z.ZodError): string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'it is not a JSON object';
  const ev = (value as { ev?: unknown }).ev;
  if (typeof ev !== 'string') return 'it has no event type (`ev`)';
  if (!journalEventSchema.options.some((o) => o.shape.ev.value === ev)) return `unknown event type "${ev}" (written by a newer klingrun?)`;
  const issues = error.issues.slice(0, 3).map((i) => (i.path.length ? `\`${i.path.join('.')}\`: ${i.message}` : i.message));
  return `the "${ev}" event is invalid (${issues.join('; ')})`;
}

const isBlank = (line: string): boolean => /^[ \t\r]*$/.test(line);

/** The schema's rules as plain code: a well-formed event costs no zod parse, and no copy. */
const isEvent = compileFastCheck(journalEventSchema) ?? (() => false);

/** The event on a line that is valid JSON; a StateError naming the line when it is not an event. */
function eventOf(value: unknown, file: string, line: number): JournalEvent {
  if (isEvent(value)) return value as JournalEvent;
  const parsed = journalEventSchema.safeParse(value);
  if (!parsed.success) throw newerJournal(value, file) ?? corrupt(file, line, describeInvalid(value, parsed.error));
  return parsed.data;
}

/**
 * Parses a journal from its bytes, given in chunks of any size (so a huge file is never one
 * buffer or one string; the caller may refill one buffer for every chunk), handing each event to `onEvent`. Pure but for `onEvent`; throws
 * StateError on any damage other than a torn last line.
 */
export function replayJournal(chunks: Iterable<Uint8Array>, file: string, onEvent: (event: JournalEvent) => void = () => {}): ReplayedJournal {
  let records = 0;
  let first: JournalEvent | undefined;
  let size = 0;
  let keep = 0;
  let line = 0;
  let torn: { line: number; reason: string } | undefined;

  /** One line (without its newline) that ends at byte `end` of the file; true when it was a record. */
  const take = (text: string, end: number): boolean => {
    line += 1;
    if (text.charCodeAt(0) !== 0x7b && isBlank(text)) return false; // `{` starts every record
    // A bad line is forgiven only if it turns out to be the last one.
    if (torn) throw corrupt(file, torn.line, torn.reason);
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      torn = { line, reason: `it is not valid JSON (${(error as Error).message})` };
      return false;
    }
    const event = eventOf(value, file, line);
    first ??= event;
    records += 1;
    onEvent(event);
    keep = end;
    return true;
  };

  let pending: Buffer[] = []; // the start of a line split across chunks
  for (const chunk of chunks) {
    const buffer = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let start = 0;
    for (let newline = buffer.indexOf(0x0a); newline !== -1; newline = buffer.indexOf(0x0a, start)) {
      // Decoded straight from the chunk: no Buffer object per line.
      take(pending.length ? Buffer.concat([...pending, buffer.subarray(start, newline)]).toString('utf8') : buffer.toString('utf8', start, newline), size + newline + 1);
      pending = [];
      start = newline + 1;
    }
    // A copy: the reader may reuse its buffer for the next chunk.
    if (start < buffer.length) pending.push(Buffer.from(buffer.subarray(start)));
    size += buffer.length;
  }
  const unterminated = pending.length > 0 && take(Buffer.concat(pending).toString('utf8'), size);
  return { records, first, size, keep, unterminated, ...(torn && { torn }) };
}

/** The header must open the journal and name this manifest. */
function checkHeader(first: JournalEvent | undefined, file: string, name: string): void {
  if (!first) return;
  if (first.ev !== 'header') {
    throw corrupt(file, 1, `the journal does not start with its header (an "ev":"header" line); it was not written by klingrun, or its beginning was lost`);
  }
  if (first.name !== name) {
    throw new StateError(
      'state_invalid',
      `The output folder ${dirname(file)} belongs to the manifest named "${first.name}", not "${name}" (see the first line of ${file}). ` +
        `Give this manifest another --output folder, or run the manifest named "${first.name}".`,
    );
  }
}

function* chunksOf(fs: JournalFs, fd: number, chunkSize = 1 << 20): Generator<Uint8Array> {
  // One buffer for the whole file: replay copies what it keeps of a chunk (the start of a split line).
  const buffer = Buffer.allocUnsafe(chunkSize);
  for (let position = 0; ; ) {
    const read = fs.readSync(fd, buffer, 0, chunkSize, position);
    if (read === 0) return;
    position += read;
    yield buffer.subarray(0, read);
  }
}

/** Replays the file open at `fd` and checks it belongs to `name`. */
function replayFile(fs: JournalFs, fd: number, file: string, options: Pick<JournalOptions, 'name' | 'logger' | 'onEvent'>): ReplayedJournal {
  let replayed;
  // The header is checked before anything reaches the caller: a folder of another manifest is refused, not folded.
  let checked = false;
  const onEvent = (event: JournalEvent): void => {
    if (!checked) {
      checkHeader(event, file, options.name);
      checked = true;
    }
    options.onEvent?.(event);
  };
  try {
    replayed = replayJournal(chunksOf(fs, fd), file, onEvent);
  } catch (error) {
    if (error instanceof StateError) throw error;
    throw new StateError('state_invalid', `Cannot read ${file}: ${(error as Error).message}. Check the disk and the file's permissions.`, { cause: error });
  }
  if (replayed.torn) {
    (options.logger ?? silentLogger).warn(
      `${file}: ignoring the incomplete last line (line ${replayed.torn.line}), left by a run that stopped while writing it; ` +
        `it is removed before anything new is written. What it recorded is found again: a task whose id it held is ` +
        `looked up by its external_task_id before anything is sent again.`,
    );
  }
  return replayed;
}

/** Reads and checks a journal without changing it (for `status` and reports); a missing file has no events. */
export function readJournal(file: string, options: Pick<JournalOptions, 'name' | 'logger' | 'fs' | 'onEvent'>): ReplayedJournal {
  const fs = options.fs ?? nodeJournalFs;
  let fd;
  try {
    fd = fs.openSync(file, 'r');
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return { records: 0, first: undefined, size: 0, keep: 0, unterminated: false };
    throw new StateError('state_invalid', `Cannot read ${file}: ${(error as Error).message}. Check the file's permissions.`, { cause: error });
  }
  try {
    return replayFile(fs, fd, file, options);
  } finally {
    fs.closeSync(fd);
  }
}

export function openJournal(file: string, options: JournalOptions): Journal {
  const fs = options.fs ?? nodeJournalFs;
  const clock = options.clock ?? systemClock;
  const failure = (doing: string, error: unknown): StateError =>
    new StateError(
      'state_invalid',
      `Cannot ${doing} ${file}: ${(error as Error).message}. Nothing already in the journal is lost: fix the cause ` +
        `(free disk space, check the disk or the permissions), then rerun the same command to resume.`,
      { cause: error },
    );

  let fd: number;
  try {
    fd = fs.openSync(file, 'a+'); // reads see the whole file; writes always go to its end
  } catch (error) {
    throw failure('open', error);
  }
  let replayed: ReplayedJournal;
  try {
    replayed = replayFile(fs, fd, file, options);
  } catch (error) {
    fs.closeSync(fd);
    throw error;
  }
  let size = replayed.keep;
  /** Set while the file may hold bytes after `size` (a torn line, half a failed write): cut them before writing. */
  let damaged = size < replayed.size;
  let closed = false;

  const write = (text: string): void => {
    if (damaged) {
      try {
        fs.ftruncateSync(fd, size); // never append after half a line
      } catch (error) {
        throw failure('repair', error);
      }
      damaged = false;
    }
    const bytes = Buffer.from(text);
    let done = 0;
    try {
      while (done < bytes.length) done += fs.writeSync(fd, bytes, done, bytes.length - done);
    } catch (error) {
      damaged = true; // part of the line may be on disk; cut now if possible, else before the next write
      try {
        fs.ftruncateSync(fd, size);
        damaged = false;
      } catch {
        // Retried by the next write.
      }
      throw failure('write to', error);
    }
    size += bytes.length;
  };

  const journal: Journal = {
    replayed: replayed.records,
    append(input) {
      if (closed) throw new KlingrunError('internal', `journal ${file} is closed`);
      const parsed = journalEventSchema.safeParse({ ...input, t: input.t ?? clock.now() });
      // An invalid line would make the folder unreadable on the next run: refuse to write it.
      if (!parsed.success) throw new KlingrunError('internal', `refusing to write an invalid "${input.ev}" event to ${file}: ${parsed.error.message}`);
      write(`${JSON.stringify(parsed.data)}\n`);
      if (parsed.data.ev === 'submitting') journal.flush();
      return parsed.data;
    },
    flush() {
      try {
        fs.fsyncSync(fd);
      } catch (error) {
        throw failure('flush', error);
      }
    },
    close() {
      if (closed) return;
      closed = true;
      try {
        fs.fsyncSync(fd);
      } catch (error) {
        throw failure('flush', error);
      } finally {
        fs.closeSync(fd);
      }
    },
  };

  try {
    if (replayed.unterminated) write('\n');
    if (replayed.records === 0) {
      journal.append({ ev: 'header', version: JOURNAL_VERSION, name: options.name, tool_version: options.toolVersion });
      journal.flush();
      syncDirectory(fs, dirname(file));
    }
  } catch (error) {
    fs.closeSync(fd);
    throw error;
  }
  return journal;
}

/** Makes a new file's directory entry durable; best effort (not every platform can open a directory). */
function syncDirectory(fs: JournalFs, dir: string): void {
  try {
    const fd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    // Windows and some file systems refuse; the file's own fsync still happened.
  }
}
