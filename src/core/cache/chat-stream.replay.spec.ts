import { ChatCompletion } from '../openai/chat-completion.types';
import { replayChunks } from './chat-stream.replay';

const completion: ChatCompletion = {
  id: 'chatcmpl-7',
  object: 'chat.completion',
  created: 1712345678,
  model: 'ollama/gemma3:4b',
  choices: [{ index: 0, message: { role: 'assistant', content: 'Hi there' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 },
};
const head = {
  id: 'chatcmpl-7',
  object: 'chat.completion.chunk',
  created: 1712345678,
  model: 'ollama/gemma3:4b',
};

describe('replayChunks', () => {
  it('should give a role chunk, the text, one finish chunk and no usage chunk when usage was not asked for', () => {
    expect(replayChunks(completion, false)).toEqual([
      { ...head, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] },
      { ...head, choices: [{ index: 0, delta: { content: 'Hi there' }, finish_reason: null }] },
      { ...head, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] },
    ]);
  });

  it('should end with a choices-less usage chunk when usage was asked for', () => {
    const chunks = replayChunks(completion, true);
    expect(chunks).toHaveLength(4);
    expect(chunks[3]).toEqual({
      ...head,
      choices: [],
      usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 },
    });
    expect(chunks.filter((c) => c.choices.some((choice) => choice.finish_reason !== null))).toHaveLength(1);
  });

  it('should send whole tool calls with their index and skip an empty text when the answer is a tool call', () => {
    const chunks = replayChunks(
      {
        ...completion,
        choices: [
          {
            index: 0,
            message: {
              role: 'assistant',
              content: null,
              tool_calls: [
                { id: 'call_1', type: 'function', function: { name: 'get', arguments: '{"a":1}' } },
              ],
            },
            finish_reason: 'tool_calls',
          },
        ],
        usage: undefined,
      },
      true,
    );
    expect(chunks.map((c) => c.choices[0]?.delta)).toEqual([
      { role: 'assistant', content: '' },
      {
        tool_calls: [
          { index: 0, id: 'call_1', type: 'function', function: { name: 'get', arguments: '{"a":1}' } },
        ],
      },
      {},
    ]);
  });
});
