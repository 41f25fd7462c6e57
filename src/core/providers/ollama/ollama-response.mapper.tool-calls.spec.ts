import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ChatCompletionChunk } from '../../openai/chat-completion.types';
import { OllamaStreamMapper, parseOllamaDocument, toChatCompletion } from './ollama-response.mapper';

/** The tool-call and reasoning parts of the Ollama response mapping (vision/tools/structured-output work). */
const FIXTURES = resolve(__dirname, '../../../../../shared/fixtures');
const CALL_ID = /^call_[0-9a-f]{24}$/;

function mapLines(lines: string[]): ChatCompletionChunk[] {
  const mapper = new OllamaStreamMapper('ollama/llama3.2');
  const out: ChatCompletionChunk[] = [];
  for (const line of lines) mapper.map(line, out);
  return out;
}

const line = (message: object, done = false) =>
  JSON.stringify({ model: 'llama3.2', message: { role: 'assistant', content: '', ...message }, done });
const DONE = JSON.stringify({
  model: 'llama3.2',
  message: { role: 'assistant', content: '' },
  done_reason: 'stop',
  done: true,
  prompt_eval_count: 10,
  eval_count: 5,
});

describe(`${toChatCompletion.name} (tool calls)`, () => {
  it('should turn chat_tools into one OpenAI tool call with a generated id and a JSON string', () => {
    const doc = parseOllamaDocument(
      readFileSync(resolve(FIXTURES, 'ollama/chat_tools.response.json'), 'utf8'),
    );
    const completion = toChatCompletion(doc, 'ollama/llama3.2');
    expect(completion.choices).toEqual([
      {
        index: 0,
        message: {
          role: 'assistant',
          content: '',
          tool_calls: [
            {
              id: expect.stringMatching(CALL_ID),
              type: 'function',
              function: {
                name: 'get_current_weather',
                arguments: '{"format":"celsius","location":"Paris, FR"}',
              },
            },
          ],
        },
        finish_reason: 'tool_calls',
      },
    ]);
    expect(completion.usage).toEqual({ prompt_tokens: 122, completion_tokens: 33, total_tokens: 155 });
  });

  it("should keep a newer server's call id and give each parallel call its own id otherwise", () => {
    const completion = toChatCompletion(
      parseOllamaDocument(
        line(
          {
            tool_calls: [
              { id: 'call_ollama01', function: { index: 0, name: 'get_country', arguments: {} } },
              { function: { name: 'get_product_name' } },
              { function: { name: 'get_weather', arguments: { city: 'Mexico City' } } },
            ],
          },
          true,
        ),
      ),
      'ollama/llama3.2',
    );
    const calls = completion.choices[0].message.tool_calls!;
    expect(calls.map((c) => [c.function.name, c.function.arguments])).toEqual([
      ['get_country', '{}'],
      ['get_product_name', '{}'],
      ['get_weather', '{"city":"Mexico City"}'],
    ]);
    expect(calls[0].id).toBe('call_ollama01');
    expect(calls[1].id).toMatch(CALL_ID);
    expect(new Set(calls.map((c) => c.id)).size).toBe(3);
  });

  it('should answer thinking as reasoning_content, apart from the content', () => {
    const completion = toChatCompletion(
      parseOllamaDocument(line({ thinking: 'The user greets me.', content: 'Hello!' }, true)),
      'ollama/qwen3:8b',
    );
    expect(completion.choices[0].message).toEqual({
      role: 'assistant',
      content: 'Hello!',
      reasoning_content: 'The user greets me.',
    });
    expect(completion.choices[0].finish_reason).toBe('stop');
  });
});

describe(`${OllamaStreamMapper.name} (tool calls)`, () => {
  it('should give the calls of one line indexes 0..n and continue the count on later lines', () => {
    const out = mapLines([
      line({
        tool_calls: [
          { function: { name: 'get_country', arguments: {} } },
          { function: { name: 'get_product_name', arguments: {} } },
        ],
      }),
      line({ tool_calls: [{ function: { name: 'get_weather', arguments: { city: 'Mexico City' } } }] }),
      DONE,
    ]);
    const deltas = out.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
    expect(deltas.map((d) => [d.index, d.type, d.function?.name, d.function?.arguments])).toEqual([
      [0, 'function', 'get_country', '{}'],
      [1, 'function', 'get_product_name', '{}'],
      [2, 'function', 'get_weather', '{"city":"Mexico City"}'],
    ]);
    for (const d of deltas) expect(d.id).toMatch(CALL_ID);
    expect(out[0].choices[0].delta.role).toBe('assistant');
    expect(out.map((c) => c.choices[0]?.finish_reason ?? null)).toEqual([null, null, 'tool_calls', null]);
    expect(out[out.length - 1]).toMatchObject({
      choices: [],
      usage: { prompt_tokens: 10, completion_tokens: 5 },
    });
  });

  it('should stream thinking as reasoning_content deltas, never inside content', () => {
    const out = mapLines([
      line({ thinking: 'Let me ' }),
      line({ thinking: 'think.' }),
      line({ content: 'Answer' }),
      DONE,
    ]);
    const deltas = out.map((c) => c.choices[0]?.delta);
    expect(deltas.slice(0, 3)).toEqual([
      { role: 'assistant', reasoning_content: 'Let me ' },
      { reasoning_content: 'think.' },
      { content: 'Answer' },
    ]);
    expect(out.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('Answer');
  });
});
