// A parsed YAML document that remembers where everything came from, so any later problem
// (schema, matrix, images, model rules) can be reported at the right line and column.
import { isMap, isNode, isScalar, LineCounter, parseDocument, type Document } from 'yaml';
import type { InputIssue } from '../errors.js';

/** A field path as zod and the YAML document use it: keys and list indexes. */
export type FieldPath = readonly (string | number)[];

/** `['jobs', 0, 'mode']` → `jobs[0].mode`. */
export function formatPath(path: FieldPath): string {
  let out = '';
  for (const part of path) out += typeof part === 'number' ? `[${part}]` : out ? `.${part}` : part;
  return out;
}

export interface Position {
  readonly line: number;
  readonly col: number;
  readonly excerpt: string;
}

/** Makes located issues for field paths: a manifest's Source, or one row of a table. */
export interface IssueMaker {
  issue(path: FieldPath, message: string, hint?: string, at?: 'value' | 'key'): InputIssue;
}

export class Source implements IssueMaker {
  readonly file: string;
  readonly text: string;
  readonly doc: Document;
  private readonly lines: LineCounter;

  constructor(file: string, text: string) {
    this.file = file;
    this.text = text;
    this.lines = new LineCounter();
    // prettyErrors off: we format positions ourselves, in the same shape as every other issue.
    this.doc = parseDocument(text, { lineCounter: this.lines, prettyErrors: false, uniqueKeys: true });
  }

  /** Position of a character offset. */
  positionOf(offset: number): Position {
    const { line, col } = this.lines.linePos(offset);
    const start = this.lines.lineStarts[line - 1] ?? 0;
    const end = this.lines.lineStarts[line] ?? this.text.length;
    return { line, col, excerpt: this.text.slice(start, end).replace(/\r?\n$/, '') };
  }

  /**
   * Where the value at `path` starts; when the path does not resolve (a missing key),
   * the nearest enclosing node that exists.
   */
  locate(path: FieldPath): Position | undefined {
    for (let n = path.length; n >= 0; n--) {
      const node = this.doc.getIn(path.slice(0, n), true);
      if (isNode(node) && node.range) return this.positionOf(node.range[0]);
    }
    return undefined;
  }

  /** Where the key `key` of the map at `parent` is written (for unknown and conflicting keys). */
  locateKey(parent: FieldPath, key: string): Position | undefined {
    const map = parent.length ? this.doc.getIn(parent, true) : this.doc.contents;
    if (isMap(map)) {
      for (const pair of map.items) {
        if (isScalar(pair.key) && String(pair.key.value) === key && pair.key.range) {
          return this.positionOf(pair.key.range[0]);
        }
      }
    }
    return this.locate([...parent, key]);
  }

  /** An issue located at the value at `path` (or at the key itself, with `at: 'key'`). */
  issue(path: FieldPath, message: string, hint?: string, at: 'value' | 'key' = 'value'): InputIssue {
    const last = path[path.length - 1];
    const position =
      at === 'key' && typeof last === 'string' ? this.locateKey(path.slice(0, -1), last) : this.locate(path);
    return {
      file: this.file,
      ...(position ?? {}),
      ...(path.length ? { path: formatPath(path) } : {}),
      message,
      ...(hint ? { hint } : {}),
    };
  }

  /**
   * An issue at `token` inside the value at `path` (a `{variable}` in a prompt), found in the text
   * as written; at the value's start when the text spells it otherwise (escapes, folding).
   */
  issueAtToken(path: FieldPath, token: string, message: string, hint?: string): InputIssue {
    const node = this.doc.getIn(path, true);
    const range = isNode(node) ? node.range : undefined;
    const found = range ? this.text.slice(range[0], range[1]).indexOf(token) : -1;
    const issue = this.issue(path, message, hint);
    return range && found >= 0 ? { ...issue, ...this.positionOf(range[0] + found) } : issue;
  }

  /** Line number of the value at `path`, for messages that mention a second place. */
  lineOf(path: FieldPath): number | undefined {
    return this.locate(path)?.line;
  }
}
