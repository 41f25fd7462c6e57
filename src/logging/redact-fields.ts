import { REDACTED } from './secret-scrubber';

/** Keys whose values never reach a log: credentials and request contents (never log bodies). */
const SENSITIVE = ['authorization', 'apiKey', 'api_key', 'messages', 'input', 'prompt', 'body'] as const;

/**
 * A copy of a logged object without credentials or contents (top level, and `headers.authorization`);
 * the object itself when it has none of them, which is the common case and costs a few `in` checks —
 * unlike pino's path redaction, which doubles the cost of every line.
 */
export function redactFields(obj: object): object {
  let hit = false;
  for (const key of SENSITIVE) if (key in obj) hit = true;
  const headers = (obj as { headers?: unknown }).headers;
  const headerAuth = typeof headers === 'object' && headers !== null && 'authorization' in headers;
  if (!hit && !headerAuth) return obj;
  const copy: Record<string, unknown> = { ...obj };
  for (const key of SENSITIVE) if (key in copy) copy[key] = REDACTED;
  if (headerAuth) copy.headers = { ...(headers as object), authorization: REDACTED };
  return copy;
}
