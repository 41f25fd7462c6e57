import { createServer } from 'node:net';
import OpenAI from 'openai';
import {
  checkChunks,
  gatewayEnv,
  NDJSON,
  parseStream,
  PROVIDER_KEYS,
  SSE,
  startFakeOllama,
  startFakeVendor,
  textOf,
} from '../support/chat-assertions';
import { FakeUpstream } from '../support/fake-upstream';
import { fixture, fixtureHeaders, fixtureJson, ndjsonLines, sseEvents } from '../support/fixtures';
import { RunningGateway, startGateway } from '../support/gateway';
import { RawResponse, rawRequest } from '../support/sse-client';

const OPENAI_CHAT = '/v1/chat/completions';
const user: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'hi' }];

/** A port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

/** The OpenAI error body of a JSON error answer; it never carries a provider key. */
function errorOf(res: RawResponse): {
  message: string;
  type: string;
  code: string | null;
  param: string | null;
} {
  expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
  for (const key of Object.values(PROVIDER_KEYS)) expect(res.body).not.toContain(key);
  const body = JSON.parse(res.body) as { error: ReturnType<typeof errorOf> };
  expect(Object.keys(body)).toEqual(['error']);
  return body.error;
}

describe('chat errors (SPEC §3)', () => {
  let ollama: FakeUpstream;
  let openai: FakeUpstream;
  let groq: FakeUpstream;
  let openrouter: FakeUpstream;
  let gateway: RunningGateway;
  let client: OpenAI;
  const post = (body: object | string, headers: Record<string, string> = {}) =>
    rawRequest(`${gateway.url}/v1/chat/completions`, { body, headers });

  beforeAll(async () => {
    ollama = await startFakeOllama();
    openai = await startFakeVendor('/v1', 'openai/models_list.response.json');
    groq = await startFakeVendor('/openai/v1', 'openai/models_list.response.json');
    openrouter = await startFakeVendor('/api/v1', 'openrouter/models_list.response.json');
    gateway = await startGateway({
      ...gatewayEnv({ ollama, openai, groq, openrouter }),
      OLLAMA_TIMEOUT: '1',
      PROVIDER_TIMEOUT: '1',
      BODY_LIMIT: '4kb',
    });
    client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'caller', maxRetries: 0 });
  });
  afterAll(async () => {
    await gateway?.close();
    await Promise.all([ollama, openai, groq, openrouter].map((f) => f.close()));
  });
  beforeEach(() => {
    for (const f of [ollama, openai, groq, openrouter]) {
      f.requests.length = 0;
      f.aborted.length = 0;
    }
  });

  describe('requests rejected before routing', () => {
    it('should answer 400 naming body for invalid JSON', async () => {
      const res = await post('{"model": "ollama/x", "messages": [');
      expect(res.status).toBe(400);
      expect(errorOf(res)).toMatchObject({
        type: 'invalid_request_error',
        code: 'invalid_json',
        param: 'body',
      });
    });

    it('should answer 400 naming the field through the official client', async () => {
      const call = client.chat.completions.create({
        model: 'ollama/gemma3:4b',
        messages: [
          { role: 'user', content: [{ type: 'text' }] },
        ] as unknown as OpenAI.ChatCompletionMessageParam[],
      });
      await expect(call).rejects.toBeInstanceOf(OpenAI.BadRequestError);
      await expect(call).rejects.toMatchObject({ status: 400, param: 'messages[0].content[0].text' });
      expect(ollama.requests).toHaveLength(0);
    });

    it('should answer 404 for an unknown alias', async () => {
      const res = await post({ model: 'mana/does-not-exist', messages: user });
      expect(res.status).toBe(404);
      expect(errorOf(res)).toEqual({
        message: "The model 'mana/does-not-exist' does not exist",
        type: 'invalid_request_error',
        code: 'model_not_found',
        param: 'model',
      });
    });

    it('should answer 503 with the attempt for a direct model whose provider has no API key', async () => {
      for (const stream of [false, true]) {
        const res = await post({ model: 'together/meta-llama/x', stream, messages: user });
        expect(res.status).toBe(503);
        const body = JSON.parse(res.body) as { error: Record<string, unknown> };
        expect(body.error).toMatchObject({
          type: 'upstream_error',
          code: 'all_providers_failed',
          attempts: [{ model: 'together/meta-llama/x', reason: 'unconfigured' }],
        });
      }
    });

    it.each([
      ['declared by content-length', {}],
      ['sent chunked', { 'transfer-encoding': 'chunked' }],
    ])('should answer 413 for a body over BODY_LIMIT %s', async (_name, headers) => {
      const res = await post(
        { model: 'ollama/x', messages: [{ role: 'user', content: 'x'.repeat(5000) }] },
        headers,
      );
      expect(res.status).toBe(413);
      expect(errorOf(res)).toEqual({
        message: 'Request body exceeds the limit of 4096 bytes',
        type: 'invalid_request_error',
        code: 'request_too_large',
        param: null,
      });
      expect(ollama.requests).toHaveLength(0);
    });

    it.each([
      ['GET', '/v1/nope'],
      ['POST', '/v1/chat/completion'],
      ['GET', '/v1/chat/completions'],
    ])('should answer %s %s with a 404 in the OpenAI shape', async (method, path) => {
      const res = await rawRequest(`${gateway.url}${path}`, {
        method,
        ...(method === 'POST' ? { body: {} } : {}),
      });
      expect(res.status).toBe(404);
      const error = errorOf(res);
      expect(error.type).toBe('invalid_request_error');
      expect(error.message).toContain(path);
    });
  });

  describe('upstream 4xx on a direct model', () => {
    it.each([
      ['non-streaming', false],
      ['streaming', true],
    ])('should pass an OpenAI 400 on with its message, code and param (%s)', async (_name, stream) => {
      const { headers } = fixtureHeaders('openai/error_400_invalid_request.headers.txt');
      openai.on('POST', OPENAI_CHAT, {
        status: 400,
        headers,
        body: fixture('openai/error_400_invalid_request.json'),
      });
      const res = await post({
        model: 'openai/o1-mini',
        stream,
        messages: [{ role: 'developer', content: 'x' }, ...user],
      });
      expect(res.status).toBe(400);
      expect(errorOf(res)).toEqual({
        message: "Unsupported value: 'messages[0].role' does not support 'developer' with this model.",
        type: 'invalid_request_error',
        code: 'unsupported_value',
        param: 'messages[0].role',
      });
    });

    it.each([
      [
        'groq 400 tool_use_failed',
        groqFake,
        '/openai/v1',
        'groq/error_400_tool_use_failed.json',
        400,
        'tool_use_failed',
      ],
      [
        'groq 413 request too large',
        groqFake,
        '/openai/v1',
        'groq/error_413_request_too_large.json',
        413,
        'rate_limit_exceeded',
      ],
      [
        'openrouter 400 invalid model',
        openrouterFake,
        '/api/v1',
        'openrouter/error_400_invalid_model.json',
        400,
        null,
      ],
      [
        'openrouter 402 credits',
        openrouterFake,
        '/api/v1',
        'openrouter/error_402_insufficient_credits.json',
        402,
        null,
      ],
      [
        'openai 404 model',
        openaiFake,
        '/v1',
        'openai/error_404_model_not_found.json',
        404,
        'model_not_found',
      ],
    ])('should pass the %s status and message on', async (_name, fake, prefix, path, status, code) => {
      fake().on('POST', `${prefix}/chat/completions`, { status, body: fixture(path) });
      const provider = path.split('/')[0];
      const res = await post({ model: `${provider}/some-model`, messages: user });
      expect(res.status).toBe(status);
      const error = errorOf(res);
      expect(error.message).toBe(fixtureJson<{ error: { message: string } }>(path).error.message);
      expect(error.code).toBe(code);
    });

    it.each([
      ['openai', openaiFake, '/v1', 'openai/error_401_invalid_api_key.json'],
      ['openrouter', openrouterFake, '/api/v1', 'openrouter/error_401_user_not_found.json'],
    ])(
      'should answer 502 upstream_auth_failed when %s refuses the provider key, streaming or not',
      async (provider, fake, prefix, path) => {
        fake().on('POST', `${prefix}/chat/completions`, { status: 401, body: fixture(path) });
        for (const stream of [false, true]) {
          const res = await post(
            { model: `${provider}/gpt-4o-mini`, stream, messages: user },
            { authorization: 'Bearer caller-secret' },
          );
          expect(res.status).toBe(502);
          expect(errorOf(res)).toEqual({
            message: `${provider} rejected the gateway's API key (HTTP 401)`,
            type: 'upstream_error',
            code: 'upstream_auth_failed',
            param: null,
          });
          expect(res.body).not.toContain('sk-test');
        }
        for (const sent of fake().calls(`${prefix}/chat/completions`)) {
          expect(sent.headers.authorization).toBe(
            `Bearer ${PROVIDER_KEYS[provider as keyof typeof PROVIDER_KEYS]}`,
          );
        }
      },
    );
  });

  describe('upstream rate limits on a direct model', () => {
    it.each([
      ['non-streaming', false],
      ['streaming', true],
    ])('should answer 429 with Retry-After passed on (%s)', async (_name, stream) => {
      const { headers } = fixtureHeaders('openai/error_429_rate_limit.headers.txt');
      openai.on('POST', OPENAI_CHAT, {
        status: 429,
        headers,
        body: fixture('openai/error_429_rate_limit.json'),
      });
      const res = await post({ model: 'openai/gpt-4o-mini', stream, messages: user });
      expect(res.status).toBe(429);
      expect(res.headers['retry-after']).toBe('1');
      expect(errorOf(res)).toMatchObject({
        type: 'rate_limit_error',
        code: 'rate_limit_exceeded',
        param: null,
      });
    });

    it('should answer 429 for insufficient_quota too, without Retry-After when the upstream gave none', async () => {
      openai.on('POST', OPENAI_CHAT, {
        status: 429,
        body: fixture('openai/error_429_insufficient_quota.json'),
      });
      const res = await post({ model: 'openai/gpt-4o-mini', messages: user });
      expect(res.status).toBe(429);
      expect(res.headers['retry-after']).toBeUndefined();
      const error = errorOf(res);
      expect(error.code).toBe('insufficient_quota');
      expect(error.message).toMatch(/^You exceeded your current quota/);
    });

    it('should pass the Groq 429 Retry-After on and the OpenAI client should see a RateLimitError', async () => {
      const { headers } = fixtureHeaders('groq/error_429_rate_limit.headers.txt');
      groq.on('POST', '/openai/v1/chat/completions', {
        status: 429,
        headers,
        body: fixture('groq/error_429_rate_limit.json'),
      });
      const call = client.chat.completions.create({ model: 'groq/llama-3.3-70b-versatile', messages: user });
      await expect(call).rejects.toBeInstanceOf(OpenAI.RateLimitError);
      const res = await post({ model: 'groq/llama-3.3-70b-versatile', messages: user });
      expect(res.headers['retry-after']).toBe('2');
    });

    it('should answer 429 for an OpenRouter 429 with the wrapped provider message', async () => {
      openrouter.on('POST', '/api/v1/chat/completions', {
        status: 429,
        headers: fixtureHeaders('openrouter/error_429_provider_returned_error.headers.txt').headers,
        body: fixture('openrouter/error_429_provider_returned_error.json'),
      });
      const res = await post({ model: 'openrouter/google/gemini-2.0-flash-exp:free', messages: user });
      expect(res.status).toBe(429);
      expect(errorOf(res).message).toMatch(
        /^Provider returned error: google\/gemini-2.0-flash-exp:free is temporarily rate-limited/,
      );
    });
  });

  describe('upstream failures on a direct model (502)', () => {
    it.each([
      ['openai 500', openaiFake, '/v1', 'openai', 500, 'openai/error_500_server_error.json'],
      ['openai 503', openaiFake, '/v1', 'openai', 503, 'openai/error_503_overloaded.json'],
      [
        'openrouter 502',
        openrouterFake,
        '/api/v1',
        'openrouter',
        502,
        'openrouter/error_502_provider_down.json',
      ],
    ])('should answer 502 for %s, streaming or not', async (_name, fake, prefix, provider, status, path) => {
      fake().on('POST', `${prefix}/chat/completions`, { status, body: fixture(path) });
      for (const stream of [false, true]) {
        const res = await post({ model: `${provider}/m`, stream, messages: user });
        expect(res.status).toBe(502);
        const error = errorOf(res);
        expect(error).toMatchObject({ type: 'upstream_error', code: 'upstream_server_error', param: null });
        expect(error.message.length).toBeGreaterThan(10);
      }
    });

    it('should answer 502 for a 200 body that is not JSON', async () => {
      openai.on('POST', OPENAI_CHAT, { body: '<html>gateway hiccup</html>' });
      const res = await post({ model: 'openai/gpt-4o-mini', messages: user });
      expect(res.status).toBe(502);
      expect(errorOf(res)).toMatchObject({ type: 'upstream_error', code: 'upstream_protocol_error' });
      ollama.on('POST', '/api/chat', { body: '{"model":"x","message":' });
      const fromOllama = await post({ model: 'ollama/x', messages: user });
      expect(fromOllama.status).toBe(502);
      expect(errorOf(fromOllama).code).toBe('upstream_protocol_error');
    });

    it('should answer 502 for a stream whose first event is not JSON', async () => {
      openai.on('POST', OPENAI_CHAT, {
        headers: SSE,
        pieces: ['data: {"id":"x","choices":[\n\n', 'data: [DONE]\n\n'],
      });
      const res = await post({ model: 'openai/gpt-4o-mini', stream: true, messages: user });
      expect(res.status).toBe(502);
      expect(errorOf(res).code).toBe('upstream_protocol_error');
    });

    it('should answer 502 when the connection is cut before any chunk', async () => {
      openai.on('POST', OPENAI_CHAT, {
        headers: SSE,
        pieces: [': OPENROUTER PROCESSING\n\n'],
        then: 'destroy',
      });
      const res = await post({ model: 'openai/gpt-4o-mini', stream: true, messages: user });
      expect(res.status).toBe(502);
      expect(errorOf(res).code).toBe('upstream_protocol_error');
      ollama.on('POST', '/api/chat', { destroy: true });
      const refused = await post({ model: 'ollama/x', messages: user });
      expect(refused.status).toBe(502);
    });

    it('should end with an error frame when the connection is cut after the stream committed', async () => {
      const events = sseEvents(fixture('openai/chat_stream_usage.response.sse'));
      // Paced, so the chunks reach the gateway before the reset (a reset discards what undici still buffers).
      openai.on('POST', OPENAI_CHAT, {
        headers: SSE,
        pieces: events.slice(0, 6),
        delayMs: 20,
        then: 'destroy',
      });
      const res = await post({ model: 'openai/gpt-3.5-turbo', stream: true, messages: user });
      expect(res.status).toBe(200);
      const parsed = parseStream(res.body);
      checkChunks(parsed.chunks, 'openai/gpt-3.5-turbo');
      expect(textOf(parsed.chunks)).toBe('1, 2,');
      expect(parsed.done).toBe(false);
      expect(parsed.error).toMatchObject({ type: 'upstream_error', code: 'upstream_protocol_error' });
    });

    it('should answer 502 upstream_unreachable when the connection is refused, streaming or not', async () => {
      const port = await closedPort();
      const refused = await startGateway({
        ...gatewayEnv({ ollama }),
        OLLAMA_URL: `http://127.0.0.1:${port}`,
      });
      try {
        for (const stream of [false, true]) {
          const res = await rawRequest(`${refused.url}/v1/chat/completions`, {
            body: { model: 'ollama/x', stream, messages: user },
          });
          expect(res.status).toBe(502);
          const error = errorOf(res);
          expect(error).toMatchObject({ type: 'upstream_error', code: 'upstream_unreachable', param: null });
          expect(error.message).toMatch(/^ollama is unreachable: /);
        }
      } finally {
        await refused.close();
      }
    });
  });

  describe('timeouts on a direct model (OLLAMA_TIMEOUT / PROVIDER_TIMEOUT = 1 s)', () => {
    it('should answer 504 when a JSON answer does not come in time, and abort the upstream', async () => {
      ollama.on('POST', '/api/chat', { hang: true });
      const res = await post({ model: 'ollama/gemma3:1b', messages: user });
      expect(res.status).toBe(504);
      expect(errorOf(res)).toMatchObject({ type: 'timeout_error', code: 'upstream_timeout', param: null });
      await ollama.waitForAborts(1);
    });

    it('should answer 504 JSON when a stream sends its headers but no first chunk in time', async () => {
      openai.on('POST', OPENAI_CHAT, { headers: SSE, pieces: [], then: 'hang' });
      const res = await post({ model: 'openai/gpt-4o-mini', stream: true, messages: user });
      expect(res.status).toBe(504);
      expect(errorOf(res).code).toBe('upstream_timeout');
      await openai.waitForAborts(1);
    });

    it('should answer 504 JSON when a stream sends nothing but comments (they are no chunks)', async () => {
      openrouter.on('POST', '/api/v1/chat/completions', {
        headers: SSE,
        pieces: Array(20).fill(': OPENROUTER PROCESSING\n\n'),
        delayMs: 100,
        then: 'hang',
      });
      const res = await post({ model: 'openrouter/x-ai/grok-4', stream: true, messages: user });
      expect(res.status).toBe(504);
      expect(errorOf(res).code).toBe('upstream_timeout');
    });

    it('should count the time to the first chunk from the request, not from the response headers', async () => {
      // Headers after 0.7 s, first line 0.7 s later: 1.4 s > 1 s to the first chunk (but only 0.7 s after the headers).
      ollama.on('POST', '/api/chat', {
        headers: NDJSON,
        headersDelayMs: 700,
        pieces: ['', ...ndjsonLines(fixture('ollama/chat_stream.response.ndjson'))],
        delayMs: 700,
      });
      const res = await post({ model: 'ollama/gemma3:1b', stream: true, messages: user });
      expect(res.status).toBe(504);
    });

    it('should end a committed stream that stalls between chunks with an error frame and abort the upstream', async () => {
      const lines = ndjsonLines(fixture('ollama/chat_stream.response.ndjson'));
      ollama.on('POST', '/api/chat', { headers: NDJSON, pieces: lines.slice(0, 3), then: 'hang' });
      const res = await post({ model: 'ollama/gemma3:1b', stream: true, messages: user });
      expect(res.status).toBe(200);
      const parsed = parseStream(res.body);
      expect(textOf(parsed.chunks)).toBe('Okay, here');
      expect(parsed.done).toBe(false);
      expect(parsed.error).toEqual({
        message: 'ollama sent no chunk for 1000 ms',
        type: 'timeout_error',
        code: 'upstream_timeout',
        param: null,
      });
      await ollama.waitForAborts(1);
    });

    it('should not time out a stream whose chunks keep coming more often than the timeout', async () => {
      const lines = ndjsonLines(fixture('ollama/chat_stream.response.ndjson'));
      ollama.on('POST', '/api/chat', {
        headers: NDJSON,
        pieces: lines.slice(0, 4).concat(lines.slice(-1)),
        delayMs: 150,
      });
      const res = await post({ model: 'ollama/gemma3:1b', stream: true, messages: user });
      const parsed = parseStream(res.body);
      expect(parsed.done).toBe(true);
      expect(textOf(parsed.chunks)).toBe('Okay, here we');
    });
  });

  // The fakes are created in beforeAll; `it.each` tables are built before it, so they take getters.
  function openaiFake() {
    return openai;
  }
  function groqFake() {
    return groq;
  }
  function openrouterFake() {
    return openrouter;
  }
});
