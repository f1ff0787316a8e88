// Prompt templates: `{caption}` in a prompt written in the manifest is filled, per job, from its
// table row's columns and its matrix combination's values, so a table's captions can be crossed
// with a sweep of camera moves. `{{` and `}}` are literal braces. Table cells are data, never
// templates: a caption holding braces is sent as it is.

/** The fields a template may be written in (a shot's prompt inside `multi_prompt` too). */
export const TEMPLATE_FIELDS = ['prompt', 'negative_prompt', 'multi_prompt'] as const;
export type TemplateField = (typeof TEMPLATE_FIELDS)[number];

/** A `{name}` in a template; `token` as written (`{ caption }`), to locate it in the manifest. */
export interface TemplateVariable {
  readonly name: string;
  readonly token: string;
}

export type Template =
  | { readonly ok: true; readonly parts: readonly (string | TemplateVariable)[]; readonly variables: readonly TemplateVariable[] }
  | { readonly ok: false; readonly message: string; readonly hint: string; readonly token: string };

/** Reads a template; text without braces is one literal part. */
export function parseTemplate(text: string): Template {
  if (!/[{}]/.test(text)) return { ok: true, parts: [text], variables: [] };
  const parts: (string | TemplateVariable)[] = [];
  const variables: TemplateVariable[] = [];
  let literal = '';
  for (let i = 0; i < text.length; i++) {
    const char = text[i] as string;
    if ((char === '{' || char === '}') && text[i + 1] === char) {
      literal += char;
      i++;
    } else if (char === '}') {
      return { ok: false, message: 'this prompt has a `}` that closes no `{`.', hint: 'Write `}}` for a literal brace.', token: '}' };
    } else if (char === '{') {
      const end = text.indexOf('}', i + 1);
      const next = text.indexOf('{', i + 1);
      if (end < 0 || (next >= 0 && next < end)) {
        return { ok: false, message: 'this prompt has a `{` that is never closed.', hint: 'Close the variable with `}`, or write `{{` for a literal brace.', token: text.slice(i, next >= 0 ? next : undefined) };
      }
      const token = text.slice(i, end + 1);
      const name = token.slice(1, -1).trim();
      if (!name) return { ok: false, message: 'this prompt has `{}`, which names no variable.', hint: 'Write a variable name between the braces, e.g. `{caption}`, or `{{}}` for literal braces.', token };
      if (literal) parts.push(literal);
      literal = '';
      const variable = { name, token };
      parts.push(variable);
      variables.push(variable);
      i = end;
    } else {
      literal += char;
    }
  }
  if (literal) parts.push(literal);
  return { ok: true, parts, variables };
}

/** The template with each variable replaced by its value. */
export function fillTemplate(parts: Extract<Template, { ok: true }>['parts'], valueOf: (name: string) => string): string {
  let out = '';
  for (const part of parts) out += typeof part === 'string' ? part : valueOf(part.name);
  return out;
}

/** The texts of a field's value that are templates: a prompt, or each shot's prompt. */
export function templateTexts(field: TemplateField, value: unknown): string[] {
  if (field !== 'multi_prompt') return typeof value === 'string' ? [value] : [];
  return Array.isArray(value) ? value.flatMap((shot: { prompt?: unknown }) => (typeof shot?.prompt === 'string' ? [shot.prompt] : [])) : [];
}

/** Names of the variables the template fields of `fields` use; malformed templates add none (they are reported when filled). */
export function variablesOf(fields: Readonly<Record<string, unknown>> | undefined, into: Set<string>): Set<string> {
  for (const field of TEMPLATE_FIELDS) {
    for (const text of templateTexts(field, fields?.[field])) {
      const template = parseTemplate(text);
      if (template.ok) for (const { name } of template.variables) into.add(name);
    }
  }
  return into;
}
