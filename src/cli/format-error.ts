// Pure formatting of errors for people: one paragraph each, never a stack trace.
import { ProviderError } from '../api/errors.js';
import { KlingrunError, ManifestError, type InputIssue } from '../errors.js';

/** Most issues shown for one manifest; the rest are counted. */
export const MAX_ISSUES_SHOWN = 50;

export function formatIssue(issue: InputIssue): string {
  const position = issue.line ? `:${issue.line}${issue.col ? `:${issue.col}` : ''}` : '';
  const field = issue.path ? ` at \`${issue.path}\`` : '';
  let text = `${issue.file}${position}${field}: ${issue.message}`;
  if (issue.hint) text += ` ${issue.hint}`;
  if (issue.excerpt !== undefined && issue.col) {
    const { line, caret } = excerptWindow(issue.excerpt, issue.col);
    text += `\n    ${line}\n    ${' '.repeat(caret)}^`;
  }
  return text;
}

/** Widest excerpt shown; longer lines (a 600-character prompt) are cut around the column. */
const EXCERPT_WIDTH = 100;

/** The part of a source line to show and where the caret goes in it (0-based). */
export function excerptWindow(excerpt: string, col: number): { line: string; caret: number } {
  if (excerpt.length <= EXCERPT_WIDTH) return { line: excerpt, caret: col - 1 };
  const start = Math.max(0, Math.min(col - 1 - 20, excerpt.length - EXCERPT_WIDTH));
  const end = start + EXCERPT_WIDTH;
  const line = `${start > 0 ? '…' : ''}${excerpt.slice(start, end)}${end < excerpt.length ? '…' : ''}`;
  return { line, caret: col - 1 - start + (start > 0 ? 1 : 0) };
}

export function formatError(error: unknown): string {
  if (error instanceof ManifestError) {
    const shown = error.issues.slice(0, MAX_ISSUES_SHOWN).map((i) => `error: ${formatIssue(i)}`);
    const more = error.issues.length - shown.length;
    if (more > 0) shown.push(`…and ${more} more problem(s) not shown.`);
    return shown.join('\n\n');
  }
  if (error instanceof ProviderError) {
    const status = error.httpStatus ? ` (HTTP ${error.httpStatus})` : '';
    const excerpt = error.excerpt ? ` The provider answered: ${JSON.stringify(error.excerpt)}` : '';
    return `error: provider error ${String(error.code)}${status}: ${error.message}.${excerpt}`;
  }
  if (error instanceof KlingrunError) return `error: ${error.message}`;
  const message = error instanceof Error ? error.message : String(error);
  return `internal error: ${message}\nThis is a bug in klingrun; please report it with the command you ran. Your journal is consistent: rerunning the same command resumes.`;
}
