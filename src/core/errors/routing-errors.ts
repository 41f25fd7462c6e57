import { LlmError } from './llm-error';

/** One skipped or failed chain entry. `reason` is an error class name, `unconfigured` or `cache-unhealthy`. */
export interface FallbackAttempt {
  model: string;
  reason: string;
}

/** Every entry of the chain was skipped or failed (503). */
export class AllProvidersFailedError extends LlmError {
  readonly status = 503;
  readonly type = 'upstream_error';
  readonly retryable = false;
  override code = 'all_providers_failed';
  constructor(
    readonly requestedModel: string,
    readonly attempts: FallbackAttempt[],
    readonly lastError?: LlmError,
  ) {
    super(
      `No provider could answer for '${requestedModel}': ` +
        attempts.map((a) => `${a.model} (${a.reason})`).join(', '),
    );
  }
}

/**
 * The gateway's own concurrency limit for a provider is reached and its queue is full, or the wait
 * for a slot timed out (`<PROVIDER>_MAX_CONCURRENCY`). Retryable: the next chain entry may answer;
 * no breaker failure, since the provider is busy, not broken. On a direct model: 503 + Retry-After.
 */
export class ProviderSaturatedError extends LlmError {
  readonly status = 503;
  readonly type = 'server_error';
  readonly retryable = true;
  override readonly countsAsProviderFailure = false;
  override code = 'provider_saturated';
  constructor(message: string, provider: string, retryAfterSeconds: number) {
    super(message, provider);
    this.retryAfterSeconds = retryAfterSeconds;
  }
}
