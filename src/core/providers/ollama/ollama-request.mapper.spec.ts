import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { InvalidRequestError } from '../../errors/request-errors';
import { ChatCompletionRequest, FunctionTool } from '../../openai/chat-completion.types';
import {
  bareBase64,
  isHttpImageUrl,
  toOllamaChatRequest,
  toOllamaEmbedRequest,
} from './ollama-request.mapper';

const FIXTURES = resolve(__dirname, '../../../../../shared/fixtures');
function fixtureJson<T = Record<string, unknown>>(path: string): T {
  return JSON.parse(readFileSync(resolve(FIXTURES, path), 'utf8')) as T;
}

const WEATHER_TOOL: FunctionTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Get the weather in a given city',
    parameters: {
      type: 'object',
      properties: { city: { type: 'string', description: 'The city to get the weather for' } },
      required: ['city'],
    },
  },
};

function chat(extra: Partial<ChatCompletionRequest>): ChatCompletionRequest {
  return { model: 'ollama/llama3.2', messages: [{ role: 'user', content: 'hi' }], ...extra };
}

describe(toOllamaChatRequest.name, () => {
  it('should map a tool round trip to what Ollama documents (chat_tool_result)', () => {
    const request = chat({
      messages: [
        { role: 'user', content: 'what is the weather in Toronto?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            {
              id: 'call_abc',
              type: 'function',
              function: { name: 'get_weather', arguments: '{"city":"Toronto"}' },
            },
          ],
        },
        { role: 'tool', tool_call_id: 'call_abc', content: '11 degrees celsius' },
      ],
      tools: [WEATHER_TOOL],
    });
    expect(toOllamaChatRequest('llama3.2', request, false, {})).toEqual(
      fixtureJson('ollama/chat_tool_result.request.json'),
    );
  });

  it('should take the tool name from the message when no earlier call carries its id', () => {
    const body = toOllamaChatRequest(
      'm',
      chat({ messages: [{ role: 'tool', tool_call_id: 'unknown', name: 'lookup', content: 'x' }] }),
      false,
      {},
    );
    expect(body.messages).toEqual([{ role: 'tool', content: 'x', tool_name: 'lookup' }]);
  });

  it('should map every tool call of a parallel turn to its own tool name', () => {
    const body = toOllamaChatRequest(
      'm',
      chat({
        messages: [
          {
            role: 'assistant',
            content: '',
            tool_calls: [
              { id: 'a', type: 'function', function: { name: 'get_country', arguments: '{}' } },
              { id: 'b', type: 'function', function: { name: 'get_product_name', arguments: '' } },
            ],
          },
          { role: 'tool', tool_call_id: 'b', content: 'Pydantic AI' },
          { role: 'tool', tool_call_id: 'a', content: 'Mexico' },
        ],
      }),
      true,
      {},
    );
    expect(body.messages).toEqual([
      {
        role: 'assistant',
        content: '',
        tool_calls: [
          { function: { name: 'get_country', arguments: {} } },
          { function: { name: 'get_product_name', arguments: {} } },
        ],
      },
      { role: 'tool', content: 'Pydantic AI', tool_name: 'get_product_name' },
      { role: 'tool', content: 'Mexico', tool_name: 'get_country' },
    ]);
  });

  it('should reject tool call arguments that are not a JSON object, naming the field', () => {
    const request = chat({
      messages: [
        { role: 'user', content: 'x' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'a', type: 'function', function: { name: 'f', arguments: '[1,2]' } }],
        },
      ],
    });
    expect(() => toOllamaChatRequest('m', request, false, {})).toThrow(
      expect.objectContaining({ param: 'messages[1].tool_calls[0].function.arguments' }),
    );
  });

  it('should send tools as given, drop them for tool_choice none and keep only a named one', () => {
    const other: FunctionTool = { type: 'function', function: { name: 'other' } };
    expect(toOllamaChatRequest('m', chat({ tools: [WEATHER_TOOL, other] }), false, {}).tools).toEqual([
      WEATHER_TOOL,
      other,
    ]);
    expect(
      toOllamaChatRequest('m', chat({ tools: [WEATHER_TOOL], tool_choice: 'none' }), false, {}).tools,
    ).toBe(undefined);
    const named = chat({
      tools: [WEATHER_TOOL, other],
      tool_choice: { type: 'function', function: { name: 'other' } },
    });
    expect(toOllamaChatRequest('m', named, false, {}).tools).toEqual([other]);
    const missing = chat({
      tools: [WEATHER_TOOL],
      tool_choice: { type: 'function', function: { name: 'nope' } },
    });
    expect(() => toOllamaChatRequest('m', missing, false, {})).toThrow(
      expect.objectContaining({ param: 'tool_choice' }),
    );
  });

  it('should map json_schema to format:<schema> (chat_format_schema) and json_object to "json"', () => {
    const expected = fixtureJson<{ format: Record<string, unknown>; messages: { content: string }[] }>(
      'ollama/chat_format_schema.request.json',
    );
    const request = chat({
      messages: [{ role: 'user', content: expected.messages[0].content }],
      temperature: 0,
      response_format: {
        type: 'json_schema',
        json_schema: { name: 'person', strict: true, schema: expected.format },
      },
    });
    expect(toOllamaChatRequest('llama3.1', request, false, {})).toEqual(expected);
    expect(
      toOllamaChatRequest('m', chat({ response_format: { type: 'json_object' } }), true, {}).format,
    ).toBe('json');
    expect(toOllamaChatRequest('m', chat({ response_format: { type: 'text' } }), true, {}).format).toBe(
      undefined,
    );
  });

  it('should map reasoning_effort to think, none to false, and let an explicit think win', () => {
    expect(toOllamaChatRequest('m', chat({ reasoning_effort: 'high' }), true, {}).think).toBe('high');
    expect(toOllamaChatRequest('m', chat({ reasoning_effort: 'none' }), true, {}).think).toBe(false);
    expect(toOllamaChatRequest('m', chat({ reasoning_effort: 'low', think: true }), true, {}).think).toBe(
      true,
    );
    expect('think' in toOllamaChatRequest('m', chat({}), true, {})).toBe(false);
    expect(() => toOllamaChatRequest('m', chat({ think: 3 }), true, {})).toThrow(InvalidRequestError);
  });

  it('should send a previous turn reasoning back as thinking, never as content', () => {
    const body = toOllamaChatRequest(
      'm',
      chat({ messages: [{ role: 'assistant', content: '42', reasoning_content: 'six times seven' }] }),
      true,
      {},
    );
    expect(body.messages).toEqual([{ role: 'assistant', content: '42', thinking: 'six times seven' }]);
  });

  it('should merge options over the mapped ones and OLLAMA_NUM_CTX, and pass keep_alive', () => {
    const body = toOllamaChatRequest(
      'm',
      chat({
        max_tokens: 100,
        temperature: 0.2,
        stop: 'END',
        options: { num_ctx: 32768, top_k: 20, temperature: 0.7 },
        keep_alive: '5m',
      }),
      true,
      { numCtx: 8192 },
    );
    expect(body.options).toEqual({
      num_ctx: 32768,
      num_predict: 100,
      temperature: 0.7,
      stop: ['END'],
      top_k: 20,
    });
    expect(body.keep_alive).toBe('5m');
    expect(toOllamaChatRequest('m', chat({}), true, { numCtx: 8192 }).options).toEqual({ num_ctx: 8192 });
    expect('options' in toOllamaChatRequest('m', chat({}), true, {})).toBe(false);
    expect(() => toOllamaChatRequest('m', chat({ options: 'fast' }), true, {})).toThrow(
      expect.objectContaining({ param: 'options' }),
    );
    expect(() => toOllamaChatRequest('m', chat({ keep_alive: {} }), true, {})).toThrow(
      expect.objectContaining({ param: 'keep_alive' }),
    );
  });

  it('should put data: URL images into images as bare base64 and join the text parts', () => {
    const body = toOllamaChatRequest(
      'llava',
      chat({
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'what is in' },
              { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
              { type: 'text', text: 'this image?' },
              { type: 'image_url', image_url: { url: 'data:image/jpeg;base64,/9j/4AAQ', detail: 'high' } },
            ],
          },
        ],
      }),
      false,
      {},
    );
    expect(body.messages).toEqual([
      { role: 'user', content: 'what is in\nthis image?', images: ['iVBORw0KGgo=', '/9j/4AAQ'] },
    ]);
  });

  it.each([
    ['data:text/plain;base64,aGk=', 'messages[0].content[0].image_url'],
    ['data:image/svg+xml,<svg/>', 'messages[0].content[0].image_url'],
    ['http://example.com/a.png', 'messages[0].content[0].image_url'],
  ])('should refuse %s left in an image part, naming the part', (url, param) => {
    const request = chat({
      messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url } }] }],
    });
    expect(() => toOllamaChatRequest('m', request, false, {})).toThrow(expect.objectContaining({ param }));
  });

  it('should refuse content parts Ollama cannot take and n > 1', () => {
    const audio = chat({ messages: [{ role: 'user', content: [{ type: 'input_audio', input_audio: {} }] }] });
    expect(() => toOllamaChatRequest('m', audio, false, {})).toThrow(
      expect.objectContaining({ param: 'messages[0].content[0].type' }),
    );
    expect(() => toOllamaChatRequest('m', chat({ n: 2 }), false, {})).toThrow(
      expect.objectContaining({ param: 'n' }),
    );
  });

  it('should map developer to system and leave absent sampling values absent', () => {
    const body = toOllamaChatRequest(
      'm',
      chat({ messages: [{ role: 'developer', content: 'be brief' }] }),
      true,
      {},
    );
    expect(body).toEqual({ model: 'm', messages: [{ role: 'system', content: 'be brief' }], stream: true });
  });
});

describe(toOllamaEmbedRequest.name, () => {
  it('should send the batch, dimensions, options over OLLAMA_NUM_CTX and keep_alive', () => {
    expect(
      toOllamaEmbedRequest(
        'all-minilm',
        {
          model: 'ollama/all-minilm',
          input: ['a', 'b'],
          dimensions: 8,
          encoding_format: 'base64',
          options: { temperature: 0 },
          keep_alive: 0,
        },
        { numCtx: 2048 },
      ),
    ).toEqual({
      model: 'all-minilm',
      input: ['a', 'b'],
      dimensions: 8,
      options: { num_ctx: 2048, temperature: 0 },
      keep_alive: 0,
    });
  });

  it('should send exactly what the embed fixture shows for a plain request', () => {
    const expected = fixtureJson('ollama/embed.request.json');
    expect(
      toOllamaEmbedRequest(
        'nomic-embed-text',
        { model: 'x', input: 'Hello world', options: { temperature: 0 } },
        {},
      ),
    ).toEqual(expected);
  });
});

describe(bareBase64.name, () => {
  it.each([
    ['data:image/png;base64,AAAA', 'AAAA'],
    ['DATA:IMAGE/PNG;BASE64,AAAA', 'AAAA'],
    ['data:IMAGE/png;BASE64,AAAA', 'AAAA'],
    ['iVBORw0KGgo=', 'iVBORw0KGgo='],
    ['data:image/png,AAAA', undefined],
    ['data:;base64,AAAA', undefined],
    ['https://example.com/x.png', undefined],
    ['file:///etc/passwd', undefined],
  ])('should turn %s into %s', (url, expected) => {
    expect(bareBase64(url)).toBe(expected);
  });
});

describe(isHttpImageUrl.name, () => {
  it('should only call http(s) URLs downloadable', () => {
    expect(
      ['http://a/x', 'HTTPS://a/x', 'data:image/png;base64,A', 'ftp://a', 'AAAA'].map(isHttpImageUrl),
    ).toEqual([true, true, false, false, false]);
  });
});
