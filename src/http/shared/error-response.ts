import { HttpException, Logger } from '@nestjs/common';
import { isLlmError } from '../../core/errors/llm-error';
import { AllProvidersFailedError } from '../../core/errors/routing-errors';

export interface OpenAiErrorBody {
  error: {
    message: string;
    type: string;
    code: string | null;
    param: string | null;
    attempts?: { model: string; reason: string }[];
  };
}

export interface ErrorResponse {
  status: number;
  body: OpenAiErrorBody;
  headers: Record<string, string>;
}

const logger = new Logger('Errors');

const KEY_PATTERN = /\b(sk-[A-Za-z0-9_-]{6,}|gsk_[A-Za-z0-9]{6,}|Bearer\s+[A-Za-z0-9._~+/-]{6,})/g;

/** Removes anything that looks like an API key from text that leaves the gateway. */
export function redactSecrets(text: string): string {
  return text.replace(KEY_PATTERN, '[redacted]');
}

/**
 * The one mapping from any thrown value to SPEC §3: status, OpenAI error body, `Retry-After`.
 * Unknown errors are a 500 with a generic message and are logged once with the request id.
 */
export function toErrorResponse(err: unknown, requestId?: string): ErrorResponse {
  if (isLlmError(err)) {
    const headers: Record<string, string> = {};
    // 429 (an upstream rate limit) and 503 (the gateway's own queue for a provider is full) say when.
    if (err.retryAfterSeconds !== undefined && (err.status === 429 || err.status === 503))
      headers['retry-after'] = String(err.retryAfterSeconds);
    const body: OpenAiErrorBody = {
      error: { message: redactSecrets(err.message), type: err.type, code: err.code, param: err.param },
    };
    if (err instanceof AllProvidersFailedError) body.error.attempts = err.attempts;
    return { status: err.status, body, headers };
  }
  if (err instanceof HttpException) {
    const status = err.getStatus();
    return {
      status,
      body: {
        error: {
          message: redactSecrets(err.message),
          type:
            status === 404
              ? 'invalid_request_error'
              : status >= 500
                ? 'server_error'
                : 'invalid_request_error',
          code: status === 404 ? 'not_found' : null,
          param: null,
        },
      },
      headers: {},
    };
  }
  logger.error(
    `unexpected error${requestId ? ` (request ${requestId})` : ''}: ${redactSecrets(err instanceof Error ? (err.stack ?? err.message) : String(err))}`,
  );
  return {
    status: 500,
    body: {
      error: { message: 'Internal server error', type: 'server_error', code: 'internal_error', param: null },
    },
    headers: {},
  };
}
