import { LlmError } from './llm-error';

/** Anything that went wrong talking to an upstream provider. */
export abstract class UpstreamError extends LlmError {
  /** The upstream HTTP status, when there was one. */
  upstreamStatus: number | undefined;
}

/** No answer (or no next chunk) within the provider timeout: 504 on a direct model. */
export class UpstreamTimeoutError extends UpstreamError {
  readonly status = 504;
  readonly type = 'timeout_error';
  readonly retryable = true;
  override code = 'upstream_timeout';
}

/** Connection refused, reset, DNS failure, TLS garbage: 502. */
export class UpstreamConnectionError extends UpstreamError {
  readonly status = 502;
  readonly type = 'upstream_error';
  readonly retryable = true;
  override code = 'upstream_unreachable';
}

/** Upstream 5xx: 502. */
export class UpstreamServerError extends UpstreamError {
  readonly status = 502;
  readonly type = 'upstream_error';
  readonly retryable = true;
  override code = 'upstream_server_error';
}

/** Upstream 429 (rate limit or quota): 429 on a direct model, `Retry-After` passed on. */
export class UpstreamRateLimitError extends UpstreamError {
  readonly status = 429;
  readonly type = 'rate_limit_error';
  readonly retryable = true;
  override code = 'rate_limit_exceeded';
}

/** The provider's own key was refused (401/403): the operator's fault, never the caller's. */
export class UpstreamAuthError extends UpstreamError {
  readonly status = 502;
  readonly type = 'upstream_error';
  readonly retryable = false;
  override code = 'upstream_auth_failed';
}

/** Any other upstream 4xx: returned with the upstream status and message, no fallback. */
export class UpstreamBadRequestError extends UpstreamError {
  readonly type = 'invalid_request_error';
  readonly retryable = false;
  constructor(
    message: string,
    provider: string,
    readonly status: number,
  ) {
    super(message, provider);
  }
}

/** The model cannot do what was asked (e.g. Ollama: "does not support tools"). */
export class ModelCapabilityError extends UpstreamError {
  readonly status = 400;
  readonly type = 'invalid_request_error';
  readonly retryable = false;
  override code = 'model_capability';
}

/** Malformed or truncated upstream body: 502. */
export class UpstreamProtocolError extends UpstreamError {
  readonly status = 502;
  readonly type = 'upstream_error';
  readonly retryable = true;
  override code = 'upstream_protocol_error';
}

/** An upstream answered 200 and then reported an error inside the stream. */
export class UpstreamStreamError extends UpstreamError {
  readonly status = 502;
  readonly type = 'upstream_error';
  readonly retryable = true;
  override code = 'upstream_stream_error';
}

/**
 * Ollama's 503 "server busy" (its queue is full): the next chain entry may answer,
 * but one busy GPU is no reason to open the breaker.
 */
export class ProviderBusyError extends UpstreamError {
  readonly status = 502;
  readonly type = 'upstream_error';
  readonly retryable = true;
  override readonly countsAsProviderFailure = false;
  override code = 'provider_busy';
}
