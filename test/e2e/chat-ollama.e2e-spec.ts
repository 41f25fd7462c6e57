import OpenAI from 'openai';
import {
  checkChunks,
  checkFinishedStream,
  gatewayEnv,
  NDJSON,
  parseStream,
  startFakeOllama,
  textOf,
} from '../support/chat-assertions';
import { FakeUpstream } from '../support/fake-upstream';
import { fixture, fixtureJson, ndjsonLines } from '../support/fixtures';
import { RunningGateway, startGateway } from '../support/gateway';
import { rawRequest } from '../support/sse-client';

const CHAT_STREAM_TEXT = 'Okay, here we go!\n\n1, 2, 3, 4, 5\n';
const DEFAULT_STREAM_TEXT =
  'Hello there! I’m doing well, thanks for asking. As an AI, I don’t really *feel* in the same way humans do,' +
  ' but I’m functioning perfectly and ready to help you with whatever you need. 😊 ';

describe('chat with Ollama (native /api/chat)', () => {
  let ollama: FakeUpstream;
  let gateway: RunningGateway;
  let client: OpenAI;
  const post = (body: object, headers: Record<string, string> = {}) =>
    rawRequest(`${gateway.url}/v1/chat/completions`, { body, headers });

  beforeAll(async () => {
    ollama = await startFakeOllama();
    gateway = await startGateway({ ...gatewayEnv({ ollama }), OLLAMA_DEFAULT_MODEL: 'gemma3:1b' });
    client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'caller-key', maxRetries: 0 });
  });
  afterAll(async () => {
    await gateway?.close();
    await ollama.close();
  });
  beforeEach(() => {
    ollama.requests.length = 0;
  });

  describe('streaming', () => {
    it('should relay chat_stream as OpenAI SSE with one id, the role first and one finish chunk', async () => {
      ollama.on('POST', '/api/chat', {
        headers: NDJSON,
        pieces: ndjsonLines(fixture('ollama/chat_stream.response.ndjson')),
      });
      const res = await post({
        model: 'ollama/gemma3:1b',
        stream: true,
        messages: [{ role: 'user', content: 'Count from 1 to 5' }],
      });

      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe('text/event-stream; charset=utf-8');
      expect(res.headers['x-mana-llm-resolved']).toBe('ollama/gemma3:1b');
      const parsed = parseStream(res.body);
      const { finishReason, usage } = checkFinishedStream(parsed, 'ollama/gemma3:1b');
      expect(textOf(parsed.chunks)).toBe(CHAT_STREAM_TEXT);
      expect(finishReason).toBe('stop');
      expect(usage).toBeUndefined();
      expect(parsed.chunks[0].id).toMatch(/^chatcmpl-[0-9a-f]{32}$/);
      expect(Math.abs(parsed.chunks[0].created - Date.now() / 1000)).toBeLessThan(120);
      expect(parsed.chunks.every((c) => c.created === parsed.chunks[0].created)).toBe(true);
    });

    it('should end with a usage chunk from prompt_eval_count/eval_count only when include_usage is set', async () => {
      ollama.on('POST', '/api/chat', {
        headers: NDJSON,
        pieces: ndjsonLines(fixture('ollama/chat_stream.response.ndjson')),
      });
      const res = await post({
        model: 'gemma3:1b',
        stream: true,
        stream_options: { include_usage: true },
        messages: [{ role: 'user', content: 'Count from 1 to 5' }],
      });
      const parsed = parseStream(res.body);
      const { usage } = checkFinishedStream(parsed, 'ollama/gemma3:1b');
      expect(usage).toEqual({ prompt_tokens: 16, completion_tokens: 22, total_tokens: 38 });
      expect(parsed.chunks[parsed.chunks.length - 1].choices).toEqual([]);
    });

    it('should map done_reason length and keep multi-byte characters split across reads intact', async () => {
      // chat_default_stream has ’ and 😊; the fake writes it 5 bytes at a time, splitting both.
      const bytes = Buffer.from(fixture('ollama/chat_default_stream.response.ndjson'), 'utf8');
      ollama.on('POST', '/api/chat', (_req, res) => {
        res.writeHead(200, NDJSON);
        for (let i = 0; i < bytes.length; i += 5) res.write(bytes.subarray(i, i + 5));
        res.end();
      });
      const stream = await client.chat.completions.create({
        model: 'ollama/gemma3:1b',
        stream: true,
        stream_options: { include_usage: true },
        messages: [{ role: 'user', content: 'How are you?' }],
      });
      let text = '';
      const finishes: string[] = [];
      let usage: OpenAI.CompletionUsage | undefined | null;
      for await (const chunk of stream) {
        expect(chunk.model).toBe('ollama/gemma3:1b');
        text += chunk.choices[0]?.delta.content ?? '';
        for (const choice of chunk.choices) if (choice.finish_reason) finishes.push(choice.finish_reason);
        if (chunk.usage) usage = chunk.usage;
      }
      expect(text).toBe(DEFAULT_STREAM_TEXT);
      expect(finishes).toEqual(['length']);
      expect(usage).toEqual({ prompt_tokens: 15, completion_tokens: 50, total_tokens: 65 });
    });

    it('should send Ollama a streaming request with the mapped options', async () => {
      ollama.on('POST', '/api/chat', {
        headers: NDJSON,
        pieces: ndjsonLines(fixture('ollama/chat_stream.response.ndjson')),
      });
      const res = await post({
        model: 'ollama/gemma3:1b',
        stream: true,
        max_tokens: 50,
        temperature: 0,
        top_p: 0.9,
        stop: 'END',
        seed: 42,
        presence_penalty: 0.5,
        frequency_penalty: -0.25,
        user: 'someone',
        messages: [{ role: 'user', content: 'Count from 1 to 5' }],
      });
      expect(res.status).toBe(200);
      expect(ollama.calls('/api/chat')).toHaveLength(1);
      expect(ollama.calls('/api/chat')[0].json()).toEqual({
        model: 'gemma3:1b',
        messages: [{ role: 'user', content: 'Count from 1 to 5' }],
        stream: true,
        options: {
          num_predict: 50,
          temperature: 0,
          top_p: 0.9,
          stop: ['END'],
          seed: 42,
          presence_penalty: 0.5,
          frequency_penalty: -0.25,
        },
      });
    });

    it('should turn an {"error"} line after content into an SSE error frame and no [DONE]', async () => {
      const lines = ndjsonLines(fixture('ollama/chat_stream.response.ndjson')).slice(0, 5);
      const errorLine = ndjsonLines(fixture('ollama/generate_stream_midstream_error.response.ndjson')).pop()!;
      ollama.on('POST', '/api/chat', { headers: NDJSON, pieces: [...lines, errorLine] });
      const res = await post({
        model: 'ollama/gemma3:1b',
        stream: true,
        messages: [{ role: 'user', content: 'hi' }],
      });

      expect(res.status).toBe(200);
      const parsed = parseStream(res.body);
      checkChunks(parsed.chunks, 'ollama/gemma3:1b');
      expect(textOf(parsed.chunks)).toBe('Okay, here we go');
      expect(parsed.chunks.some((c) => c.choices.some((ch) => ch.finish_reason))).toBe(false);
      expect(parsed.done).toBe(false);
      expect(parsed.error).toEqual({
        message: 'an error was encountered while running the model',
        type: 'upstream_error',
        code: 'upstream_stream_error',
        param: null,
      });
    });

    it('should answer 502 JSON when the error line comes before any content (the stream never committed)', async () => {
      ollama.on('POST', '/api/chat', {
        headers: NDJSON,
        pieces: ndjsonLines(fixture('ollama/generate_stream_midstream_error.response.ndjson')),
      });
      const res = await post({
        model: 'ollama/gemma4',
        stream: true,
        messages: [{ role: 'user', content: 'hi' }],
      });

      expect(res.status).toBe(502);
      expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(JSON.parse(res.body)).toEqual({
        error: {
          message: 'an error was encountered while running the model',
          type: 'upstream_error',
          code: 'upstream_stream_error',
          param: null,
        },
      });
    });

    it('should treat a stream that ends without its done line as truncated', async () => {
      const lines = ndjsonLines(fixture('ollama/chat_stream.response.ndjson'));
      ollama.on('POST', '/api/chat', { headers: NDJSON, pieces: lines.slice(0, -1) });
      const res = await post({
        model: 'ollama/gemma3:1b',
        stream: true,
        messages: [{ role: 'user', content: 'hi' }],
      });

      const parsed = parseStream(res.body);
      expect(textOf(parsed.chunks)).toBe(CHAT_STREAM_TEXT);
      expect(parsed.done).toBe(false);
      expect(parsed.error?.code).toBe('upstream_protocol_error');
    });
  });

  describe('non-streaming', () => {
    it('should map chat_nonstream to a chat.completion with usage and a generated id', async () => {
      ollama.on('POST', '/api/chat', { body: fixture('ollama/chat_nonstream.response.json') });
      const completion = await client.chat.completions.create({
        model: 'ollama/llama3.2',
        messages: [{ role: 'user', content: 'why is the sky blue?' }],
      });

      expect(completion).toEqual({
        id: expect.stringMatching(/^chatcmpl-[0-9a-f]{32}$/),
        object: 'chat.completion',
        created: expect.any(Number),
        model: 'ollama/llama3.2',
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content: 'Hello! How are you today?' },
            finish_reason: 'stop',
          },
        ],
        usage: { prompt_tokens: 26, completion_tokens: 298, total_tokens: 324 },
      });
      expect(ollama.calls('/api/chat')[0].json()).toEqual({
        model: 'llama3.2',
        messages: [{ role: 'user', content: 'why is the sky blue?' }],
        stream: false,
      });
    });

    it('should prefer max_completion_tokens over max_tokens and label the resolved model in the header', async () => {
      ollama.on('POST', '/api/chat', { body: fixture('ollama/chat_nonstream.response.json') });
      const res = await post({
        model: 'hf.co/org/model:Q4_K_M',
        max_tokens: 10,
        max_completion_tokens: 20,
        messages: [
          { role: 'system', content: 'be brief' },
          { role: 'user', content: 'hi' },
        ],
      });
      expect(res.status).toBe(200);
      expect(res.headers['x-mana-llm-resolved']).toBe('ollama/hf.co/org/model:Q4_K_M');
      expect(JSON.parse(res.body).model).toBe('ollama/hf.co/org/model:Q4_K_M');
      const sent = ollama.calls('/api/chat')[0].json<{ model: string; options: Record<string, unknown> }>();
      expect(sent.model).toBe('hf.co/org/model:Q4_K_M');
      expect(sent.options).toEqual({ num_predict: 20 });
    });

    it.each([
      ['library/gemma3', 'library/gemma3'],
      ['gemma3:1b', 'gemma3:1b'],
      ['ollama/library/gemma3:latest', 'library/gemma3:latest'],
    ])(
      'should route %p to Ollama as %p (an unknown first segment is part of the name)',
      async (model, sent) => {
        ollama.on('POST', '/api/chat', { body: fixture('ollama/chat_nonstream.response.json') });
        const res = await post({ model, messages: [{ role: 'user', content: 'hi' }] });
        expect(res.status).toBe(200);
        expect(res.headers['x-mana-llm-resolved']).toBe(`ollama/${sent}`);
        expect(ollama.calls('/api/chat')[0].json<{ model: string }>().model).toBe(sent);
      },
    );

    it('should use OLLAMA_DEFAULT_MODEL when the request has no model', async () => {
      ollama.on('POST', '/api/chat', { body: fixture('ollama/chat_nonstream.response.json') });
      const res = await post({ messages: [{ role: 'user', content: 'hi' }] });
      expect(res.status).toBe(200);
      expect(res.headers['x-mana-llm-resolved']).toBe('ollama/gemma3:1b');
      expect(ollama.calls('/api/chat')[0].json<{ model: string }>().model).toBe('gemma3:1b');
    });
  });

  describe('upstream errors', () => {
    it.each([
      ['non-streaming', false],
      ['streaming', true],
    ])('should pass on 404 model not found with its message (%s)', async (_name, stream) => {
      ollama.on('POST', '/api/chat', { status: 404, body: fixture('ollama/error_404_model_not_found.json') });
      const res = await post({
        model: 'ollama/llama3.9',
        stream,
        messages: [{ role: 'user', content: 'hi' }],
      });
      expect(res.status).toBe(404);
      expect(JSON.parse(res.body)).toEqual({
        error: {
          message: "model 'llama3.9' not found",
          type: 'invalid_request_error',
          code: null,
          param: null,
        },
      });
    });

    it.each([
      ['non-streaming', false],
      ['streaming', true],
    ])(
      'should answer 502 provider_busy for the 503 server busy queue-full answer (%s)',
      async (_name, stream) => {
        ollama.on('POST', '/api/chat', { status: 503, body: fixture('ollama/error_503_server_busy.json') });
        const res = await post({
          model: 'ollama/gemma3:1b',
          stream,
          messages: [{ role: 'user', content: 'hi' }],
        });
        expect(res.status).toBe(502);
        expect(JSON.parse(res.body).error).toEqual({
          message: fixtureJson<{ error: string }>('ollama/error_503_server_busy.json').error,
          type: 'upstream_error',
          code: 'provider_busy',
          param: null,
        });
      },
    );

    it('should pass on 400 does-not-support-tools as a capability error', async () => {
      ollama.on('POST', '/api/chat', {
        status: 400,
        body: fixture('ollama/error_400_tools_unsupported.json'),
      });
      const res = await post({ model: 'ollama/gemma3:1b', messages: [{ role: 'user', content: 'hi' }] });
      expect(res.status).toBe(400);
      expect(JSON.parse(res.body).error).toEqual({
        message: fixtureJson<{ error: string }>('ollama/error_400_tools_unsupported.json').error,
        type: 'invalid_request_error',
        code: 'model_capability',
        param: null,
      });
    });

    it('should answer 400 naming n when n > 1 is asked of Ollama, without calling it', async () => {
      const res = await post({
        model: 'ollama/gemma3:1b',
        n: 2,
        messages: [{ role: 'user', content: 'hi' }],
      });
      expect(res.status).toBe(400);
      expect(JSON.parse(res.body).error.param).toBe('n');
      expect(ollama.calls('/api/chat')).toHaveLength(0);
    });
  });
});
