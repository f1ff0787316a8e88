// The user-facing error family. Every error the CLI can show is one of these, carrying a
// machine-readable `code`; cli/exit-codes.ts maps codes to exit codes in one place.
// ProviderError (answers from the API) lives in api/errors.ts.

/** One problem in a user's input, located as precisely as we can. */
export interface InputIssue {
  /** File the problem is in, as the user named it (relative paths stay relative). */
  readonly file: string;
  /** 1-based line and column, when the problem has a position. */
  readonly line?: number;
  readonly col?: number;
  /** Dotted field path, e.g. `jobs[0].mode`. */
  readonly path?: string;
  /** What is wrong, one sentence. */
  readonly message: string;
  /** How to fix it, when we can tell. */
  readonly hint?: string;
  /** The offending source line, for a caret excerpt. */
  readonly excerpt?: string;
}

export type KlingrunErrorCode =
  | 'usage'
  | 'manifest_invalid'
  | 'input_missing'
  | 'input_invalid'
  | 'state_invalid'
  | 'state_locked'
  | 'output_unwritable'
  | 'budget'
  | 'not_confirmed'
  | 'interrupted'
  | 'internal';

export class KlingrunError extends Error {
  override name = 'KlingrunError';
  readonly code: KlingrunErrorCode;
  constructor(code: KlingrunErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** Wrong command-line usage. */
export class UsageError extends KlingrunError {
  override name = 'UsageError';
  constructor(message: string) {
    super('usage', message);
  }
}

/** A manifest (or a table it names) that fails validation: all its issues at once. */
export class ManifestError extends KlingrunError {
  override name = 'ManifestError';
  readonly issues: readonly InputIssue[];
  constructor(issues: readonly InputIssue[], message?: string) {
    super('manifest_invalid', message ?? `${issues.length} problem(s) in ${issues[0]?.file ?? 'the manifest'}`);
    this.issues = issues;
  }
}

/** A bad or missing input other than the manifest itself: an image, a price table, an options file. */
export class InputError extends KlingrunError {
  override name = 'InputError';
  constructor(code: 'input_missing' | 'input_invalid' | 'budget' | 'not_confirmed', message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** The journal or lock of an output folder is unusable, or the folder cannot be written. */
export class StateError extends KlingrunError {
  override name = 'StateError';
  constructor(code: 'state_invalid' | 'state_locked' | 'output_unwritable', message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** The errno code of a failed file-system call (`ENOENT`, `EACCES`…), if it is one. */
export const errnoCode = (error: unknown): string | undefined => (error as NodeJS.ErrnoException | undefined)?.code;
