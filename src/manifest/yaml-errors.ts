// YAML syntax errors as located issues, for manifests and the data tables alike: the yaml
// library's message, placed where the problem starts (for an unclosed quote or bracket, where it
// opens, not where the parser gave up), with a hint chosen by what went wrong.
import { isMap, isScalar, visit, type YAMLError } from 'yaml';
import type { InputIssue } from '../errors.js';
import type { Source } from './source.js';

const CODE_HINTS: Readonly<Record<string, string>> = {
  TAB_AS_INDENT: 'Indent with spaces; YAML does not allow tabs.',
  DUPLICATE_KEY: 'Remove one of the two entries.',
  BAD_INDENT: 'Check the indentation of this line against the one above.',
  MULTILINE_IMPLICIT_KEY: 'Is a `:` missing after a key (e.g. `prompt slow push-in` for `prompt: slow push-in`)?',
};

/** MISSING_CHAR covers several unrelated mistakes: the message tells them apart. */
const MESSAGE_HINTS: readonly (readonly [RegExp, string])[] = [
  [/^Sequence item without - indicator/, 'Check the indentation of this line against the one above.'],
  [/^Implicit map keys need to be followed by map values/, 'Add a `:` after the key, e.g. `prompt: …`.'],
  [/^Missing , /, 'Separate the items with commas.'],
  [/^Missing space after :/, 'Put a space after the colon.'],
  [/^Comments must be separated/, 'Put a space before the `#`.'],
];

interface Opening {
  /** Offset of the opening quote or bracket. */
  readonly start: number;
  readonly closer: string;
}

/** The quote, `[` or `{` still open when the parser stopped at `offset`, for errors that say one is. */
function unclosed(source: Source, error: YAMLError): Opening | undefined {
  const kind = /^Missing closing "/.test(error.message)
    ? 'QUOTE_DOUBLE'
    : /^Missing closing '/.test(error.message)
      ? 'QUOTE_SINGLE'
      : /end with a \]/.test(error.message)
        ? 'SEQ'
        : /end with a \}/.test(error.message)
          ? 'MAP'
          : undefined;
  if (!kind) return undefined;
  const offset = error.pos[0];
  let found: Opening | undefined;
  visit(source.doc, {
    Scalar(_, node) {
      if (node.type === kind && node.range?.[1] === offset) found = { start: node.range[0], closer: kind === 'QUOTE_DOUBLE' ? '"' : "'" };
    },
    Seq(_, node) {
      if (kind === 'SEQ' && node.flow && node.range?.[1] === offset) found = { start: node.range[0], closer: ']' };
    },
    Map(_, node) {
      if (kind === 'MAP' && node.flow && node.range?.[1] === offset) found = { start: node.range[0], closer: '}' };
    },
  });
  return found;
}

/** For a repeated key: its name and the line of its first appearance. */
function duplicateKey(source: Source, error: YAMLError): { key: string; firstLine: number } | undefined {
  if (error.code !== 'DUPLICATE_KEY') return undefined;
  let found: { key: string; firstLine: number } | undefined;
  visit(source.doc, {
    Pair(_, pair, path) {
      if (!isScalar(pair.key) || pair.key.range?.[0] !== error.pos[0]) return;
      const map = path[path.length - 1];
      const first = isMap(map) ? map.items.find((p) => isScalar(p.key) && p.key.value === (pair.key as { value: unknown }).value) : undefined;
      const start = isScalar(first?.key) ? first.key.range?.[0] : undefined;
      if (start !== undefined) found = { key: String(pair.key.value), firstLine: source.positionOf(start).line };
    },
  });
  return found;
}

/** The document's syntax errors, each at its file, line and column. */
export function yamlIssues(source: Source): InputIssue[] {
  return source.doc.errors.map((error): InputIssue => {
    const at = { file: source.file, message: `invalid YAML: ${error.message}.` };
    const duplicate = duplicateKey(source, error);
    if (duplicate) {
      const hint = `Remove one of the two entries. The key \`${duplicate.key}\` is also on line ${duplicate.firstLine}.`;
      return { ...at, ...source.positionOf(error.pos[0]), hint };
    }
    const opening = unclosed(source, error);
    if (opening) {
      const until = error.pos[0] >= source.text.trimEnd().length ? 'the end of the file' : `line ${source.positionOf(error.pos[0]).line}`;
      return { ...at, ...source.positionOf(opening.start), hint: `It opens here and is still open at ${until}: add the closing ${opening.closer}.` };
    }
    const hint = MESSAGE_HINTS.find(([pattern]) => pattern.test(error.message))?.[1] ?? CODE_HINTS[error.code];
    return { ...at, ...source.positionOf(error.pos[0]), ...(hint ? { hint } : {}) };
  });
}
