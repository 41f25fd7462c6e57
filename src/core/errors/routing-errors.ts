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
