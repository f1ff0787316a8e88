// `JSON.stringify(value, null, 2)` in pieces, for the files that hold one entry per job (the plan,
// report.json): at 100,000 jobs such a text is 80 to 150 MB, and is never held as one string.
// The pieces joined are the same bytes, so hashes of the text (plan_sha256) do not change.

/** Array members per piece: few write calls, pieces of a few hundred kB. */
const PER_CHUNK = 256;

/** What JSON.stringify puts around the items of `{ [key]: items }`, which then sit as deep as in `value`. */
const around = (key: string) => ({ open: `{\n  ${JSON.stringify(key)}: [\n`.length, close: '\n  ]\n}'.length });

/**
 * A JSON file's text, `JSON.stringify(value, null, 2)` and a newline, in pieces: `value[arrayKey]`
 * (an array) a slice at a time, every other member as JSON.stringify writes it. A raw newline only
 * ever separates tokens (in strings it is escaped), so indenting a member's text is prefixing its lines.
 */
export function* jsonFileChunks(value: object, arrayKey: string): Generator<string> {
  // JSON.stringify leaves out undefined members and keeps the object's own key order.
  const entries = Object.entries(value).filter(([, member]) => member !== undefined);
  yield '{\n';
  for (const [k, [key, member]] of entries.entries()) {
    const name = `${k ? ',\n' : ''}  ${JSON.stringify(key)}: `;
    if (key !== arrayKey || !Array.isArray(member) || member.length === 0) {
      yield `${name}${JSON.stringify(member, null, 2).replaceAll('\n', '\n  ')}`;
      continue;
    }
    yield `${name}[\n`;
    const { open, close } = around(key);
    for (let start = 0; start < member.length; start += PER_CHUNK) {
      const wrapped = JSON.stringify({ [key]: member.slice(start, start + PER_CHUNK) }, null, 2);
      yield `${start === 0 ? '' : ',\n'}${wrapped.slice(open, -close)}`;
    }
    yield '\n  ]';
  }
  yield '\n}\n';
}
