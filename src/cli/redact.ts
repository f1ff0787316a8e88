// Last line of defence: whatever reaches the terminal has the API key masked, even if some
// error message somewhere quoted it by mistake. The real guarantees are in api/ and tests.
export function redactor(secret: string | undefined): (text: string) => string {
  if (!secret || secret.length < 4) return (text) => text;
  return (text) => text.split(secret).join('***');
}
