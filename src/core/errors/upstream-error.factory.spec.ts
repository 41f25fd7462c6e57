import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  errorFromTransportFailure,
  errorFromUpstreamResponse,
  parseRetryAfter,
  upstreamErrorMessage,
} from './upstream-error.factory';
import {
  ModelCapabilityError,
  ProviderBusyError,
  UpstreamAuthError,
  UpstreamBadRequestError,
  UpstreamConnectionError,
  UpstreamProtocolError,
  UpstreamRateLimitError,
  UpstreamServerError,
  UpstreamTimeoutError,
} from './upstream-errors';

const FIXTURES = resolve(__dirname, '../../../../shared/fixtures');
const body = (path: string) => readFileSync(resolve(FIXTURES, path), 'utf8');

describe(errorFromUpstreamResponse.name, () => {
  it.each([
    ['openai/error_400_invalid_request.json', 400, UpstreamBadRequestError, 400, false],
    ['openai/error_404_model_not_found.json', 404, UpstreamBadRequestError, 404, false],
    ['openai/error_401_invalid_api_key.json', 401, UpstreamAuthError, 502, false],
    ['openai/error_429_rate_limit.json', 429, UpstreamRateLimitError, 429, true],
    ['openai/error_429_insufficient_quota.json', 429, UpstreamRateLimitError, 429, true],
    ['openai/error_500_server_error.json', 500, UpstreamServerError, 502, true],
    ['openai/error_503_overloaded.json', 503, UpstreamServerError, 502, true],
    ['groq/error_400_tool_use_failed.json', 400, UpstreamBadRequestError, 400, false],
    ['groq/error_413_request_too_large.json', 413, UpstreamBadRequestError, 413, false],
    ['openrouter/error_401_no_auth.json', 401, UpstreamAuthError, 502, false],
    ['openrouter/error_402_insufficient_credits.json', 402, UpstreamBadRequestError, 402, false],
    ['openrouter/error_502_provider_down.json', 502, UpstreamServerError, 502, true],
    ['ollama/error_404_model_not_found.json', 404, UpstreamBadRequestError, 404, false],
    ['ollama/error_400_tools_unsupported.json', 400, ModelCapabilityError, 400, false],
  ])(
    'should map %s (HTTP %i) to its class and gateway status',
    (path, status, type, gatewayStatus, retryable) => {
      const provider = path.split('/')[0];
      const error = errorFromUpstreamResponse(provider, status, {}, body(path));
      expect(error).toBeInstanceOf(type);
      expect(error.status).toBe(gatewayStatus);
      expect(error.upstreamStatus).toBe(status);
      expect(error.provider).toBe(provider);
      expect(error.retryable).toBe(retryable);
    },
  );

  it('should pass the message, code and param of an upstream 400 on', () => {
    const error = errorFromUpstreamResponse('openai', 400, {}, body('openai/error_400_invalid_request.json'));
    expect(error.message).toBe(
      "Unsupported value: 'messages[0].role' does not support 'developer' with this model.",
    );
    expect(error.code).toBe('unsupported_value');
    expect(error.param).toBe('messages[0].role');
    expect(error.type).toBe('invalid_request_error');
  });

  it('should keep the upstream 429 code and Retry-After seconds', () => {
    const quota = errorFromUpstreamResponse(
      'openai',
      429,
      {},
      body('openai/error_429_insufficient_quota.json'),
    );
    expect(quota.code).toBe('insufficient_quota');
    expect(quota.retryAfterSeconds).toBeUndefined();
    const limited = errorFromUpstreamResponse(
      'groq',
      429,
      { 'retry-after': '2' },
      body('groq/error_429_rate_limit.json'),
    );
    expect(limited.code).toBe('rate_limit_exceeded');
    expect(limited.retryAfterSeconds).toBe(2);
    expect(limited.message).toMatch(/^Rate limit reached for model `llama-3.3-70b-versatile`/);
  });

  it('should not pass a numeric OpenRouter code on as the error code', () => {
    const error = errorFromUpstreamResponse(
      'openrouter',
      400,
      {},
      body('openrouter/error_400_invalid_model.json'),
    );
    expect(error.message).toBe('minimax-m2.5:free is not a valid model ID');
    expect(error.code).toBeNull();
  });

  it('should append the raw provider error OpenRouter wraps as "Provider returned error"', () => {
    const error = errorFromUpstreamResponse(
      'openrouter',
      429,
      {},
      body('openrouter/error_429_provider_returned_error.json'),
    );
    expect(error.message).toBe(
      'Provider returned error: google/gemini-2.0-flash-exp:free is temporarily rate-limited upstream. Please retry shortly,' +
        ' or add your own key to accumulate your rate limits: https://openrouter.ai/settings/integrations',
    );
  });

  it('should classify only the Ollama 503 "server busy" as ProviderBusyError, which does not count against the breaker', () => {
    const busy = errorFromUpstreamResponse('ollama', 503, {}, body('ollama/error_503_server_busy.json'));
    expect(busy).toBeInstanceOf(ProviderBusyError);
    expect(busy.countsAsProviderFailure).toBe(false);
    expect(busy.retryable).toBe(true);
    expect(busy.message).toBe('server busy, please try again.  maximum pending requests exceeded');
    expect(
      errorFromUpstreamResponse('openai', 503, {}, body('ollama/error_503_server_busy.json')),
    ).toBeInstanceOf(UpstreamServerError);
  });

  it('should never put the provider key into the message, even when the upstream echoes it', () => {
    const key = 'tgp_v1_abcdef0123456789';
    const error = errorFromUpstreamResponse(
      'together',
      400,
      {},
      JSON.stringify({ error: { message: `bad key ${key} used` } }),
      [key],
    );
    expect(error.message).toBe('bad key [redacted] used');
    const auth = errorFromUpstreamResponse('openai', 401, {}, body('openai/error_401_invalid_api_key.json'));
    expect(auth.message).toBe("openai rejected the gateway's API key (HTTP 401)");
    expect(auth.code).toBe('upstream_auth_failed');
  });

  it('should use the trimmed text of a body that is not JSON, or the status when it is empty', () => {
    expect(errorFromUpstreamResponse('groq', 500, {}, '  <html>bad gateway</html>\n').message).toBe(
      '<html>bad gateway</html>',
    );
    expect(errorFromUpstreamResponse('groq', 500, {}, '').message).toBe('HTTP 500');
  });

  it('should cut very long messages', () => {
    const error = errorFromUpstreamResponse(
      'groq',
      400,
      {},
      JSON.stringify({ error: { message: 'x'.repeat(5000) } }),
    );
    expect(error.message).toHaveLength(2001);
  });

  it('should map 408 to a timeout and an unexpected status to a protocol error', () => {
    expect(errorFromUpstreamResponse('groq', 408, {}, '')).toBeInstanceOf(UpstreamTimeoutError);
    expect(errorFromUpstreamResponse('groq', 302, {}, '')).toBeInstanceOf(UpstreamProtocolError);
  });
});

describe(upstreamErrorMessage.name, () => {
  it('should read an in-stream error event of Groq and OpenRouter', () => {
    expect(upstreamErrorMessage('{"error":{"message":"Token limit reached","code":400}}', 200)).toBe(
      'Token limit reached',
    );
    expect(upstreamErrorMessage('{"message":"plain"}', 200)).toBe('plain');
    expect(upstreamErrorMessage('{"error":"an error was encountered while running the model"}', 200)).toBe(
      'an error was encountered while running the model',
    );
  });
});

describe(parseRetryAfter.name, () => {
  it('should read delta seconds, rounding fractions up', () => {
    expect(parseRetryAfter('1')).toBe(1);
    expect(parseRetryAfter(' 2.2 ')).toBe(3);
    expect(parseRetryAfter(['7', '9'])).toBe(7);
  });

  it('should read an HTTP date relative to now and never go below 0', () => {
    const now = Date.parse('2025-01-01T00:00:00Z');
    expect(parseRetryAfter('Wed, 01 Jan 2025 00:00:30 GMT', now)).toBe(30);
    expect(parseRetryAfter('Tue, 31 Dec 2024 23:59:00 GMT', now)).toBe(0);
  });

  it('should ignore a missing or unreadable value', () => {
    expect(parseRetryAfter(undefined)).toBeUndefined();
    expect(parseRetryAfter('soon')).toBeUndefined();
  });
});

describe(errorFromTransportFailure.name, () => {
  it.each(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT', 'ETIMEDOUT'])(
    'should map %s to an UpstreamTimeoutError',
    (code) => {
      const err = Object.assign(new Error('slow'), { code });
      expect(errorFromTransportFailure('ollama', err)).toBeInstanceOf(UpstreamTimeoutError);
    },
  );

  it('should map a refused connection to an UpstreamConnectionError naming the provider', () => {
    const err = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' });
    const error = errorFromTransportFailure('ollama', err);
    expect(error).toBeInstanceOf(UpstreamConnectionError);
    expect(error.status).toBe(502);
    expect(error.message).toBe('ollama is unreachable: connect ECONNREFUSED 127.0.0.1:9');
    expect(error.cause).toBe(err);
  });
});
