// The CLI's logger: warnings always, debug lines with KLINGRUN_DEBUG=1. Everything goes to
// stderr so stdout stays clean for `--json` and export output.
//
// In a run (countRepeats), a warning that recurs (a poll that asks again every few seconds, one
// per task of a large batch) is said once and then counted: the same text is never printed twice,
// and at most DISTINCT_PER_SHAPE texts of one shape (the text with its ids, numbers and URLs taken
// out) are; `flush()` (at the end of a run, and on its own at most once a minute while warnings
// keep coming) says how many were held back. Debug lines are meant to be verbose and are never
// held back. Other commands print every warning: they end before anything could recur.
import type { Logger } from '../effects.js';

/** Different texts of one shape printed in full (e.g. the first three tasks that met a problem); the rest are counted. */
export const DISTINCT_PER_SHAPE = 3;
/** While held-back warnings accumulate, their count is said at most this often. */
export const SUMMARY_EVERY_MS = 60_000;

export interface CliLogger extends Logger {
  /** Says how many warnings were held back since the last time, one line per shape; nothing when none were. */
  flush(): void;
}

export interface CliLoggerOptions {
  /**
   * Say a recurring warning once and count the rest (a run, whose polls repeat themselves); the
   * caller must then call `flush()` when it ends. Off, every warning is printed. @default false
   */
  readonly countRepeats?: boolean;
  /** @default Date.now */
  readonly now?: () => number;
}

/** One shape of warning: the texts printed, and what was held back since the last summary. */
interface Seen {
  readonly printed: Set<string>;
  /** Held back since the last summary. */
  held: number;
  /** The text of the held-back warnings while they are all the same, else undefined. */
  sameText: string | undefined;
}

/**
 * A warning's shape: URLs, then words with a digit in them (task ids, external ids, paths of
 * numbered files, counts), replaced by placeholders, so one message about many tasks is one shape.
 */
export function shapeOf(message: string): string {
  return message.replace(/\bhttps?:\/\/[^\s'"`<>]+/g, '<url>').replace(/[\w./-]*\d(?:[\w./-]*[\w/-])?/g, (word) => (/^\d+(\.\d+)?$/.test(word) ? '<n>' : '<id>'));
}

export function cliLogger(write: (text: string) => void, debug: boolean, options: CliLoggerOptions = {}): CliLogger {
  const repeats = options.countRepeats ? repeatCounter(write, options.now ?? Date.now) : undefined;
  return {
    info: (message) => write(`${message}\n`),
    warn: repeats?.warn ?? ((message) => write(`warning: ${message}\n`)),
    debug: debug ? (message) => write(`debug: ${message}\n`) : () => {},
    flush: () => repeats?.flush(),
  };
}

/** Warnings said once and counted, by shape (see the top of this file). */
function repeatCounter(write: (text: string) => void, now: () => number): Pick<CliLogger, 'warn' | 'flush'> {
  const shapes = new Map<string, Seen>();
  let summarizedAt = now();

  const flush = (): void => {
    summarizedAt = now();
    for (const [shape, seen] of shapes) {
      if (seen.held === 0) continue;
      // The exact text when every held-back warning repeated one already printed, else the shape.
      const said = seen.sameText !== undefined && seen.printed.has(seen.sameText) ? seen.sameText : shape;
      write(`warning repeated ${seen.held} more time${seen.held === 1 ? '' : 's'}: ${said}\n`);
      seen.held = 0;
      seen.sameText = undefined;
    }
  };

  const warn = (message: string): void => {
    const shape = shapeOf(message);
    let seen = shapes.get(shape);
    if (!seen) shapes.set(shape, (seen = { printed: new Set(), held: 0, sameText: undefined }));
    if (!seen.printed.has(message) && seen.printed.size < DISTINCT_PER_SHAPE) {
      seen.printed.add(message);
      write(`warning: ${message}\n`);
      return;
    }
    seen.sameText = seen.held === 0 || seen.sameText === message ? message : undefined;
    seen.held += 1;
    if (now() - summarizedAt >= SUMMARY_EVERY_MS) flush();
  };

  return { warn, flush };
}
