import { NotFoundException } from '@nestjs/common';
import {
  ClientAbortError,
  InvalidRequestError,
  ModelNotFoundError,
  PayloadTooLargeError,
} from '../../core/errors/request-errors';
import { AllProvidersFailedError } from '../../core/errors/routing-errors';
import {
  ProviderBusyError,
  UpstreamAuthError,
  UpstreamBadRequestError,
  UpstreamConnectionError,
  UpstreamProtocolError,
  UpstreamRateLimitError,
  UpstreamServerError,
  UpstreamTimeoutError,
} from '../../core/errors/upstream-errors';
import { redactSecrets, toErrorResponse } from './error-response';

describe(toErrorResponse.name, () => {
  it.each([
    [
      new InvalidRequestError("'messages' is required", 'messages'),
      400,
      'invalid_request_error',
      null,
      'messages',
    ],
    [new ModelNotFoundError('mana/x'), 404, 'invalid_request_error', 'model_not_found', 'model'],
    [new PayloadTooLargeError(1024), 413, 'invalid_request_error', 'request_too_large', null],
    [new UpstreamRateLimitError('slow down', 'groq'), 429, 'rate_limit_error', 'rate_limit_exceeded', null],
    [
      new UpstreamAuthError("openai rejected the gateway's API key (HTTP 401)", 'openai'),
      502,
      'upstream_error',
      'upstream_auth_failed',
      null,
    ],
    [new UpstreamBadRequestError('credits', 'openrouter', 402), 402, 'invalid_request_error', null, null],
    [new UpstreamServerError('boom', 'openai'), 502, 'upstream_error', 'upstream_server_error', null],
    [new ProviderBusyError('server busy', 'ollama'), 502, 'upstream_error', 'provider_busy', null],
    [
      new UpstreamConnectionError('ollama is unreachable', 'ollama'),
      502,
      'upstream_error',
      'upstream_unreachable',
      null,
    ],
    [new UpstreamProtocolError('cut', 'groq'), 502, 'upstream_error', 'upstream_protocol_error', null],
    [new UpstreamTimeoutError('slow', 'groq'), 504, 'timeout_error', 'upstream_timeout', null],
  ])('should map %p to its SPEC §3 status and body', (error, status, type, code, param) => {
    const response = toErrorResponse(error);
    expect(response.status).toBe(status);
    expect(response.body).toEqual({ error: { message: error.message, type, code, param } });
    expect(response.headers).toEqual({});
  });

  it('should pass Retry-After on for a 429 only', () => {
    const limited = new UpstreamRateLimitError('slow down', 'groq');
    limited.retryAfterSeconds = 3;
    expect(toErrorResponse(limited).headers).toEqual({ 'retry-after': '3' });
    const server = new UpstreamServerError('busy', 'openai');
    server.retryAfterSeconds = 3;
    expect(toErrorResponse(server).headers).toEqual({});
  });

  it('should list the attempts of an exhausted chain with a 503', () => {
    const attempts = [
      { model: 'groq/llama', reason: 'UpstreamTimeoutError' },
      { model: 'ollama/gemma3:4b', reason: 'cache-unhealthy' },
    ];
    const response = toErrorResponse(new AllProvidersFailedError('mana/fast-text', attempts));
    expect(response.status).toBe(503);
    expect(response.body.error).toMatchObject({
      type: 'upstream_error',
      code: 'all_providers_failed',
      attempts,
    });
  });

  it('should answer a Nest routing 404 in the OpenAI shape', () => {
    expect(toErrorResponse(new NotFoundException('Cannot GET /v1/nope'))).toEqual({
      status: 404,
      body: {
        error: {
          message: 'Cannot GET /v1/nope',
          type: 'invalid_request_error',
          code: 'not_found',
          param: null,
        },
      },
      headers: {},
    });
  });

  it('should answer an unknown error with a generic 500 that does not leak its message', () => {
    const response = toErrorResponse(
      new TypeError("Cannot read properties of undefined (reading 'secret sauce')"),
      'req-1',
    );
    expect(response).toEqual({
      status: 500,
      body: {
        error: {
          message: 'Internal server error',
          type: 'server_error',
          code: 'internal_error',
          param: null,
        },
      },
      headers: {},
    });
  });

  it('should give a client that left a 499 that is never a provider failure', () => {
    const response = toErrorResponse(new ClientAbortError());
    expect(response.status).toBe(499);
    expect(new ClientAbortError().countsAsProviderFailure).toBe(false);
  });

  it('should redact key-shaped text in any message', () => {
    const response = toErrorResponse(
      new UpstreamBadRequestError('key sk-proj-abcdef123456 is bad', 'openai', 400),
    );
    expect(response.body.error.message).toBe('key [redacted] is bad');
  });
});

describe(redactSecrets.name, () => {
  it.each([
    ['Incorrect API key provided: sk-proj-abc123DEF456', 'Incorrect API key provided: [redacted]'],
    ['openrouter sk-or-v1-0123456789abcdef', 'openrouter [redacted]'],
    ['groq gsk_ABCdef123456', 'groq [redacted]'],
    ['header Authorization: Bearer abc.def-123_456', 'header Authorization: [redacted]'],
    ['nothing secret here: task-12', 'nothing secret here: task-12'],
  ])('should turn %p into %p', (text, expected) => {
    expect(redactSecrets(text)).toBe(expected);
  });
});
