import OpenAI from 'openai';
import type { ChatCompletionMessageParam, ChatCompletionTool } from 'openai/resources/chat/completions';
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
import { fixture, fixtureJson, ndjsonLines, sseEvents } from '../support/fixtures';
import { RunningGateway, startGateway } from '../support/gateway';
import { rawRequest } from '../support/sse-client';

interface OllamaRequest {
  model: string;
  messages: Record<string, unknown>[];
  tools?: ChatCompletionTool[];
  stream?: boolean;
}

const CALL_ID = /^call_[0-9a-f]{24}$/;
const TOOLS_REQUEST = fixtureJson<OllamaRequest>('ollama/chat_tools.request.json');
const TOOLS_STREAM_REQUEST = fixtureJson<OllamaRequest>('ollama/chat_tools_stream.request.json');
const TOOL_RESULT_REQUEST = fixtureJson<OllamaRequest>('ollama/chat_tool_result.request.json');
const TOOL_RESULT_TEXT = fixtureJson<{ message: { content: string } }>(
  'ollama/chat_tool_result.response.json',
).message.content;

/** Every `data:` event of a recorded SSE body, parsed (for comparing tool-call deltas). */
function upstreamChunks(path: string): { choices: { delta: { tool_calls?: unknown[] } }[] }[] {
  return sseEvents(fixture(path))
    .map((e) => e.trim())
    .filter((e) => e.startsWith('data: ') && e !== 'data: [DONE]')
    .map((e) => JSON.parse(e.slice(6)));
}

describe('tool calling', () => {
  let ollama: FakeUpstream;
  let openai: FakeUpstream;
  let groq: FakeUpstream;
  let openrouter: FakeUpstream;
  let together: FakeUpstream;
  let gateway: RunningGateway;
  let client: OpenAI;

  beforeAll(async () => {
    ollama = await startFakeOllama();
    openai = await startFakeVendor('/v1', 'openai/models_list.response.json');
    groq = await startFakeVendor('/openai/v1', 'openai/models_list.response.json');
    openrouter = await startFakeVendor('/api/v1', 'openrouter/models_list.response.json');
    together = await startFakeVendor('/v1', 'openai/models_list.response.json');
    gateway = await startGateway(gatewayEnv({ ollama, openai, groq, openrouter, together }));
    client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'caller-key', maxRetries: 0 });
  });
  afterAll(async () => {
    await gateway.close();
    await Promise.all([ollama, openai, groq, openrouter, together].map((f) => f.close()));
  });
  beforeEach(() => {
    for (const f of [ollama, openai, groq, openrouter, together]) f.requests.length = 0;
  });

  describe('through Ollama', () => {
    it('should round-trip a tool call without streaming: call ids, JSON arguments, tool results by name', async () => {
      ollama.on(
        'POST',
        '/api/chat',
        { body: fixture('ollama/chat_tools.response.json') },
        { body: fixture('ollama/chat_tool_result.response.json') },
      );
      const messages: ChatCompletionMessageParam[] = [
        { role: 'user', content: 'What is the weather today in Paris?' },
      ];
      const first = await client.chat.completions.create({
        model: 'ollama/llama3.2',
        messages,
        tools: TOOLS_REQUEST.tools,
      });
      expect(ollama.calls('/api/chat')[0].json()).toEqual(TOOLS_REQUEST);
      const choice = first.choices[0];
      expect(choice.finish_reason).toBe('tool_calls');
      expect(choice.message.tool_calls).toEqual([
        {
          id: expect.stringMatching(CALL_ID),
          type: 'function',
          function: { name: 'get_current_weather', arguments: '{"format":"celsius","location":"Paris, FR"}' },
        },
      ]);
      expect(first.usage).toEqual({ prompt_tokens: 122, completion_tokens: 33, total_tokens: 155 });

      const call = choice.message.tool_calls![0];
      const second = await client.chat.completions.create({
        model: 'ollama/llama3.2',
        messages: [
          ...messages,
          choice.message as ChatCompletionMessageParam,
          { role: 'tool', tool_call_id: call.id, content: '22 degrees celsius' },
        ],
        tools: TOOLS_REQUEST.tools,
      });
      expect(second.choices[0]).toMatchObject({
        message: { role: 'assistant', content: TOOL_RESULT_TEXT },
        finish_reason: 'stop',
      });
      const sent = ollama.calls('/api/chat')[1].json<OllamaRequest>();
      expect(sent.messages).toEqual([
        { role: 'user', content: 'What is the weather today in Paris?' },
        {
          role: 'assistant',
          content: '',
          tool_calls: [
            {
              function: {
                name: 'get_current_weather',
                arguments: { format: 'celsius', location: 'Paris, FR' },
              },
            },
          ],
        },
        { role: 'tool', content: '22 degrees celsius', tool_name: 'get_current_weather' },
      ]);
    });

    it('should send a tool result turn exactly as Ollama documents it (chat_tool_result)', async () => {
      ollama.on('POST', '/api/chat', { body: fixture('ollama/chat_tool_result.response.json') });
      const answer = await client.chat.completions.create({
        model: 'ollama/llama3.2',
        messages: [
          { role: 'user', content: 'what is the weather in Toronto?' },
          {
            role: 'assistant',
            content: null,
            tool_calls: [
              {
                id: 'call_1',
                type: 'function',
                function: { name: 'get_weather', arguments: '{"city":"Toronto"}' },
              },
            ],
          },
          { role: 'tool', tool_call_id: 'call_1', content: '11 degrees celsius' },
        ],
        tools: TOOL_RESULT_REQUEST.tools,
      });
      expect(ollama.calls('/api/chat')[0].json()).toEqual(TOOL_RESULT_REQUEST);
      expect(answer.choices[0].message.content).toBe(TOOL_RESULT_TEXT);
    });

    it('should round-trip a streamed tool call: a tool-call delta with index, finish tool_calls, then the result', async () => {
      ollama.on(
        'POST',
        '/api/chat',
        { headers: NDJSON, pieces: ndjsonLines(fixture('ollama/chat_tools_stream.response.ndjson')) },
        { headers: NDJSON, pieces: ndjsonLines(fixture('ollama/chat_stream.response.ndjson')) },
      );
      const messages: ChatCompletionMessageParam[] = [
        { role: 'user', content: 'what is the weather in tokyo?' },
      ];
      const raw = await rawRequest(`${gateway.url}/v1/chat/completions`, {
        body: { model: 'ollama/llama3.2', stream: true, messages, tools: TOOLS_STREAM_REQUEST.tools },
      });
      expect(raw.status).toBe(200);
      expect(ollama.calls('/api/chat')[0].json()).toEqual(TOOLS_STREAM_REQUEST);
      const parsed = parseStream(raw.body);
      expect(checkFinishedStream(parsed, 'ollama/llama3.2').finishReason).toBe('tool_calls');
      const deltas = parsed.chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
      expect(deltas).toEqual([
        {
          index: 0,
          id: expect.stringMatching(CALL_ID),
          type: 'function',
          function: { name: 'get_weather', arguments: '{"city":"Tokyo"}' },
        },
      ]);
      expect(textOf(parsed.chunks)).toBe('');

      // The official client's stream helper accumulates the deltas into the assistant message.
      const stream = client.chat.completions.stream({
        model: 'ollama/llama3.2',
        messages: [
          ...messages,
          {
            role: 'assistant',
            content: null,
            tool_calls: [
              {
                id: deltas[0].id!,
                type: 'function',
                function: { name: 'get_weather', arguments: '{"city":"Tokyo"}' },
              },
            ],
          },
          { role: 'tool', tool_call_id: deltas[0].id!, content: '18 degrees celsius' },
        ],
        tools: TOOLS_STREAM_REQUEST.tools,
      });
      const final = await stream.finalChatCompletion();
      expect(final.choices[0].message.content).toBe('Okay, here we go!\n\n1, 2, 3, 4, 5\n');
      const sent = ollama.calls('/api/chat')[1].json<OllamaRequest>();
      expect(sent.stream).toBe(true);
      expect(sent.messages.slice(1)).toEqual([
        {
          role: 'assistant',
          content: '',
          tool_calls: [{ function: { name: 'get_weather', arguments: { city: 'Tokyo' } } }],
        },
        { role: 'tool', content: '18 degrees celsius', tool_name: 'get_weather' },
      ]);
    });

    it('should collect a streamed tool call with the official client stream helper', async () => {
      ollama.on('POST', '/api/chat', {
        headers: NDJSON,
        pieces: ndjsonLines(fixture('ollama/chat_tools_stream.response.ndjson')),
      });
      const stream = client.chat.completions.stream({
        model: 'ollama/llama3.2',
        messages: [{ role: 'user', content: 'what is the weather in tokyo?' }],
        tools: TOOLS_STREAM_REQUEST.tools,
      });
      const final = await stream.finalChatCompletion();
      expect(final.choices[0].finish_reason).toBe('tool_calls');
      expect(final.choices[0].message.tool_calls).toEqual([
        expect.objectContaining({
          id: expect.stringMatching(CALL_ID),
          type: 'function',
          function: expect.objectContaining({ name: 'get_weather', arguments: '{"city":"Tokyo"}' }),
        }),
      ]);
    });
  });

  describe('through OpenAI-compatible providers (passthrough)', () => {
    it('should stream OpenAI parallel tool calls intact, delta by delta', async () => {
      const path = 'openai/chat_stream_parallel_tool_calls.response.sse';
      openai.on('POST', '/v1/chat/completions', {
        headers: SSE,
        pieces: sseEvents(fixture(path)),
        delayMs: 1,
      });
      const request = fixtureJson<Record<string, unknown>>(
        'openai/chat_stream_parallel_tool_calls.request.json',
      );
      const raw = await rawRequest(`${gateway.url}/v1/chat/completions`, {
        body: { ...request, model: 'openai/gpt-4o' },
      });
      const parsed = parseStream(raw.body);
      expect(checkFinishedStream(parsed, 'openai/gpt-4o').finishReason).toBe('tool_calls');
      const sentDeltas = parsed.chunks.map((c) => c.choices[0]?.delta.tool_calls).filter(Boolean);
      const upstreamDeltas = upstreamChunks(path)
        .map((c) => c.choices[0]?.delta.tool_calls)
        .filter(Boolean);
      expect(sentDeltas).toEqual(upstreamDeltas);
      expect(sentDeltas).toHaveLength(4);
      const forwarded = openai.calls('/v1/chat/completions')[0].json<Record<string, unknown>>();
      expect(forwarded.tools).toEqual(request.tools);
      expect(forwarded.tool_choice).toBe('required');

      openai.on('POST', '/v1/chat/completions', {
        headers: SSE,
        pieces: sseEvents(fixture(path)),
        delayMs: 1,
      });
      const final = await client.chat.completions
        .stream({ ...(request as object), model: 'openai/gpt-4o' } as Parameters<
          typeof client.chat.completions.stream
        >[0])
        .finalChatCompletion();
      expect(
        final.choices[0].message.tool_calls?.map((c) => [c.id, c.function.name, c.function.arguments]),
      ).toEqual([
        ['call_q2UyBRP7eXNTzAoR8lEhjc9Z', 'get_country', '{}'],
        ['call_b51ijcpFkDiTQG1bQzsrmtW5', 'get_product_name', '{}'],
      ]);
    });

    it('should forward a multi-turn tool conversation to OpenAI untouched and stream its tool call', async () => {
      const path = 'openai/chat_stream_tool_call.response.sse';
      openai.on('POST', '/v1/chat/completions', { headers: SSE, pieces: sseEvents(fixture(path)) });
      const request = fixtureJson<{ messages: unknown[] }>('openai/chat_stream_tool_call.request.json');
      const raw = await rawRequest(`${gateway.url}/v1/chat/completions`, {
        body: { ...request, model: 'openai/gpt-4o' },
      });
      expect(openai.calls('/v1/chat/completions')[0].json<{ messages: unknown[] }>().messages).toEqual(
        request.messages,
      );
      const parsed = parseStream(raw.body);
      expect(checkFinishedStream(parsed, 'openai/gpt-4o').finishReason).toBe('tool_calls');
      const args = parsed.chunks
        .flatMap((c) => c.choices[0]?.delta.tool_calls ?? [])
        .map((d) => d.function?.arguments ?? '')
        .join('');
      expect(JSON.parse(args)).toEqual({ city: 'Mexico City' });
    });

    it('should pass a Groq tool call that arrives whole in one delta (index after function)', async () => {
      const path = 'groq/chat_stream_tool_call.response.sse';
      groq.on('POST', '/openai/v1/chat/completions', { headers: SSE, pieces: sseEvents(fixture(path)) });
      const request = fixtureJson<Record<string, unknown>>('groq/chat_stream_tool_call.request.json');
      const raw = await rawRequest(`${gateway.url}/v1/chat/completions`, {
        body: { ...request, model: 'groq/openai/gpt-oss-120b' },
      });
      const parsed = parseStream(raw.body);
      expect(checkFinishedStream(parsed, 'groq/openai/gpt-oss-120b').finishReason).toBe('tool_calls');
      expect(parsed.chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? [])).toEqual([
        {
          id: 'fc_bfb39741-3748-4def-9886-a93fc9c64a90',
          type: 'function',
          function: { name: 'get_something_by_name', arguments: '{"name":"example"}' },
          index: 0,
        },
      ]);
    });

    it.each([
      ['openai', 'openai/gpt-4o', 'openai/chat_tool_call.response.json', 'call_iXFttys57ap0o16JSlC8yhYo'],
      [
        'openrouter',
        'openrouter/mistralai/mistral-small',
        'openrouter/chat_tool_call.response.json',
        '3sniiMddS',
      ],
      [
        'together',
        'together/meta-llama/Meta-Llama-3.1-70B-Instruct-Turbo',
        'together/chat_nonstream_tool_call.response.json',
        'call_rl70039f6p72yhvvo1pkds8a',
      ],
    ])(
      'should pass a non-stream %s tool call through with finish tool_calls',
      async (vendor, model, path, id) => {
        const fake = { openai, openrouter, together }[vendor]!;
        const prefix = vendor === 'openrouter' ? '/api/v1' : '/v1';
        fake.on('POST', `${prefix}/chat/completions`, { body: fixture(path) });
        const upstream = fixtureJson<{ choices: { message: { tool_calls: unknown[] } }[] }>(path);
        const answer = await client.chat.completions.create({
          model,
          messages: [{ role: 'user', content: 'use a tool' }],
          tools: [
            { type: 'function', function: { name: 'any', parameters: { type: 'object', properties: {} } } },
          ],
        });
        expect(answer.model).toBe(model);
        expect(answer.choices[0].finish_reason).toBe('tool_calls');
        expect(answer.choices[0].message.tool_calls).toEqual(upstream.choices[0].message.tool_calls);
        expect(answer.choices[0].message.tool_calls![0].id).toBe(id);
      },
    );
  });
});
