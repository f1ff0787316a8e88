// "Did you mean" for misspelt keys and values: the closest known word by edit distance,
// offered only when it is plausibly a typo rather than a different word.
import { closest, distance } from 'fastest-levenshtein';

/** The known word closest to `word`, or undefined when none is close enough to be a typo. */
export function suggest(word: string, known: readonly string[]): string | undefined {
  if (known.length === 0) return undefined;
  const best = closest(word.toLowerCase(), [...known]);
  // A third of the longer word, at least 2 edits: catches `modle_name` and `kling-v26`
  // without proposing `mode` for `seed`.
  const allowed = Math.max(2, Math.floor(Math.max(word.length, best.length) / 3));
  const edits = distance(word.toLowerCase(), best);
  // Rewriting every letter is not a typo (`z` is not a misspelt `x`).
  return edits <= allowed && edits < word.length ? best : undefined;
}

/** A hint sentence for an unknown word, or undefined. */
export function didYouMean(word: string, known: readonly string[]): string | undefined {
  const match = suggest(word, known);
  return match === undefined ? undefined : `Did you mean \`${match}\`?`;
}
