import OpenAI from 'openai';
import {
  checkChunks,
  checkFinishedStream,
  gatewayEnv,
  parseStream,
  PROVIDER_KEYS,
  reasoningOf,
  SSE,
  startFakeOllama,
  startFakeVendor,
  textOf,
} from '../support/chat-assertions';
import { FakeUpstream } from '../support/fake-upstream';
import { fixture, fixtureHeaders, fixtureJson, sseEvents } from '../support/fixtures';
import { RunningGateway, startGateway } from '../support/gateway';
import { rawRequest } from '../support/sse-client';

const OPENROUTER_GROK_TEXT =
  "I'm Grok, an AI built by xAI. I'm designed to be helpful, maximally truthful, and a bit witty—think a mix of the " +
  "Hitchhiker's Guide to the Galaxy and JARVIS from Iron Man.";
const TOGETHER_TEXT =
  "Hello! It's nice to meet you. Is there something I can help you with or would you like to chat?";

/** The replies of a recorded SSE fixture, event by event (so events cross TCP reads as they did). */
function sseReply(path: string, headersFile?: string) {
  const headers = headersFile ? fixtureHeaders(headersFile).headers : SSE;
  return { headers, pieces: sseEvents(fixture(path)), delayMs: 1 };
}

describe('chat with OpenAI-compatible providers', () => {
  let ollama: FakeUpstream;
  let openai: FakeUpstream;
  let groq: FakeUpstream;
  let openrouter: FakeUpstream;
  let together: FakeUpstream;
  let gateway: RunningGateway;
  let client: OpenAI;
  const post = (body: object, headers: Record<string, string> = {}) =>
    rawRequest(`${gateway.url}/v1/chat/completions`, { body, headers });

  beforeAll(async () => {
    ollama = await startFakeOllama();
    openai = await startFakeVendor('/v1', 'openai/models_list.response.json');
    groq = await startFakeVendor('/openai/v1', 'openai/models_list.response.json');
    openrouter = await startFakeVendor('/api/v1', 'openrouter/models_list.response.json');
    together = await startFakeVendor('/v1', 'openai/models_list.response.json');
    gateway = await startGateway(gatewayEnv({ ollama, openai, groq, openrouter, together }));
    client = new OpenAI({
      baseURL: `${gateway.url}/v1`,
      apiKey: 'sk-caller-key-must-not-be-forwarded',
      maxRetries: 0,
    });
  });
  afterAll(async () => {
    await gateway?.close();
    await Promise.all([ollama, openai, groq, openrouter, together].map((f) => f.close()));
  });
  beforeEach(() => {
    for (const f of [openai, groq, openrouter, together]) f.requests.length = 0;
  });

  describe('openai', () => {
    it('should relabel chat_nonstream and keep the upstream body otherwise', async () => {
      const { headers } = fixtureHeaders('openai/chat_nonstream.response.headers.txt');
      openai.on('POST', '/v1/chat/completions', {
        headers,
        body: fixture('openai/chat_nonstream.response.json'),
      });
      const res = await post(
        {
          model: 'openai/gpt-3.5-turbo',
          messages: [{ role: 'user', content: 'Hello, how are you?' }],
          max_completion_tokens: 50,
          temperature: 0,
          logit_bias: { '50256': -100 },
          metadata: { app: 'notes' },
          some_future_field: { nested: [1, 2, 3] },
        },
        { authorization: 'Bearer sk-caller-key-must-not-be-forwarded' },
      );

      expect(res.status).toBe(200);
      expect(res.headers['x-mana-llm-resolved']).toBe('openai/gpt-3.5-turbo');
      const expected = fixtureJson('openai/chat_nonstream.response.json');
      expect(JSON.parse(res.body)).toEqual({ ...expected, model: 'openai/gpt-3.5-turbo' });

      const sent = openai.calls('/v1/chat/completions');
      expect(sent).toHaveLength(1);
      expect(sent[0].headers.authorization).toBe(`Bearer ${PROVIDER_KEYS.openai}`);
      expect(sent[0].json()).toEqual({
        model: 'gpt-3.5-turbo',
        messages: [{ role: 'user', content: 'Hello, how are you?' }],
        max_completion_tokens: 50,
        temperature: 0,
        logit_bias: { '50256': -100 },
        metadata: { app: 'notes' },
        some_future_field: { nested: [1, 2, 3] },
        stream: false,
      });
    });

    it('should answer with the vendor bytes, only the model value replaced, when nothing else changes', async () => {
      const body = fixture('openai/chat_nonstream.response.json');
      openai.on('POST', '/v1/chat/completions', { headers: { 'content-type': 'application/json' }, body });
      const res = await post({ model: 'openai/gpt-3.5-turbo', messages: [{ role: 'user', content: 'Hi' }] });
      expect(res.status).toBe(200);
      expect(res.body).toBe(body.replace('"model": "gpt-3.5-turbo-0125"', '"model": "openai/gpt-3.5-turbo"'));
      expect(res.headers['content-length']).toBe(String(Buffer.byteLength(res.body)));
    });

    it('should stream content events as the vendor bytes with only the model value replaced', async () => {
      const body = fixture('openai/chat_stream_usage.response.sse');
      openai.on('POST', '/v1/chat/completions', sseReply('openai/chat_stream_usage.response.sse'));
      const res = await post({
        model: 'openai/gpt-3.5-turbo',
        stream: true,
        messages: [{ role: 'user', content: 'Count from 1 to 5' }],
      });
      const upstream = body
        .split('\n')
        .filter((l) => l.startsWith('data: {') && l.includes('"content":"'))
        .map((l) => l.replace(/"model":"[^"]*"/, '"model":"openai/gpt-3.5-turbo"'));
      const sent = res.body.split('\n').filter((l) => l.startsWith('data: {'));
      // The role chunk and every content chunk, byte for byte; then the finish chunk.
      expect(upstream.length).toBeGreaterThan(5);
      expect(sent.slice(0, upstream.length)).toEqual(upstream);
    });

    it('should stream chat_stream_usage through the openai client with usage only when asked', async () => {
      openai.on('POST', '/v1/chat/completions', sseReply('openai/chat_stream_usage.response.sse'));
      for (const includeUsage of [true, false]) {
        const stream = await client.chat.completions.create({
          model: 'openai/gpt-3.5-turbo',
          stream: true,
          ...(includeUsage ? { stream_options: { include_usage: true } } : {}),
          messages: [{ role: 'user', content: 'Count from 1 to 5' }],
        });
        const chunks: OpenAI.ChatCompletionChunk[] = [];
        for await (const chunk of stream) chunks.push(chunk);

        expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('1, 2, 3, 4, 5');
        expect(chunks.every((c) => c.model === 'openai/gpt-3.5-turbo')).toBe(true);
        expect(new Set(chunks.map((c) => c.id))).toEqual(new Set(['chatcmpl-C6bjxzOr3Oz1rTiafksd6himIit3q']));
        expect(chunks.flatMap((c) => c.choices.map((ch) => ch.finish_reason)).filter(Boolean)).toEqual([
          'stop',
        ]);
        const usageChunks = chunks.filter((c) => c.choices.length === 0);
        if (includeUsage) {
          expect(usageChunks).toHaveLength(1);
          expect(chunks[chunks.length - 1].usage).toMatchObject({
            prompt_tokens: 14,
            completion_tokens: 13,
            total_tokens: 27,
          });
        } else {
          expect(usageChunks).toHaveLength(0);
          expect(chunks.some((c) => c.usage)).toBe(false);
        }
      }
      const bodies = openai.calls('/v1/chat/completions').map((r) => r.json());
      expect(bodies).toHaveLength(2);
      for (const body of bodies) {
        expect(body).toMatchObject({
          model: 'gpt-3.5-turbo',
          stream: true,
          stream_options: { include_usage: true },
        });
      }
    });
    it("should keep the caller's other stream_options upstream and still strip the usage it did not ask for", async () => {
      openai.on('POST', '/v1/chat/completions', sseReply('openai/chat_stream_usage.response.sse'));
      const res = await post({
        model: 'openai/gpt-3.5-turbo',
        stream: true,
        stream_options: { include_obfuscation: false },
        messages: [{ role: 'user', content: 'Count from 1 to 5' }],
      });
      const parsed = parseStream(res.body);
      const { usage } = checkFinishedStream(parsed, 'openai/gpt-3.5-turbo');
      expect(usage).toBeUndefined();
      expect(openai.calls('/v1/chat/completions')[0].json().stream_options).toEqual({
        include_obfuscation: false,
        include_usage: true,
      });
    });

    it('should pass parallel streamed tool calls through intact and finish with tool_calls', async () => {
      openai.on(
        'POST',
        '/v1/chat/completions',
        sseReply('openai/chat_stream_parallel_tool_calls.response.sse'),
      );
      const stream = await client.chat.completions.create({
        model: 'openai/gpt-4o',
        stream: true,
        messages: [{ role: 'user', content: 'Which country and product?' }],
        tools: [
          {
            type: 'function',
            function: { name: 'get_country', parameters: { type: 'object', properties: {} } },
          },
          {
            type: 'function',
            function: { name: 'get_product_name', parameters: { type: 'object', properties: {} } },
          },
        ],
      });
      const calls = new Map<number, { id?: string; name?: string; args: string }>();
      const finishes: string[] = [];
      for await (const chunk of stream) {
        for (const choice of chunk.choices) {
          if (choice.finish_reason) finishes.push(choice.finish_reason);
          for (const call of choice.delta.tool_calls ?? []) {
            const entry = calls.get(call.index) ?? { args: '' };
            entry.id ??= call.id;
            entry.name ??= call.function?.name;
            entry.args += call.function?.arguments ?? '';
            calls.set(call.index, entry);
          }
        }
      }
      expect(finishes).toEqual(['tool_calls']);
      expect([...calls.entries()]).toEqual([
        [0, { id: 'call_q2UyBRP7eXNTzAoR8lEhjc9Z', name: 'get_country', args: '{}' }],
        [1, { id: 'call_b51ijcpFkDiTQG1bQzsrmtW5', name: 'get_product_name', args: '{}' }],
      ]);
    });
  });

  describe('groq', () => {
    it('should relabel chat_nonstream and keep Groq fields', async () => {
      groq.on('POST', '/openai/v1/chat/completions', { body: fixture('groq/chat_nonstream.response.json') });
      const completion = await client.chat.completions.create({
        model: 'groq/llama-3.3-70b-versatile',
        messages: [
          { role: 'system', content: 'You are a helpful assistant.' },
          { role: 'user', content: 'What is the capital of France?' },
        ],
      });
      expect(completion).toEqual({
        ...fixtureJson('groq/chat_nonstream.response.json'),
        model: 'groq/llama-3.3-70b-versatile',
      });
      expect(groq.requests.at(-1)!.headers.authorization).toBe(`Bearer ${PROVIDER_KEYS.groq}`);
    });

    it('should stream chat_stream_text with reasoning, text and the usage from the finish chunk moved last', async () => {
      groq.on(
        'POST',
        '/openai/v1/chat/completions',
        sseReply('groq/chat_stream_text.response.sse', 'groq/chat_stream_text.response.headers.txt'),
      );
      const res = await post({
        model: 'groq/openai/gpt-oss-120b',
        stream: true,
        stream_options: { include_usage: true },
        messages: [{ role: 'user', content: 'hi' }],
      });
      const parsed = parseStream(res.body);
      const { finishReason, usage } = checkFinishedStream(parsed, 'groq/openai/gpt-oss-120b');
      expect(finishReason).toBe('stop');
      expect(usage).toMatchObject({ prompt_tokens: 339, completion_tokens: 58, total_tokens: 397 });
      expect(reasoningOf(parsed.chunks).startsWith('The user wants')).toBe(true);
      expect(textOf(parsed.chunks).endsWith('expected result for the valid call.')).toBe(true);
      // The finish chunk no longer carries the usage: it lives in the one usage chunk.
      const finish = parsed.chunks.find((c) => c.choices[0]?.finish_reason)!;
      expect(finish.usage).toBeUndefined();
      expect((finish.x_groq as { usage?: unknown }).usage).toBeUndefined();
    });

    it('should take usage from x_groq only and leave it out without include_usage', async () => {
      groq.on(
        'POST',
        '/openai/v1/chat/completions',
        sseReply('groq/chat_stream_usage_in_x_groq_only.response.sse'),
      );
      for (const includeUsage of [true, false]) {
        const res = await post({
          model: 'groq/deepseek-r1-distill-llama-70b',
          stream: true,
          stream_options: { include_usage: includeUsage },
          messages: [{ role: 'user', content: 'I want a recipe to cook Uruguayan alfajores.' }],
        });
        const parsed = parseStream(res.body);
        const { usage } = checkFinishedStream(parsed, 'groq/deepseek-r1-distill-llama-70b');
        expect(textOf(parsed.chunks)).toBe('<think>\nOkay, soores!');
        if (includeUsage)
          expect(usage).toMatchObject({ prompt_tokens: 21, completion_tokens: 988, total_tokens: 1009 });
        else expect(res.body).not.toContain('prompt_tokens');
        expect(new Set(parsed.chunks.map((c) => c.created)).size).toBe(1);
      }
    });

    it('should answer 502 JSON when event: error comes after reasoning only (nothing committed the stream)', async () => {
      groq.on('POST', '/openai/v1/chat/completions', sseReply('groq/chat_stream_error_event.response.sse'));
      const res = await post({
        model: 'groq/openai/gpt-oss-120b',
        stream: true,
        messages: [{ role: 'user', content: 'hi' }],
      });
      expect(res.status).toBe(502);
      expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
      const { error } = JSON.parse(res.body);
      expect(error).toMatchObject({ type: 'upstream_error', code: 'upstream_stream_error', param: null });
      expect(error.message).toMatch(/^Tool call validation failed: /);

      await expect(
        client.chat.completions.create({
          model: 'groq/openai/gpt-oss-120b',
          stream: true,
          messages: [{ role: 'user', content: 'hi' }],
        }),
      ).rejects.toMatchObject({ status: 502, code: 'upstream_stream_error' });
    });

    it('should end a stream with an error frame and no [DONE] on an event: error after content', async () => {
      const text = sseEvents(fixture('groq/chat_stream_text.response.sse'));
      const errorEvent = sseEvents(fixture('groq/chat_stream_error_event.response.sse')).pop()!;
      expect(errorEvent.startsWith('event: error\n')).toBe(true);
      groq.on('POST', '/openai/v1/chat/completions', {
        headers: SSE,
        pieces: [...text.slice(0, -2), errorEvent],
        delayMs: 1,
      });

      const res = await post({
        model: 'groq/openai/gpt-oss-120b',
        stream: true,
        messages: [{ role: 'user', content: 'hi' }],
      });
      expect(res.status).toBe(200);
      const parsed = parseStream(res.body);
      checkChunks(parsed.chunks, 'groq/openai/gpt-oss-120b');
      expect(textOf(parsed.chunks).endsWith('expected result for the valid call.')).toBe(true);
      expect(parsed.chunks.some((c) => c.choices.some((ch) => ch.finish_reason))).toBe(false);
      expect(parsed.done).toBe(false);
      expect(parsed.error).toMatchObject({ type: 'upstream_error', code: 'upstream_stream_error' });
      expect(parsed.error!.message).toMatch(/^Tool call validation failed: /);

      // The official client yields the chunks, then throws on the error frame.
      const stream = await client.chat.completions.create({
        model: 'groq/openai/gpt-oss-120b',
        stream: true,
        messages: [{ role: 'user', content: 'hi' }],
      });
      let streamed = '';
      await expect(
        (async () => {
          for await (const chunk of stream) streamed += chunk.choices[0]?.delta.content ?? '';
        })(),
      ).rejects.toThrow(/Tool call validation failed/);
      expect(streamed).toBe(textOf(parsed.chunks));
    });
  });

  describe('openrouter', () => {
    it('should drop interleaved : OPENROUTER PROCESSING comments and send the attribution headers', async () => {
      openrouter.on(
        'POST',
        '/api/v1/chat/completions',
        sseReply('openrouter/chat_stream_comments_interleaved.response.sse'),
      );
      const res = await post({
        model: 'openrouter/x-ai/grok-4',
        stream: true,
        messages: [{ role: 'user', content: 'Who are you?' }],
      });
      expect(res.body).not.toContain('OPENROUTER');
      const parsed = parseStream(res.body);
      const { finishReason } = checkFinishedStream(parsed, 'openrouter/x-ai/grok-4');
      expect(finishReason).toBe('stop');
      expect(textOf(parsed.chunks).startsWith(OPENROUTER_GROK_TEXT)).toBe(true);
      expect(textOf(parsed.chunks).endsWith("What's on your mind?")).toBe(true);

      const sent = openrouter.calls('/api/v1/chat/completions')[0];
      expect(sent.headers.authorization).toBe(`Bearer ${PROVIDER_KEYS.openrouter}`);
      expect(sent.headers['http-referer']).toBe('https://github.com/mana-llm/mana-llm');
      expect(sent.headers['x-title']).toBe('mana-llm');
      expect(sent.json()).toMatchObject({
        model: 'x-ai/grok-4',
        stream: true,
        stream_options: { include_usage: true },
      });
    });

    it('should collapse a repeated finish chunk and drop the 2025 usage chunk that still has a choice', async () => {
      openrouter.on('POST', '/api/v1/chat/completions', sseReply('openrouter/chat_stream.response.sse'));
      const res = await post({
        model: 'openrouter/meta-llama/llama-3.2-3b-instruct:free',
        stream: true,
        stream_options: { include_usage: true },
        messages: [{ role: 'user', content: "Say exactly 'test response' and nothing else" }],
      });
      const parsed = parseStream(res.body);
      const { usage } = checkFinishedStream(parsed, 'openrouter/meta-llama/llama-3.2-3b-instruct:free');
      expect(textOf(parsed.chunks)).toBe('test response');
      expect(usage).toMatchObject({ prompt_tokens: 586, completion_tokens: 3, total_tokens: 589 });
    });

    it('should take usage from the 2026 choices:[] chunk', async () => {
      openrouter.on(
        'POST',
        '/api/v1/chat/completions',
        sseReply('openrouter/chat_stream_usage_empty_choices.response.sse'),
      );
      const res = await post({
        model: 'openrouter/anthropic/claude-sonnet-4.6',
        stream: true,
        stream_options: { include_usage: true },
        messages: [{ role: 'user', content: 'hi' }],
      });
      const parsed = parseStream(res.body);
      const { usage } = checkFinishedStream(parsed, 'openrouter/anthropic/claude-sonnet-4.6');
      expect(textOf(parsed.chunks)).toBe('Hello!');
      expect(usage).toMatchObject({ prompt_tokens: 254, completion_tokens: 5, total_tokens: 259 });
    });

    it('should answer 502 JSON for the in-band error chunk after 17 keep-alive comments and reasoning only', async () => {
      openrouter.on(
        'POST',
        '/api/v1/chat/completions',
        sseReply('openrouter/chat_stream_keepalive_midstream_error.response.sse'),
      );
      const res = await post({
        model: 'openrouter/minimax/minimax-m2:free',
        stream: true,
        messages: [{ role: 'user', content: 'hi' }],
      });
      expect(res.status).toBe(502);
      expect(JSON.parse(res.body)).toEqual({
        error: {
          message: 'Token limit reached',
          type: 'upstream_error',
          code: 'upstream_stream_error',
          param: null,
        },
      });
    });

    it('should end with an error frame on the documented finish_reason error chunk, keeping the text before it', async () => {
      // Both events in one read: the chunk before the error must not be lost.
      openrouter.on('POST', '/api/v1/chat/completions', {
        headers: SSE,
        pieces: [fixture('openrouter/chat_stream_midstream_error_documented.response.sse')],
      });
      const res = await post({
        model: 'openrouter/openai/gpt-3.5-turbo',
        stream: true,
        messages: [{ role: 'user', content: 'hi' }],
      });
      expect(res.status).toBe(200);
      const parsed = parseStream(res.body);
      expect(textOf(parsed.chunks)).toBe('The');
      expect(parsed.error?.message).toBe('Provider disconnected unexpectedly');
      expect(parsed.done).toBe(false);
    });
  });

  describe('together', () => {
    it('should move the usage of the finish chunk into the usage chunk, only with include_usage', async () => {
      together.on('POST', '/v1/chat/completions', sseReply('together/chat_stream.response.sse'));
      for (const includeUsage of [true, false]) {
        const res = await post({
          model: 'together/meta-llama/Llama-3.3-70B-Instruct-Turbo-Free',
          stream: true,
          stream_options: { include_usage: includeUsage },
          messages: [{ role: 'user', content: 'Hello, world!' }],
        });
        const parsed = parseStream(res.body);
        const { finishReason, usage } = checkFinishedStream(
          parsed,
          'together/meta-llama/Llama-3.3-70B-Instruct-Turbo-Free',
        );
        expect(finishReason).toBe('stop');
        expect(textOf(parsed.chunks)).toBe(TOGETHER_TEXT);
        expect(new Set(parsed.chunks.map((c) => c.id))).toEqual(new Set(['oBUtTzC-62bZhn-9801a1ee1bea25d8']));
        if (includeUsage)
          expect(usage).toEqual({
            prompt_tokens: 39,
            completion_tokens: 25,
            total_tokens: 64,
            cached_tokens: 0,
          });
        else expect(res.body).not.toContain('prompt_tokens');
        // Vendor fields pass through untouched.
        expect(parsed.chunks[0].choices[0]).toMatchObject({ text: 'Hello', delta: { token_id: 9906 } });
      }
      expect(together.requests.at(-1)!.headers.authorization).toBe(`Bearer ${PROVIDER_KEYS.together}`);
    });

    it('should map the 2024 eos finish reason to stop on a stream that ends without [DONE]', async () => {
      together.on('POST', '/v1/chat/completions', sseReply('together/chat_stream_chunk_samples_2024.sse'));
      const res = await post({
        model: 'together/meta-llama/Meta-Llama-3.1-8B-Instruct-Turbo',
        stream: true,
        stream_options: { include_usage: true },
        messages: [{ role: 'user', content: 'hi' }],
      });
      const parsed = parseStream(res.body);
      const { finishReason, usage } = checkFinishedStream(
        parsed,
        'together/meta-llama/Meta-Llama-3.1-8B-Instruct-Turbo',
      );
      expect(finishReason).toBe('stop');
      expect(textOf(parsed.chunks)).toBe('ABCABC');
      expect(usage).toEqual({ prompt_tokens: 12, completion_tokens: 27, total_tokens: 39 });
    });

    it.each([
      ['chat_nonstream (eos)', 'together/chat_nonstream.response.json', 'stop'],
      [
        'chat_nonstream_json_mode (no finish_reason)',
        'together/chat_nonstream_json_mode.response.json',
        'stop',
      ],
      ['chat_nonstream_tool_call', 'together/chat_nonstream_tool_call.response.json', 'tool_calls'],
    ])('should map the finish reason of %s', async (_name, path, reason) => {
      together.on('POST', '/v1/chat/completions', { body: fixture(path) });
      const res = await post({ model: 'together/meta-llama/x', messages: [{ role: 'user', content: 'hi' }] });
      expect(res.status).toBe(200);
      const body = JSON.parse(res.body);
      expect(body.model).toBe('together/meta-llama/x');
      expect(body.choices[0].finish_reason).toBe(reason);
      expect(body.usage).toEqual(fixtureJson<{ usage: unknown }>(path).usage);
    });
  });
});
