// Lines that fit a terminal: the one place that cuts or wraps text to a width. Prose (notes,
// warnings, errors, help, the confirmation) is wrapped at word boundaries, its continuation lines
// indented; a line that must stay one line (a progress bar, a table cell, a label) is cut at a word
// boundary with an ellipsis. main.ts applies fitText to everything written to a terminal, with its
// width at the moment of writing; without a terminal nothing is cut.

/** A cut keeps at least this share of the room; a shorter word boundary is ignored (the cut is mid-word then). */
const MIN_KEPT = 0.5;
/** Continuation lines of wrapped prose start this much further in than the line they continue. */
const HANGING = '  ';

/**
 * `text` in at most `width` characters: whole, or cut at the last word boundary that keeps at least
 * half of it, with an ellipsis. Separators left before the cut (`,`, `-`, `=`) are dropped.
 */
export function cutText(text: string, width: number): string {
  if (text.length <= width) return text;
  if (width <= 1) return '…'.slice(0, Math.max(0, width));
  const room = width - 1;
  const boundary = Math.max(text.lastIndexOf(' ', room), text.lastIndexOf('-', room - 1) + 1);
  const at = boundary >= Math.ceil(room * MIN_KEPT) ? boundary : room;
  const kept = text.slice(0, at).replace(/[\s,;:=-]+$/, '');
  return `${kept || text.slice(0, room)}…`;
}

/** One line as lines of at most `width` characters, broken at spaces; continuation lines are indented. */
export function wrapLine(line: string, width: number): string[] {
  if (line.length <= width) return [line];
  const lead = /^ */.exec(line)?.[0] ?? '';
  // A hanging indent that would leave too little room is left out.
  const indent = lead.length + HANGING.length <= width / 2 ? lead + HANGING : lead.length <= width / 2 ? lead : '';
  const lines: string[] = [];
  let current = lead;
  let hasWord = false;
  const breakLine = (): void => {
    lines.push(current);
    current = indent;
    hasWord = false;
  };
  for (let word of line.slice(lead.length).split(/ +/).filter(Boolean)) {
    if (hasWord && current.length + 1 + word.length > width) breakLine();
    if (hasWord) current += ' ';
    // A word longer than a whole line (a URL, a path) is split where the line ends.
    while (current.length + word.length > width) {
      const room = Math.max(1, width - current.length);
      current += word.slice(0, room);
      word = word.slice(room);
      breakLine();
    }
    if (!word) continue;
    current += word;
    hasWord = true;
  }
  if (hasWord) lines.push(current);
  return lines;
}

/** Terminal control sequences (cursor moves, colours): such text is drawn, not printed as lines. */
const CONTROL = /\x1b/;
/** A line of JSON, compact or indented (plan --json, JSON logs), is data: breaking it would break it. */
const DATA = /^\s*[{}[\]"]/;

/** Every line of `text` wrapped to `width` (see wrapLine), except drawn lines and lines of data. */
export function fitText(text: string, width: number | undefined): string {
  if (width === undefined || width < 1 || CONTROL.test(text)) return text;
  return text
    .split('\n')
    .map((line) => (line.length <= width || DATA.test(line) ? line : wrapLine(line, width).join('\n')))
    .join('\n');
}
