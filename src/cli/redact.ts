// Last line of defence: whatever reaches the terminal has the API key masked, as typed or
// URL-encoded, even if some error message somewhere quoted it by mistake. The real guarantees are
// in api/ (scrub) and tests; this module stays tiny because every command loads it at start-up.
export function redactor(secret: string | undefined): (text: string) => string {
  if (!secret || secret.length < 4) return (text) => text;
  const forms = [...new Set([secret, encodeURIComponent(secret)])];
  return (text) => forms.reduce((clean, form) => clean.split(form).join('***'), text);
}
