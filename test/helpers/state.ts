// Shared by the journal and lock tests: a logger that keeps warnings, and a catcher for StateError.
import type { Logger } from '../../src/effects.js';
import { StateError } from '../../src/errors.js';
import type { JournalEvent } from '../../src/state/events.js';
import { readJournal } from '../../src/state/journal.js';

export function recordingLogger(): Logger & { readonly warnings: string[] } {
  const warnings: string[] = [];
  return { warnings, info: () => {}, debug: () => {}, warn: (m) => warnings.push(m) };
}

/** The StateError `run` throws; fails the test when it throws nothing or something else. */
export function stateErrorOf(run: () => unknown): StateError {
  try {
    run();
  } catch (error) {
    if (error instanceof StateError) return error;
    throw error;
  }
  throw new Error('expected a StateError');
}

/** Every event of a journal file, in order (the journal itself keeps none: tests that need the story collect it). */
export function journalEvents(file: string, name: string): JournalEvent[] {
  const events: JournalEvent[] = [];
  readJournal(file, { name, onEvent: (event) => events.push(event) });
  return events;
}
