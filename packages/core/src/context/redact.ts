/** What a redacted secret is replaced by. */
export const REDACTED = '[REDACTED]';

/**
 * Replaces every occurrence of each secret in `text` with `[REDACTED]`, longest secrets first so a
 * secret that contains another is replaced whole. What Weft's packages use before anything that
 * may hold a run secret (`secretValues(ctx)`) reaches a log line, a span or an error message.
 *
 * @example
 * ```ts
 * redactSecrets('Authorization: Bearer abc123', ['abc123']); // 'Authorization: Bearer [REDACTED]'
 * ```
 */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  if (secrets.length === 0) return text;
  const ordered = secrets.length > 1 ? [...secrets].sort((a, b) => b.length - a.length) : secrets;
  let out = text;
  for (const secret of ordered) if (secret.length > 0 && out.includes(secret)) out = out.split(secret).join(REDACTED);
  return out;
}
