// `JSON.stringify(value, null, 2)` in pieces, for the files that hold one entry per job (the plan,
// report.json): at 100,000 jobs such a text is 80 to 150 MB, and is never held as one string.
// The pieces joined are the same bytes, so hashes of the text (plan_sha256) do not change.

/** Array members per piece: few write calls, pieces of a few hundred kB. */
const PER_CHUNK = 256;

/** What JSON.stringify puts around the items of `{ [key]: items }`, which then sit as deep as in `value`. */
const around = (key: string) => ({ open: `{\n  ${JSON.stringify(key)}: [\n`.length, close: '\n  ]\n}'.length });

/** An array, or items made one at a time (a generator: read once, never held whole). */
const isItems = (member: unknown): member is Iterable<unknown> =>
  Array.isArray(member) || (typeof member === 'object' && member !== null && typeof (member as { next?: unknown }).next === 'function' && Symbol.iterator in member);

/** The items of `source` in slices of `size`, each slice an array. */
function* slices(source: Iterable<unknown>, size: number): Generator<unknown[]> {
  let slice: unknown[] = [];
  for (const item of source) {
    slice.push(item);
    if (slice.length === size) {
      yield slice;
      slice = [];
    }
  }
  if (slice.length) yield slice;
}

/**
 * A JSON file's text, `JSON.stringify(value, null, 2)` and a newline, in pieces: `value[arrayKey]`
 * (an array, or an iterator of its items that is read once) a slice at a time, every other member
 * as JSON.stringify writes it. A raw newline only ever separates tokens (in strings it is
 * escaped), so indenting a member's text is prefixing its lines.
 */
export function* jsonFileChunks(value: object, arrayKey: string): Generator<string> {
  // JSON.stringify leaves out undefined members and keeps the object's own key order.
  const entries = Object.entries(value).filter(([, member]) => member !== undefined);
  yield '{\n';
  for (const [k, [key, member]] of entries.entries()) {
    const name = `${k ? ',\n' : ''}  ${JSON.stringify(key)}: `;
    if (key !== arrayKey || !isItems(member)) {
      yield `${name}${JSON.stringify(member, null, 2).replaceAll('\n', '\n  ')}`;
      continue;
    }
    const { open, close } = around(key);
    let first = true;
    for (const slice of slices(member, PER_CHUNK)) {
      const wrapped = JSON.stringify({ [key]: slice }, null, 2);
      yield `${first ? `${name}[\n` : ',\n'}${wrapped.slice(open, -close)}`;
      first = false;
    }
    yield first ? `${name}[]` : '\n  ]';
  }
  yield '\n}\n';
}
