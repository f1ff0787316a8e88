// Reading the value at a zod issue's path in the raw input, for messages that echo what was wrong.

/** The value at `path` inside `root`, or undefined when the path does not resolve. */
export function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let value = root;
  for (const part of path) value = typeof value === 'object' && value !== null ? (value as Record<PropertyKey, unknown>)[part] : undefined;
  return value;
}

/** `` `0` (number) `` — a short echo of a bad value and its type. */
export function echo(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return `\`${text.length > 40 ? `${text.slice(0, 39)}…` : text}\` (${Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value})`;
}
