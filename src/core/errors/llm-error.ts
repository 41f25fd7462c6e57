/**
 * The root of every error mana-llm's core throws. Transport-neutral: the HTTP layer maps
 * `status`/`type`/`code`/`param` to the OpenAI error body; the fallback router reads `retryable`.
 * The class name is the `reason` string used in fallback attempts and metric labels.
 */
export abstract class LlmError extends Error {
  /** Marker for `isLlmError`: `instanceof` breaks when a host app loads two copies of the package. */
  readonly manaLlmError = true as const;
  abstract readonly status: number;
  abstract readonly type: string;
  abstract readonly retryable: boolean;
  /** Whether a retryable failure counts against the provider's circuit breaker. */
  readonly countsAsProviderFailure: boolean = true;
  code: string | null = null;
  param: string | null = null;
  /** Upstream `Retry-After`, in seconds, when the error carries one. */
  retryAfterSeconds: number | undefined;

  constructor(
    message: string,
    readonly provider: string | undefined = undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }

  /** The class name, stable across minification of the consumer (keepClassNames). */
  get reason(): string {
    return this.name;
  }
}

export function isLlmError(err: unknown): err is LlmError {
  return typeof err === 'object' && err !== null && (err as { manaLlmError?: unknown }).manaLlmError === true;
}
