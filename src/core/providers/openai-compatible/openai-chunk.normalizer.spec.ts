import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { UpstreamProtocolError, UpstreamStreamError } from '../../errors/upstream-errors';
import { ChatCompletionChunk } from '../../openai/chat-completion.types';
import { WIRE_JSON, wireJson } from '../../openai/wire-json';
import { SseEventParser } from '../../streaming/sse-event-parser';
import { OpenAiChunkNormalizer } from './openai-chunk.normalizer';

const FIXTURES = resolve(__dirname, '../../../../../shared/fixtures');

/** Runs a whole SSE body through parser + normalizer, as the adapter does. */
function normalise(body: string, label = 'vendor/model'): ChatCompletionChunk[] {
  const parser = new SseEventParser();
  const normalizer = new OpenAiChunkNormalizer('vendor', label);
  const out: ChatCompletionChunk[] = [];
  for (const event of parser.push(body)) normalizer.event(event, out);
  normalizer.end(out);
  return out;
}

function fixtureBody(path: string): string {
  return readFileSync(resolve(FIXTURES, path), 'utf8');
}

function text(chunks: ChatCompletionChunk[]): string {
  return chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
}

function finishes(chunks: ChatCompletionChunk[]): string[] {
  return chunks
    .flatMap((c) => c.choices.map((ch) => ch.finish_reason))
    .filter((r): r is NonNullable<typeof r> => !!r);
}

const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) =>
  `data: ${JSON.stringify({ id: 'up-1', object: 'chat.completion.chunk', created: 100, model: 'm', choices, ...extra })}\n\n`;

describe(OpenAiChunkNormalizer.name, () => {
  it('should relabel every chunk, keep one id and move OpenAI usage into one last choices:[] chunk', () => {
    const out = normalise(fixtureBody('openai/chat_stream_usage.response.sse'), 'openai/gpt-3.5-turbo');
    expect(text(out)).toBe('1, 2, 3, 4, 5');
    expect(
      out.every(
        (c) => c.model === 'openai/gpt-3.5-turbo' && c.id === 'chatcmpl-C6bjxzOr3Oz1rTiafksd6himIit3q',
      ),
    ).toBe(true);
    expect(finishes(out)).toEqual(['stop']);
    const last = out[out.length - 1];
    expect(last.choices).toEqual([]);
    expect(last.usage).toMatchObject({ prompt_tokens: 14, completion_tokens: 13, total_tokens: 27 });
    expect(out.slice(0, -1).every((c) => c.usage === undefined || c.usage === null)).toBe(true);
    expect(out[0].choices[0].delta.role).toBe('assistant');
  });

  it('should take Groq usage from x_groq, remove it there and give every chunk the first created', () => {
    const out = normalise(fixtureBody('groq/chat_stream_usage_in_x_groq_only.response.sse'));
    expect(out[out.length - 1].usage).toMatchObject({
      prompt_tokens: 21,
      completion_tokens: 988,
      total_tokens: 1009,
    });
    const finish = out.find((c) => c.choices[0]?.finish_reason)!;
    expect(finish.x_groq).toEqual({ id: 'req_01k5csb2e4eskv0qcffjqbscqj' });
    expect(new Set(out.map((c) => c.created))).toEqual(new Set([1758144596]));
  });

  it('should take Together usage from the finish chunk and map eos to stop without [DONE]', () => {
    const out = normalise(fixtureBody('together/chat_stream_chunk_samples_2024.sse'));
    expect(text(out)).toBe('ABCABC');
    expect(finishes(out)).toEqual(['stop']);
    expect(out[out.length - 1]).toMatchObject({
      choices: [],
      usage: { prompt_tokens: 12, completion_tokens: 27, total_tokens: 39 },
    });
  });

  it('should drop the repeated OpenRouter finish chunk and the 2025 usage chunk that still has an empty choice', () => {
    const out = normalise(fixtureBody('openrouter/chat_stream.response.sse'));
    expect(text(out)).toBe('test response');
    expect(finishes(out)).toEqual(['stop']);
    expect(out.filter((c) => c.choices.length === 0)).toHaveLength(1);
    expect(out[out.length - 1].usage).toMatchObject({
      prompt_tokens: 586,
      completion_tokens: 3,
      total_tokens: 589,
    });
  });

  it('should keep content that arrives after the finish of its choice but without a second finish reason', () => {
    const out = normalise(
      chunk([{ index: 0, delta: { content: 'a' }, finish_reason: 'stop' }]) +
        chunk([{ index: 0, delta: { content: 'b' }, finish_reason: 'stop' }]) +
        'data: [DONE]\n\n',
    );
    expect(text(out)).toBe('ab');
    expect(finishes(out)).toEqual(['stop']);
  });

  it('should finish each choice once when the stream has several choices', () => {
    const out = normalise(
      chunk([{ index: 0, delta: { role: 'assistant', content: 'x' }, finish_reason: null }]) +
        chunk([{ index: 1, delta: { content: 'y' }, finish_reason: null }]) +
        chunk([{ index: 0, delta: {}, finish_reason: 'stop' }]) +
        chunk([{ index: 1, delta: {}, finish_reason: 'length' }]) +
        chunk([{ index: 1, delta: {}, finish_reason: 'length' }]) +
        'data: [DONE]\n\n',
    );
    expect(
      out.flatMap((c) =>
        c.choices.filter((ch) => ch.finish_reason).map((ch) => [ch.index, ch.finish_reason]),
      ),
    ).toEqual([
      [0, 'stop'],
      [1, 'length'],
    ]);
  });

  it('should close the turn itself with one finish chunk when [DONE] comes without a finish reason', () => {
    const out = normalise(
      chunk([{ index: 0, delta: { content: 'hi' }, finish_reason: null }]) + 'data: [DONE]\n\n',
    );
    expect(finishes(out)).toEqual(['stop']);
    expect(out[out.length - 1]).toMatchObject({
      id: 'up-1',
      model: 'vendor/model',
      choices: [{ index: 0, delta: {}, finish_reason: 'stop' }],
    });
  });

  it('should synthesise tool_calls as the finish reason when tool calls streamed and no reason came', () => {
    const out = normalise(
      chunk([
        {
          index: 0,
          delta: {
            tool_calls: [{ index: 0, id: 'c1', type: 'function', function: { name: 'f', arguments: '{}' } }],
          },
          finish_reason: null,
        },
      ]) + 'data: [DONE]\n\n',
    );
    expect(finishes(out)).toEqual(['tool_calls']);
  });

  it('should map a stop finish after streamed tool calls to tool_calls', () => {
    const out = normalise(
      chunk([
        {
          index: 0,
          delta: { tool_calls: [{ index: 0, id: 'c1', function: { name: 'f', arguments: '' } }] },
          finish_reason: null,
        },
      ]) +
        chunk([{ index: 0, delta: {}, finish_reason: 'stop' }]) +
        'data: [DONE]\n\n',
    );
    expect(finishes(out)).toEqual(['tool_calls']);
  });

  it('should throw an UpstreamStreamError with the message of a Groq event: error, after the chunks before it', () => {
    const parser = new SseEventParser();
    const normalizer = new OpenAiChunkNormalizer('groq', 'groq/openai/gpt-oss-120b');
    const out: ChatCompletionChunk[] = [];
    let error: unknown;
    try {
      for (const event of parser.push(fixtureBody('groq/chat_stream_error_event.response.sse')))
        normalizer.event(event, out);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(UpstreamStreamError);
    expect((error as Error).message).toMatch(/^Tool call validation failed/);
    expect(out.length).toBeGreaterThan(10);
  });

  it.each([
    [
      'in-band error with usage (recorded)',
      'openrouter/chat_stream_keepalive_midstream_error.response.sse',
      'Token limit reached',
    ],
    [
      'finish_reason error (documented)',
      'openrouter/chat_stream_midstream_error_documented.response.sse',
      'Provider disconnected unexpectedly',
    ],
  ])('should throw on the OpenRouter %s', (_name, path, message) => {
    expect(() => normalise(fixtureBody(path))).toThrow(new UpstreamStreamError(message, 'vendor'));
  });

  it('should read an empty-string finish_reason as not finished', () => {
    const out = normalise(
      chunk([{ index: 0, delta: { content: 'a' }, finish_reason: '' }]) +
        chunk([{ index: 0, delta: { content: 'b' }, finish_reason: 'stop' }]) +
        'data: [DONE]\n\n',
    );
    expect(text(out)).toBe('ab');
    expect(out.map((c) => c.choices[0]?.finish_reason ?? null)).toEqual([null, 'stop']);
  });

  it('should scrub the provider key from the message of an error event', () => {
    const normalizer = new OpenAiChunkNormalizer('together', 'together/x', ['tgp_secret_123']);
    const event = { event: undefined, data: '{"error":{"message":"bad key tgp_secret_123"}}' };
    expect(() => normalizer.event(event, [])).toThrow(
      new UpstreamStreamError('bad key [redacted]', 'together'),
    );
  });

  it('should throw an UpstreamProtocolError when the body ends before a finish and without [DONE]', () => {
    expect(() => normalise(chunk([{ index: 0, delta: { content: 'a' }, finish_reason: null }]))).toThrow(
      UpstreamProtocolError,
    );
    expect(() => normalise('data: [DONE]\n\n')).toThrow(UpstreamProtocolError);
  });

  it.each([
    ['not JSON', 'data: {"id":\n\n'],
    ['not an object', 'data: [1,2]\n\n'],
    ['without choices', 'data: {"id":"x"}\n\n'],
  ])('should throw an UpstreamProtocolError for an event %s', (_name, body) => {
    expect(() => normalise(body)).toThrow(UpstreamProtocolError);
  });

  it('should set the role on the first forwarded chunk when the vendor sends none (Together 2025)', () => {
    const out = normalise(
      chunk([{ index: 0, delta: { content: 'Hi' }, finish_reason: 'stop' }]) + 'data: [DONE]\n\n',
    );
    expect(out[0].choices[0].delta).toEqual({ role: 'assistant', content: 'Hi' });
  });
});

describe(`${OpenAiChunkNormalizer.name} wire text`, () => {
  const STREAMS = [
    'groq/chat_stream_text.response.sse',
    'groq/chat_stream_tool_call.response.sse',
    'groq/chat_stream_usage_in_x_groq_only.response.sse',
    'openai/chat_stream_parallel_tool_calls.response.sse',
    'openai/chat_stream_tool_call.response.sse',
    'openai/chat_stream_usage.response.sse',
    'openrouter/chat_stream.response.sse',
    'openrouter/chat_stream_comments_interleaved.response.sse',
    'openrouter/chat_stream_short.response.sse',
    'openrouter/chat_stream_usage_empty_choices.response.sse',
    'together/chat_stream.response.sse',
    'together/chat_stream_chunk_samples_2024.sse',
  ];

  it.each(STREAMS)('should write every chunk of %s exactly as a fresh serialisation would read', (path) => {
    const out = normalise(fixtureBody(path), 'vendor/model');
    for (const c of out) expect(JSON.parse(wireJson(c))).toEqual(JSON.parse(JSON.stringify(c)));
  });

  it('should pass Groq content chunks through as the upstream bytes with only the model replaced', () => {
    const body = fixtureBody('groq/chat_stream_text.response.sse');
    const data = body
      .split('\n')
      .filter((l) => l.startsWith('data: {'))
      .map((l) => l.slice(6));
    const out = normalise(body, 'groq/openai/gpt-oss-120b');
    const passed = out.filter((c) => (c as { [WIRE_JSON]?: string })[WIRE_JSON] !== undefined);
    // Every chunk (the role chunk already says `assistant`) but the finish chunk (its usage removed)
    // and the usage chunk the gateway makes.
    expect(passed.length).toBe(out.length - 2);
    for (const c of passed) {
      expect(data).toContain(
        wireJson(c).replace('"model":"groq/openai/gpt-oss-120b"', '"model":"openai/gpt-oss-120b"'),
      );
    }
  });

  it('should serialise a chunk again when anything besides the model changed', () => {
    const out = normalise(
      chunk([{ index: 0, delta: { role: 'assistant', content: 'a' }, finish_reason: null }]) +
        chunk([{ index: 0, delta: { content: 'b' }, finish_reason: 'eos' }], { id: 'other', created: 5 }) +
        'data: [DONE]\n\n',
    );
    expect((out[1] as { [WIRE_JSON]?: string })[WIRE_JSON]).toBeUndefined();
    expect(wireJson(out[0])).toBe(
      '{"id":"up-1","object":"chat.completion.chunk","created":100,"model":"vendor/model","choices":[{"index":0,"delta":{"role":"assistant","content":"a"},"finish_reason":null}]}',
    );
    expect(JSON.parse(wireJson(out[1]))).toEqual({
      id: 'up-1',
      object: 'chat.completion.chunk',
      created: 100,
      model: 'vendor/model',
      choices: [{ index: 0, delta: { content: 'b' }, finish_reason: 'stop' }],
    });
  });
});
