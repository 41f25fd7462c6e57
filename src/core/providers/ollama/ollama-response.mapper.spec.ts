import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { UpstreamProtocolError, UpstreamStreamError } from '../../errors/upstream-errors';
import { ChatCompletionChunk } from '../../openai/chat-completion.types';
import { WIRE_JSON, wireJson } from '../../openai/wire-json';
import {
  mapOllamaFinishReason,
  mapOllamaUsage,
  OllamaStreamMapper,
  parseOllamaDocument,
  toChatCompletion,
} from './ollama-response.mapper';

const FIXTURES = resolve(__dirname, '../../../../../shared/fixtures');
const lines = (path: string) =>
  readFileSync(resolve(FIXTURES, path), 'utf8')
    .split('\n')
    .filter((l) => l.length > 0);

function mapLines(
  input: string[],
  label = 'ollama/gemma3:1b',
): { out: ChatCompletionChunk[]; mapper: OllamaStreamMapper } {
  const mapper = new OllamaStreamMapper(label);
  const out: ChatCompletionChunk[] = [];
  for (const line of input) mapper.map(line, out);
  return { out, mapper };
}

describe(OllamaStreamMapper.name, () => {
  it('should map chat_stream to content chunks, one finish chunk and one usage chunk with one id', () => {
    const { out, mapper } = mapLines(lines('ollama/chat_stream.response.ndjson'));
    expect(mapper.done).toBe(true);
    expect(out).toHaveLength(21 + 2);
    expect(out.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe(
      'Okay, here we go!\n\n1, 2, 3, 4, 5\n',
    );
    expect(out[0].choices[0].delta).toEqual({ role: 'assistant', content: 'Okay' });
    expect(out[1].choices[0].delta).toEqual({ content: ',' });
    expect(out[21]).toMatchObject({ choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] });
    expect(out[22]).toMatchObject({
      choices: [],
      usage: { prompt_tokens: 16, completion_tokens: 22, total_tokens: 38 },
    });
    expect(new Set(out.map((c) => c.id)).size).toBe(1);
    expect(out[0].id).toMatch(/^chatcmpl-[0-9a-f]{32}$/);
    expect(out.every((c) => c.model === 'ollama/gemma3:1b' && c.object === 'chat.completion.chunk')).toBe(
      true,
    );
    expect(new Set(out.map((c) => c.created)).size).toBe(1);
  });

  it('should map done_reason length on chat_default_stream', () => {
    const { out } = mapLines(lines('ollama/chat_default_stream.response.ndjson'));
    expect(out[out.length - 2].choices[0].finish_reason).toBe('length');
    expect(out[out.length - 1].usage).toEqual({ prompt_tokens: 15, completion_tokens: 50, total_tokens: 65 });
  });

  it('should throw an UpstreamStreamError on an error line, after the chunks of the lines before it', () => {
    const mapper = new OllamaStreamMapper('ollama/gemma3:1b');
    const out: ChatCompletionChunk[] = [];
    const input = [
      ...lines('ollama/chat_stream.response.ndjson').slice(0, 2),
      '{"error":"an error was encountered while running the model"}',
    ];
    expect(() => input.forEach((l) => mapper.map(l, out))).toThrow(
      new UpstreamStreamError('an error was encountered while running the model', 'ollama'),
    );
    expect(out.map((c) => c.choices[0].delta.content)).toEqual(['Okay', ',']);
    expect(mapper.done).toBe(false);
  });

  it('should not be done when the stream is truncated before the done line', () => {
    const { mapper } = mapLines(lines('ollama/chat_stream.response.ndjson').slice(0, -1));
    expect(mapper.done).toBe(false);
  });

  it('should turn a streamed tool call into a tool-call delta with a stringified argument object and finish tool_calls', () => {
    const { out } = mapLines(lines('ollama/chat_tools_stream.response.ndjson'), 'ollama/llama3.2');
    const call = out.find((c) => c.choices[0]?.delta.tool_calls)!.choices[0].delta.tool_calls![0];
    expect(call).toEqual({
      index: 0,
      id: expect.stringMatching(/^call_/),
      type: 'function',
      function: { name: 'get_weather', arguments: expect.any(String) },
    });
    expect(JSON.parse(call.function!.arguments!)).toEqual({ city: 'Tokyo' });
    expect(out.filter((c) => c.choices[0]?.finish_reason).map((c) => c.choices[0].finish_reason)).toEqual([
      'tool_calls',
    ]);
  });

  it('should send thinking as reasoning_content and skip lines with nothing to say', () => {
    const { out } = mapLines([
      '{"message":{"role":"assistant","content":"","thinking":"hmm"},"done":false}',
      '{"message":{"role":"assistant","content":""},"done":false}',
      '{"message":{"role":"assistant","content":"ok"},"done":false}',
      '{"message":{"role":"assistant","content":""},"done":true,"done_reason":"stop"}',
    ]);
    expect(out.map((c) => c.choices[0]?.delta)).toEqual([
      { role: 'assistant', reasoning_content: 'hmm' },
      { content: 'ok' },
      {},
      undefined,
    ]);
  });

  it('should ignore lines after the done line', () => {
    const { out } = mapLines([
      ...lines('ollama/chat_stream.response.ndjson'),
      '{"message":{"content":"late"},"done":false}',
    ]);
    expect(out.map((c) => c.choices[0]?.delta.content ?? '').join('')).not.toContain('late');
  });

  it('should count missing eval counts (Go omitempty) as 0', () => {
    const { out } = mapLines(['{"message":{"role":"assistant","content":"x"},"done":true}']);
    expect(out[out.length - 1].usage).toEqual({ prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 });
    expect(out[out.length - 2].choices[0].finish_reason).toBe('stop');
  });
});

describe(`${OllamaStreamMapper.name} wire text`, () => {
  it.each([
    'ollama/chat_stream.response.ndjson',
    'ollama/chat_default_stream.response.ndjson',
    'ollama/chat_format_json_stream.response.ndjson',
    'ollama/chat_tools_stream.response.ndjson',
  ])('should write every chunk of %s exactly as JSON.stringify would', (path) => {
    const { out } = mapLines(lines(path), 'ollama/a "quoted" label');
    for (const chunk of out) expect(wireJson(chunk)).toBe(JSON.stringify(chunk));
    // Delta chunks carry their text; the finish and usage chunks are serialised as usual.
    const carrying = out.filter((c) => (c as { [WIRE_JSON]?: string })[WIRE_JSON] !== undefined);
    expect(carrying.length).toBe(out.length - 2);
  });
});

describe('Ollama answers that do not match the wire format', () => {
  it.each([
    ['a message that is a string', '{"message":"hi","done":false}'],
    ['numeric content', '{"message":{"role":"assistant","content":5},"done":false}'],
    [
      'tool_calls that are an object',
      '{"message":{"role":"assistant","content":"","tool_calls":{}},"done":false}',
    ],
    [
      'a tool call without a function',
      '{"message":{"role":"assistant","content":"","tool_calls":[{"id":"x"}]},"done":false}',
    ],
  ])('should throw an UpstreamProtocolError (a 502), not a TypeError, for %s', (_name, line) => {
    expect(() => new OllamaStreamMapper('ollama/x').map(line, [])).toThrow(UpstreamProtocolError);
    expect(() =>
      toChatCompletion(parseOllamaDocument(line.replace('"done":false', '"done":true')), 'ollama/x'),
    ).toThrow(UpstreamProtocolError);
  });

  it('should pass tool call arguments that already are a JSON string through as they are', () => {
    const doc = parseOllamaDocument(
      '{"message":{"role":"assistant","content":"","tool_calls":[{"function":{"name":"f","arguments":"{\\"a\\":1}"}}]},"done":true}',
    );
    expect(toChatCompletion(doc, 'ollama/x').choices[0].message.tool_calls![0].function.arguments).toBe(
      '{"a":1}',
    );
  });
});

describe(toChatCompletion.name, () => {
  it('should map chat_nonstream to a chat.completion with usage', () => {
    const completion = toChatCompletion(
      parseOllamaDocument(readFileSync(resolve(FIXTURES, 'ollama/chat_nonstream.response.json'), 'utf8')),
      'ollama/llama3.2',
    );
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
  });

  it('should map chat_tools to tool_calls with string arguments and finish tool_calls', () => {
    const doc = parseOllamaDocument(
      readFileSync(resolve(FIXTURES, 'ollama/chat_tools.response.json'), 'utf8'),
    );
    const completion = toChatCompletion(doc, 'ollama/llama3.2');
    expect(completion.choices[0].finish_reason).toBe('tool_calls');
    expect(completion.choices[0].message.tool_calls).toHaveLength(1);
    expect(typeof completion.choices[0].message.tool_calls![0].function.arguments).toBe('string');
  });

  it('should throw an UpstreamProtocolError for an answer without a message', () => {
    expect(() => toChatCompletion({ done: true }, 'ollama/x')).toThrow(UpstreamProtocolError);
  });
});

describe(parseOllamaDocument.name, () => {
  it.each([
    ['not JSON', '{"model":'],
    ['not an object', '[1]'],
    ['null', 'null'],
  ])('should throw an UpstreamProtocolError for a line that is %s', (_name, line) => {
    expect(() => parseOllamaDocument(line)).toThrow(UpstreamProtocolError);
  });

  it('should throw an UpstreamStreamError for an {"error"} document', () => {
    expect(() => parseOllamaDocument('{"error":"boom"}')).toThrow(new UpstreamStreamError('boom', 'ollama'));
  });
});

describe(mapOllamaFinishReason.name, () => {
  it.each([
    ['stop', false, 'stop'],
    ['length', false, 'length'],
    ['load', false, 'stop'],
    ['unload', false, 'stop'],
    [undefined, false, 'stop'],
    ['stop', true, 'tool_calls'],
  ])('should map %p (tool calls: %p) to %p', (reason, tools, expected) => {
    expect(mapOllamaFinishReason(reason, tools)).toBe(expected);
  });
});

describe(mapOllamaUsage.name, () => {
  it('should add prompt and completion tokens', () => {
    expect(mapOllamaUsage({ prompt_eval_count: 3, eval_count: 4 })).toEqual({
      prompt_tokens: 3,
      completion_tokens: 4,
      total_tokens: 7,
    });
  });
});
