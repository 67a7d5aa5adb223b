/** Replaces every occurrence of each secret in `text`; longest secrets first so none is half-replaced. */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  if (secrets.length === 0) return text;
  let out = text;
  const sorted = secrets.length > 1 ? [...secrets].sort((a, b) => b.length - a.length) : secrets;
  for (const secret of sorted) if (out.includes(secret)) out = out.split(secret).join('[REDACTED]');
  return out;
}
