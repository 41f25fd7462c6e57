/** Shapes of provider keys and bearer tokens (OpenAI/OpenRouter `sk-…`, Groq `gsk_…`, `Bearer …`). */
const KEY_SHAPES = String.raw`\bsk-[A-Za-z0-9_-]{6,}|\bgsk_[A-Za-z0-9]{6,}|\bBearer\s+[A-Za-z0-9._~+/=-]{6,}`;
/** Shorter configured values are not scrubbed by value: they would eat ordinary words. */
const MIN_SECRET_LENGTH = 6;
export const REDACTED = '[redacted]';

function escapeRegExp(value: string): string {
  return value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * The last line of defence of the logs: every written line loses the configured secrets (provider
 * keys, gateway keys) by value and anything shaped like a key or a bearer token. One precompiled
 * regular expression, one `replace` per line (about a microsecond for a request line).
 */
export class SecretScrubber {
  private pattern = new RegExp(KEY_SHAPES, 'g');

  /** The exact values to remove from now on (replaces the previous list). */
  setSecrets(values: readonly string[]): void {
    const exact = [...new Set(values.map((v) => v.trim()).filter((v) => v.length >= MIN_SECRET_LENGTH))]
      .sort((a, b) => b.length - a.length)
      .map(escapeRegExp);
    this.pattern = new RegExp([...exact, KEY_SHAPES].join('|'), 'g');
  }

  scrub(line: string): string {
    return line.replace(this.pattern, REDACTED);
  }
}
