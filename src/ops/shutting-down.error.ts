import { LlmError } from '../core/errors/llm-error';

/**
 * The gateway is draining (SIGTERM) and its grace period ran out before this request finished.
 * Before a stream is committed it is a 503; after, the stream ends with
 * `data: {"error":{..., "code":"shutting_down"}}`. Retrying on another replica is safe.
 */
export class ShuttingDownError extends LlmError {
  readonly status = 503;
  readonly type = 'server_error';
  // Not a reason to try the next chain entry: this process is going away. Callers may retry the call.
  readonly retryable = false;
  override readonly countsAsProviderFailure = false;
  constructor() {
    super('The gateway is shutting down; retry the request');
    this.code = 'shutting_down';
  }
}
