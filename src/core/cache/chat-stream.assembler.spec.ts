import { ChatCompletion, ChatCompletionChunk } from '../openai/chat-completion.types';
import { ChatStreamAssembler } from './chat-stream.assembler';
import { replayChunks } from './chat-stream.replay';

const base = {
  id: 'chatcmpl-1',
  object: 'chat.completion.chunk' as const,
  created: 1700000000,
  model: 'openai/gpt-4o-mini',
};
const chunk = (
  choices: ChatCompletionChunk['choices'],
  extra: Partial<ChatCompletionChunk> = {},
): ChatCompletionChunk => ({
  ...base,
  choices,
  ...extra,
});

describe(ChatStreamAssembler.name, () => {
  it('should fold text deltas, the finish reason and the usage into one completion', () => {
    const assembler = new ChatStreamAssembler();
    assembler.add(chunk([{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }]));
    assembler.add(chunk([{ index: 0, delta: { content: 'Hel' }, finish_reason: null }]));
    assembler.add(chunk([{ index: 0, delta: { content: 'lo' }, finish_reason: null }]));
    assembler.add(chunk([{ index: 0, delta: {}, finish_reason: 'stop' }]));
    assembler.add(chunk([], { usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 } }));
    expect(assembler.result()).toEqual({
      id: 'chatcmpl-1',
      object: 'chat.completion',
      created: 1700000000,
      model: 'openai/gpt-4o-mini',
      choices: [{ index: 0, message: { role: 'assistant', content: 'Hello' }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
    });
  });

  it('should join streamed tool-call fragments by index when the calls interleave', () => {
    const assembler = new ChatStreamAssembler();
    assembler.add(chunk([{ index: 0, delta: { role: 'assistant', content: null }, finish_reason: null }]));
    assembler.add(
      chunk([
        {
          index: 0,
          delta: {
            tool_calls: [
              { index: 0, id: 'call_a', type: 'function', function: { name: 'weather', arguments: '' } },
              { index: 1, id: 'call_b', type: 'function', function: { name: 'time', arguments: '{"tz"' } },
            ],
          },
          finish_reason: null,
        },
      ]),
    );
    assembler.add(
      chunk([
        {
          index: 0,
          delta: { tool_calls: [{ index: 0, function: { arguments: '{"city":"Paris"}' } }] },
          finish_reason: null,
        },
      ]),
    );
    assembler.add(
      chunk([
        {
          index: 0,
          delta: { tool_calls: [{ index: 1, function: { arguments: ':"UTC"}' } }] },
          finish_reason: null,
        },
      ]),
    );
    assembler.add(chunk([{ index: 0, delta: {}, finish_reason: 'tool_calls' }]));
    const result = assembler.result() as ChatCompletion;
    expect(result.choices[0]).toEqual({
      index: 0,
      message: {
        role: 'assistant',
        content: null,
        tool_calls: [
          { id: 'call_a', type: 'function', function: { name: 'weather', arguments: '{"city":"Paris"}' } },
          { id: 'call_b', type: 'function', function: { name: 'time', arguments: '{"tz":"UTC"}' } },
        ],
      },
      finish_reason: 'tool_calls',
    });
    expect(result.usage).toBeUndefined();
  });

  it('should keep reasoning apart from the answer when a model streams both', () => {
    const assembler = new ChatStreamAssembler();
    assembler.add(
      chunk([{ index: 0, delta: { role: 'assistant', reasoning_content: 'Think' }, finish_reason: null }]),
    );
    assembler.add(chunk([{ index: 0, delta: { reasoning: 'ing', content: 'Yes' }, finish_reason: 'stop' }]));
    expect((assembler.result() as ChatCompletion).choices[0].message).toEqual({
      role: 'assistant',
      content: 'Yes',
      reasoning_content: 'Think',
      reasoning: 'ing',
    });
  });

  it('should give nothing when a choice never finished', () => {
    const assembler = new ChatStreamAssembler();
    expect(assembler.result()).toBeUndefined();
    assembler.add(
      chunk([{ index: 0, delta: { role: 'assistant', content: 'partial' }, finish_reason: null }]),
    );
    expect(assembler.result()).toBeUndefined();
    assembler.add(chunk([{ index: 1, delta: { content: 'other' }, finish_reason: 'stop' }]));
    expect(assembler.result()).toBeUndefined();
  });

  it('should rebuild exactly the completion it replays when fed the replayed chunks', () => {
    const completion: ChatCompletion = {
      id: 'chatcmpl-x',
      object: 'chat.completion',
      created: 1,
      model: 'groq/llama-3.1-8b-instant',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: 'A', reasoning_content: 'r' },
          finish_reason: 'length',
        },
        {
          index: 1,
          message: {
            role: 'assistant',
            content: null,
            tool_calls: [{ id: 'fc_1', type: 'function', function: { name: 'f', arguments: '{}' } }],
          },
          finish_reason: 'tool_calls',
        },
      ],
      usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 },
    };
    const assembler = new ChatStreamAssembler();
    for (const c of replayChunks(completion, true)) assembler.add(c);
    expect(assembler.result()).toEqual(completion);
  });

  it('should stop gathering and give no result once the text passes its limit (an endless stream)', () => {
    const assembler = new ChatStreamAssembler(10);
    assembler.add(chunk([{ index: 0, delta: { role: 'assistant', content: '12345' }, finish_reason: null }]));
    assembler.add(chunk([{ index: 0, delta: { reasoning: '12345' }, finish_reason: null }]));
    const atLimit = new ChatStreamAssembler(10);
    atLimit.add(chunk([{ index: 0, delta: { content: '1234567890' }, finish_reason: 'stop' }]));
    expect(atLimit.result()?.choices[0].message.content).toBe('1234567890');
    assembler.add(chunk([{ index: 0, delta: { content: 'x' }, finish_reason: null }]));
    assembler.add(chunk([{ index: 0, delta: {}, finish_reason: 'stop' }]));
    expect(assembler.result()).toBeUndefined();
  });
});
