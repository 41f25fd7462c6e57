import { IncomingMessage, request } from 'node:http';
import {
  checkFinishedStream,
  gatewayEnv,
  NDJSON,
  parseStream,
  SSE,
  startFakeOllama,
  startFakeVendor,
  textOf,
} from '../support/chat-assertions';
import { FakeUpstream } from '../support/fake-upstream';
import { fixture, ndjsonLines, sseEvents } from '../support/fixtures';
import { RunningGateway, startGateway } from '../support/gateway';
import { rawRequest } from '../support/sse-client';

const user = [{ role: 'user', content: 'hi' }];

/** Opens a streaming chat call and resolves with the response as soon as its headers are in. */
function openStream(url: string, body: object): Promise<{ res: IncomingMessage; destroy: () => void }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}/v1/chat/completions`,
      { method: 'POST', headers: { 'content-type': 'application/json' } },
      (res) => resolve({ res, destroy: () => req.destroy() }),
    );
    req.on('error', (err) => (req.destroyed ? undefined : reject(err)));
    req.end(JSON.stringify(body));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('chat streaming edges', () => {
  let ollama: FakeUpstream;
  let openrouter: FakeUpstream;
  let gateway: RunningGateway;
  const post = (body: object, headers: Record<string, string> = {}) =>
    rawRequest(`${gateway.url}/v1/chat/completions`, { body, headers });

  beforeAll(async () => {
    ollama = await startFakeOllama();
    openrouter = await startFakeVendor('/api/v1', 'openrouter/models_list.response.json');
    gateway = await startGateway({
      ...gatewayEnv({ ollama, openrouter }),
      OLLAMA_TIMEOUT: '1',
      PROVIDER_TIMEOUT: '1',
      CORS_ORIGINS: 'localhost,https://app.example.com',
    });
  });
  afterAll(async () => {
    await gateway?.close();
    await Promise.all([ollama, openrouter].map((f) => f.close()));
  });
  beforeEach(() => {
    for (const f of [ollama, openrouter]) {
      f.requests.length = 0;
      f.aborted.length = 0;
    }
  });

  describe('client disconnect', () => {
    it('should abort the Ollama request at once when the client leaves mid-stream', async () => {
      ollama.on('POST', '/api/chat', {
        headers: NDJSON,
        pieces: ndjsonLines(fixture('ollama/chat_stream.response.ndjson')),
        delayMs: 200,
      });
      const { res, destroy } = await openStream(gateway.url, {
        model: 'ollama/gemma3:1b',
        stream: true,
        messages: user,
      });
      expect(res.statusCode).toBe(200);
      await new Promise((r) => res.once('data', r));
      destroy();
      await ollama.waitForAborts(1, 3000);
      expect(ollama.aborted[0].path).toBe('/api/chat');
    });

    it('should abort the OpenRouter request when the client leaves before the first chunk', async () => {
      openrouter.on('POST', '/api/v1/chat/completions', {
        headers: SSE,
        pieces: [': OPENROUTER PROCESSING\n\n'],
        then: 'hang',
      });
      const req = request(`${gateway.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
      });
      req.on('error', () => undefined);
      req.end(JSON.stringify({ model: 'openrouter/x-ai/grok-4', stream: true, messages: user }));
      while (openrouter.requests.length === 0) await sleep(10);
      req.destroy();
      await openrouter.waitForAborts(1, 3000);
    });

    it('should abort a non-streaming upstream call when the client leaves', async () => {
      ollama.on('POST', '/api/chat', { hang: true });
      const req = request(`${gateway.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
      });
      req.on('error', () => undefined);
      req.end(JSON.stringify({ model: 'ollama/gemma3:1b', messages: user }));
      while (ollama.requests.length === 0) await sleep(10);
      req.destroy();
      await ollama.waitForAborts(1, 3000);
    });
  });

  describe('upstream framing', () => {
    it('should give the same stream when the upstream sends its SSE one byte per TCP write', async () => {
      const bytes = Buffer.from(fixture('openrouter/chat_stream_usage_empty_choices.response.sse'), 'utf8');
      openrouter.on('POST', '/api/v1/chat/completions', (_req, res) => {
        res.writeHead(200, SSE);
        let i = 0;
        const step = () => {
          if (res.destroyed) return;
          if (i >= bytes.length) return void res.end();
          res.write(bytes.subarray(i, i + 1));
          i++;
          if (i % 64 === 0) setImmediate(step);
          else step();
        };
        step();
      });
      const res = await post({
        model: 'openrouter/anthropic/claude',
        stream: true,
        stream_options: { include_usage: true },
        messages: user,
      });
      const parsed = parseStream(res.body);
      const { usage } = checkFinishedStream(parsed, 'openrouter/anthropic/claude');
      expect(textOf(parsed.chunks)).toBe('Hello!');
      expect(usage).toMatchObject({ prompt_tokens: 254, completion_tokens: 5, total_tokens: 259 });
    });

    it('should read an SSE stream whose lines end in CRLF', async () => {
      const pieces = sseEvents(fixture('openrouter/chat_stream_short.response.sse')).map((e) =>
        e.replace(/\n/g, '\r\n'),
      );
      expect(pieces[1]).toMatch(/^data: .*\r\n\r\n$/);
      openrouter.on('POST', '/api/v1/chat/completions', { headers: SSE, pieces, delayMs: 1 });
      const res = await post({
        model: 'openrouter/meta-llama/llama-3.2-3b-instruct:free',
        stream: true,
        messages: user,
      });
      const parsed = parseStream(res.body);
      checkFinishedStream(parsed, 'openrouter/meta-llama/llama-3.2-3b-instruct:free');
      expect(textOf(parsed.chunks)).toBe('OK');
    });
  });

  describe('slow clients', () => {
    it('should not time out the upstream while a client that stopped reading holds the stream back', async () => {
      // ~6 MB of content: more than the socket buffers hold, so the gateway must pause its upstream reads
      // for as long as the client does (2.5 s, two and a half times OLLAMA_TIMEOUT).
      const piece = 'x'.repeat(32 * 1024);
      const lines = Array.from(
        { length: 200 },
        (_, i) =>
          JSON.stringify({
            model: 'gemma3:1b',
            message: { role: 'assistant', content: i === 0 ? 'start' : piece },
            done: false,
          }) + '\n',
      );
      lines.push(
        JSON.stringify({
          model: 'gemma3:1b',
          message: { role: 'assistant', content: '' },
          done: true,
          done_reason: 'stop',
        }) + '\n',
      );
      ollama.on('POST', '/api/chat', { headers: NDJSON, pieces: lines });

      const { res } = await openStream(gateway.url, {
        model: 'ollama/gemma3:1b',
        stream: true,
        messages: user,
      });
      res.pause();
      await sleep(2500);
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.resume();
      await new Promise((r) => res.on('end', r));
      const parsed = parseStream(body);
      expect(parsed.error).toBeUndefined();
      checkFinishedStream(parsed, 'ollama/gemma3:1b');
      expect(textOf(parsed.chunks)).toHaveLength(5 + 199 * piece.length);
    });
  });

  describe('keep-alive before the first chunk', () => {
    let slow: RunningGateway;
    beforeAll(async () => {
      slow = await startGateway({
        ...gatewayEnv({ ollama, openrouter }),
        STREAM_KEEPALIVE_INTERVAL: '0.1',
        OLLAMA_TIMEOUT: '5',
      });
    });
    afterAll(() => slow?.close());

    it('should send headers and : keep-alive comments while the first chunk is late, then the stream', async () => {
      const lines = ndjsonLines(fixture('ollama/chat_stream.response.ndjson'));
      ollama.on('POST', '/api/chat', { headers: NDJSON, headersDelayMs: 800, pieces: lines });
      const res = await rawRequest(`${slow.url}/v1/chat/completions`, {
        body: { model: 'ollama/gemma3:1b', stream: true, messages: user },
      });
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe('text/event-stream; charset=utf-8');
      expect(res.body.startsWith(': keep-alive\n\n: keep-alive\n\n')).toBe(true);
      const parsed = parseStream(res.body);
      expect(parsed.comments).toBeGreaterThanOrEqual(2);
      checkFinishedStream(parsed, 'ollama/gemma3:1b');
      expect(textOf(parsed.chunks)).toBe('Okay, here we go!\n\n1, 2, 3, 4, 5\n');
    });

    it('should end with an error frame when the upstream fails after keep-alive committed the headers', async () => {
      ollama.on('POST', '/api/chat', (_req, res) => {
        setTimeout(() => {
          res.writeHead(404, { 'content-type': 'application/json' });
          res.end(fixture('ollama/error_404_model_not_found.json'));
        }, 600);
      });
      const res = await rawRequest(`${slow.url}/v1/chat/completions`, {
        body: { model: 'ollama/llama3.9', stream: true, messages: user },
      });
      expect(res.status).toBe(200);
      const parsed = parseStream(res.body);
      expect(parsed.comments).toBeGreaterThanOrEqual(1);
      expect(parsed.chunks).toEqual([]);
      expect(parsed.done).toBe(false);
      expect(parsed.error).toEqual({
        message: "model 'llama3.9' not found",
        type: 'invalid_request_error',
        code: null,
        param: null,
      });
    });
  });

  describe('headers', () => {
    beforeEach(() => {
      ollama.on('POST', '/api/chat', { body: fixture('ollama/chat_nonstream.response.json') });
    });

    it('should echo a valid X-Request-Id on JSON, SSE and error answers', async () => {
      const json = await post(
        { model: 'ollama/llama3.2', messages: user },
        { 'x-request-id': 'req.abc:123-XYZ_9' },
      );
      expect(json.headers['x-request-id']).toBe('req.abc:123-XYZ_9');
      ollama.on('POST', '/api/chat', {
        headers: NDJSON,
        pieces: ndjsonLines(fixture('ollama/chat_stream.response.ndjson')),
      });
      const sse = await post(
        { model: 'ollama/gemma3:1b', stream: true, messages: user },
        { 'x-request-id': 'stream-1' },
      );
      expect(sse.headers['x-request-id']).toBe('stream-1');
      const error = await post({ messages: 'nope' }, { 'x-request-id': 'bad-1' });
      expect(error.status).toBe(400);
      expect(error.headers['x-request-id']).toBe('bad-1');
    });

    it('should generate a UUID when the X-Request-Id is missing or not acceptable', async () => {
      const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
      const missing = await post({ model: 'ollama/llama3.2', messages: user });
      expect(missing.headers['x-request-id']).toMatch(uuid);
      const unsafe = await post(
        { model: 'ollama/llama3.2', messages: user },
        { 'x-request-id': 'has space/and<html>' },
      );
      expect(unsafe.headers['x-request-id']).toMatch(uuid);
      const long = await post(
        { model: 'ollama/llama3.2', messages: user },
        { 'x-request-id': 'a'.repeat(129) },
      );
      expect(long.headers['x-request-id']).toMatch(uuid);
      expect(long.headers['x-request-id']).not.toBe(missing.headers['x-request-id']);
    });

    it('should never forward the caller Authorization to Ollama', async () => {
      await post({ model: 'ollama/llama3.2', messages: user }, { authorization: 'Bearer caller-secret' });
      expect(ollama.requests.at(-1)!.headers.authorization).toBeUndefined();
    });

    it.each([
      ['http://localhost:5173', true],
      ['https://localhost', true],
      ['https://app.example.com', true],
      ['https://evil.example', false],
      ['http://app.example.com', false],
    ])('should answer a CORS preflight from %s (allowed: %p)', async (origin, allowed) => {
      const res = await rawRequest(`${gateway.url}/v1/chat/completions`, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type,authorization',
        },
      });
      if (allowed) {
        expect(res.status).toBe(204);
        expect(res.headers['access-control-allow-origin']).toBe(origin);
        expect(String(res.headers['access-control-allow-methods'])).toContain('POST');
        expect(String(res.headers['access-control-allow-headers']).toLowerCase()).toContain('authorization');
      } else {
        // No CORS headers at all: the browser refuses; the request itself falls through to the 404.
        expect(res.headers['access-control-allow-origin']).toBeUndefined();
        expect(res.headers['access-control-allow-methods']).toBeUndefined();
        expect(res.status).toBe(404);
      }
    });

    it('should expose the gateway headers to an allowed browser origin on the actual call', async () => {
      const res = await post(
        { model: 'ollama/llama3.2', messages: user },
        { origin: 'http://localhost:3000' },
      );
      expect(res.headers['access-control-allow-origin']).toBe('http://localhost:3000');
      const exposed = String(res.headers['access-control-expose-headers']).toLowerCase();
      for (const name of ['x-request-id', 'x-mana-llm-resolved', 'retry-after'])
        expect(exposed).toContain(name);
    });
  });
});
