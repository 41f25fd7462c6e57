import { LlmError } from './llm-error';

/** The caller sent something we cannot accept (400). `param` names the offending field. */
export class InvalidRequestError extends LlmError {
  readonly status = 400;
  readonly type = 'invalid_request_error';
  readonly retryable = false;
  constructor(message: string, param: string | null = null, code: string | null = null) {
    super(message);
    this.param = param;
    this.code = code;
  }
}

/** Unknown model or alias (404). */
export class ModelNotFoundError extends LlmError {
  readonly status = 404;
  readonly type = 'invalid_request_error';
  readonly retryable = false;
  constructor(model: string, param: string | null = 'model') {
    super(`The model '${model}' does not exist`);
    this.code = 'model_not_found';
    this.param = param;
  }
}

/** Body over the configured limit (413). */
export class PayloadTooLargeError extends LlmError {
  readonly status = 413;
  readonly type = 'invalid_request_error';
  readonly retryable = false;
  constructor(limitBytes: number) {
    super(`Request body exceeds the limit of ${limitBytes} bytes`);
    this.code = 'request_too_large';
  }
}

/** Gateway auth failed (401). */
export class AuthenticationError extends LlmError {
  readonly status = 401;
  readonly type = 'invalid_request_error';
  readonly retryable = false;
  constructor(message = 'Missing or invalid API key. Send Authorization: Bearer <key>.') {
    super(message);
    this.code = 'invalid_api_key';
  }
}

/** Route not found (404) in the OpenAI shape. */
export class RouteNotFoundError extends LlmError {
  readonly status = 404;
  readonly type = 'invalid_request_error';
  readonly retryable = false;
  constructor(method: string, path: string) {
    super(`Unknown route: ${method} ${path}`);
    this.code = 'not_found';
  }
}

/** The caller went away; never a provider failure. */
export class ClientAbortError extends LlmError {
  readonly status = 499;
  readonly type = 'client_closed_request';
  readonly retryable = false;
  override readonly countsAsProviderFailure = false;
  constructor() {
    super('The client closed the request');
  }
}
