import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { InvalidRequestError } from '../errors/request-errors';
import { validateChatRequest } from './validate-chat-request';

const FIXTURES = resolve(__dirname, '../../../../shared/fixtures');
const DEFAULT = 'ollama/gemma3:4b';
const user = [{ role: 'user', content: 'hi' }];

/** The `param` of the 400 the body gets, or 'ok'. */
function paramOf(body: unknown): string | null {
  try {
    validateChatRequest(body, DEFAULT);
    return 'ok';
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidRequestError);
    expect((err as InvalidRequestError).status).toBe(400);
    return (err as InvalidRequestError).param;
  }
}

describe(validateChatRequest.name, () => {
  it.each([
    'openai/chat_nonstream.request.json',
    'openai/chat_stream_usage.request.json',
    'openai/chat_tool_call.request.json',
    'openai/chat_stream_parallel_tool_calls.request.json',
    'groq/chat_stream_error_event.request.json',
    'groq/chat_stream_usage_in_x_groq_only.request.json',
    'openrouter/chat_stream_comments_interleaved.request.json',
    'together/chat_stream.request.json',
  ])('should accept the recorded request %s and return the same object', (path) => {
    const body = JSON.parse(readFileSync(resolve(FIXTURES, path), 'utf8')) as Record<string, unknown>;
    const copy = structuredClone(body);
    expect(validateChatRequest(body, DEFAULT)).toBe(body);
    expect(body).toEqual(copy);
  });

  it('should fill in the default model only when model is missing or null', () => {
    expect(validateChatRequest({ messages: user }, DEFAULT).model).toBe(DEFAULT);
    expect(validateChatRequest({ model: null, messages: user }, DEFAULT).model).toBe(DEFAULT);
    expect(validateChatRequest({ model: 'groq/x', messages: user }, DEFAULT).model).toBe('groq/x');
  });

  it('should keep unknown fields for the OpenAI-compatible providers', () => {
    const body = {
      model: 'openai/gpt-4o-mini',
      messages: user,
      logit_bias: { 1: 2 },
      metadata: { a: 'b' },
      store: true,
    };
    expect(validateChatRequest(body, DEFAULT)).toEqual(body);
  });

  it.each([
    ['a body that is an array', [], 'body'],
    ['a body that is null', null, 'body'],
    ['a body that is a string', 'hi', 'body'],
    ['a numeric model', { model: 42, messages: user }, 'model'],
    ['an empty model', { model: '', messages: user }, 'model'],
    ['a model with a space', { model: 'gemma3 4b', messages: user }, 'model'],
    ['a model with ..', { model: 'ollama/../x', messages: user }, 'model'],
    ['a model longer than 256 characters', { model: 'x'.repeat(257), messages: user }, 'model'],
    ['no messages', { model: 'm' }, 'messages'],
    ['messages that are not an array', { messages: 'hi' }, 'messages'],
    ['empty messages', { messages: [] }, 'messages'],
    ['a message that is a string', { messages: ['hi'] }, 'messages[0]'],
    ['an unknown role', { messages: [{ role: 'robot', content: 'x' }] }, 'messages[0].role'],
    ['a user message without content', { messages: [{ role: 'user' }] }, 'messages[0].content'],
    ['numeric content', { messages: [...user, { role: 'user', content: 5 }] }, 'messages[1].content'],
    [
      'a text part without text',
      { messages: [{ role: 'user', content: [{ type: 'text' }] }] },
      'messages[0].content[0].text',
    ],
    [
      'an image part without url',
      {
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'a' },
              { type: 'image_url', image_url: {} },
            ],
          },
        ],
      },
      'messages[0].content[1].image_url',
    ],
    [
      'a part without type',
      { messages: [{ role: 'user', content: [{ text: 'a' }] }] },
      'messages[0].content[0].type',
    ],
    [
      'a long name',
      { messages: [{ role: 'user', content: 'a', name: 'n'.repeat(257) }] },
      'messages[0].name',
    ],
    [
      'a numeric tool_call_id',
      { messages: [{ role: 'tool', content: 'a', tool_call_id: 1 }] },
      'messages[0].tool_call_id',
    ],
    [
      'tool_calls that are not an array',
      { messages: [{ role: 'assistant', tool_calls: {} }] },
      'messages[0].tool_calls',
    ],
    [
      'a tool call without a function name',
      { messages: [{ role: 'assistant', tool_calls: [{ function: {} }] }] },
      'messages[0].tool_calls[0].function.name',
    ],
    [
      'tool call arguments as an object',
      { messages: [{ role: 'assistant', tool_calls: [{ function: { name: 'f', arguments: {} } }] }] },
      'messages[0].tool_calls[0].function.arguments',
    ],
    ['a string stream', { messages: user, stream: 'true' }, 'stream'],
    ['stream_options that is not an object', { messages: user, stream_options: true }, 'stream_options'],
    [
      'a string include_usage',
      { messages: user, stream_options: { include_usage: 'yes' } },
      'stream_options.include_usage',
    ],
    ['temperature above 2', { messages: user, temperature: 2.5 }, 'temperature'],
    ['a string temperature', { messages: user, temperature: '0.5' }, 'temperature'],
    ['top_p above 1', { messages: user, top_p: 1.1 }, 'top_p'],
    ['max_tokens 0', { messages: user, max_tokens: 0 }, 'max_tokens'],
    [
      'fractional max_completion_tokens',
      { messages: user, max_completion_tokens: 1.5 },
      'max_completion_tokens',
    ],
    ['a fractional seed', { messages: user, seed: 0.5 }, 'seed'],
    ['presence_penalty below -2', { messages: user, presence_penalty: -3 }, 'presence_penalty'],
    ['frequency_penalty above 2', { messages: user, frequency_penalty: 3 }, 'frequency_penalty'],
    ['n of 0', { messages: user, n: 0 }, 'n'],
    ['a numeric user', { messages: user, user: 1 }, 'user'],
    ['stop with a number', { messages: user, stop: ['a', 1] }, 'stop'],
    ['stop with 17 entries', { messages: user, stop: Array(17).fill('a') }, 'stop'],
    ['tools that is not an array', { messages: user, tools: {} }, 'tools'],
    [
      'a tool of another type',
      { messages: user, tools: [{ type: 'web', function: { name: 'f' } }] },
      'tools[0].type',
    ],
    [
      'a tool without a name',
      { messages: user, tools: [{ type: 'function', function: { name: '' } }] },
      'tools[0].function.name',
    ],
    [
      'tool parameters that are an array',
      { messages: user, tools: [{ type: 'function', function: { name: 'f', parameters: [] } }] },
      'tools[0].function.parameters',
    ],
    ['an unknown tool_choice', { messages: user, tool_choice: 'always' }, 'tool_choice'],
    [
      'a tool_choice object without a name',
      { messages: user, tool_choice: { type: 'function', function: {} } },
      'tool_choice',
    ],
    ['an unknown response_format', { messages: user, response_format: { type: 'xml' } }, 'response_format'],
    [
      'json_schema without its object',
      { messages: user, response_format: { type: 'json_schema' } },
      'response_format.json_schema',
    ],
    [
      'a json_schema schema that is a string',
      { messages: user, response_format: { type: 'json_schema', json_schema: { schema: 's' } } },
      'response_format.json_schema.schema',
    ],
  ])('should answer 400 naming the field for %s', (_name, body, param) => {
    expect(paramOf(body)).toBe(param);
  });

  it.each([
    [
      'an assistant message with null content and tool calls',
      {
        messages: [
          {
            role: 'assistant',
            content: null,
            tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{}' } }],
          },
        ],
      },
    ],
    ['a developer message', { messages: [{ role: 'developer', content: 'be brief' }] }],
    [
      'content parts of unknown types (forwarded to the cloud)',
      { messages: [{ role: 'user', content: [{ type: 'input_audio', input_audio: {} }] }] },
    ],
    ['stop as a string', { messages: user, stop: 'END' }],
    [
      'null optional fields',
      { messages: user, temperature: null, max_tokens: null, stream_options: null, tools: null },
    ],
    ['a tool_choice object', { messages: user, tool_choice: { type: 'function', function: { name: 'f' } } }],
    [
      'boundary values',
      { messages: user, temperature: 0, top_p: 1, n: 128, presence_penalty: -2, frequency_penalty: 2 },
    ],
  ])('should accept %s', (_name, body) => {
    expect(paramOf(body)).toBe('ok');
  });
});
