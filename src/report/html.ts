// HTML built from a tagged template that escapes every interpolated value unless it is already
// markup built the same way: text from a report (prompts, errors, names) can never become a tag.

const SAFE = Symbol('safe-html');

/** A fragment of markup that came from `html` (or `trusted`), so it is not escaped again. */
export interface SafeHtml {
  readonly [SAFE]: true;
  readonly text: string;
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for use in element content and in quoted attribute values alike. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] as string);
}

const isSafe = (value: unknown): value is SafeHtml => typeof value === 'object' && value !== null && SAFE in value;

export type HtmlValue = SafeHtml | string | number | boolean | null | undefined | readonly HtmlValue[];

function render(value: HtmlValue): string {
  if (value === null || value === undefined || value === false) return '';
  if (Array.isArray(value)) return value.map(render).join('');
  if (isSafe(value)) return value.text;
  return escapeHtml(String(value));
}

/** Markup with every `${value}` escaped; arrays are joined, null/undefined/false render nothing. */
export function html(strings: TemplateStringsArray, ...values: readonly HtmlValue[]): SafeHtml {
  let text = strings[0] ?? '';
  values.forEach((value, i) => (text += render(value) + (strings[i + 1] ?? '')));
  return { [SAFE]: true, text };
}

/** Constant markup written in this codebase (the style sheet, the script): never pass report data. */
export const trusted = (text: string): SafeHtml => ({ [SAFE]: true, text });

/**
 * A relative path as a URL (each segment percent-encoded, so `#`, `?`, spaces and `:` cannot
 * change its meaning or turn it into a `javascript:` URL). Absolute URLs pass only as http(s).
 */
export function hrefOf(pathOrUrl: string): string | null {
  if (/^[a-z][a-z0-9+.-]*:/i.test(pathOrUrl)) return /^https?:\/\//i.test(pathOrUrl) ? pathOrUrl : null;
  // `//host/x` would be a link to another host: a path starts with one slash at most.
  return pathOrUrl.replace(/^\/{2,}/, '/').split('/').map(encodeURIComponent).join('/');
}
