import { mapOpenAiFinishReason } from './map-openai-finish-reason';

describe(mapOpenAiFinishReason.name, () => {
  it.each([
    ['stop', 'stop'],
    ['length', 'length'],
    ['max_tokens', 'length'],
    ['tool_calls', 'tool_calls'],
    ['function_call', 'function_call'],
    ['content_filter', 'content_filter'],
    ['eos', 'stop'],
    ['end_turn', 'stop'],
    ['stop_sequence', 'stop'],
    ['something_new', 'stop'],
    [undefined, 'stop'],
    [null, 'stop'],
    [42, 'stop'],
  ])('should map %p to %p when there are no tool calls', (reason, expected) => {
    expect(mapOpenAiFinishReason(reason, false)).toBe(expected);
  });

  it.each([
    ['stop', 'tool_calls'],
    ['tool_calls', 'tool_calls'],
    [undefined, 'tool_calls'],
    [null, 'tool_calls'],
    ['length', 'length'],
    ['content_filter', 'content_filter'],
  ])('should map %p to %p when the answer has tool calls', (reason, expected) => {
    expect(mapOpenAiFinishReason(reason, true)).toBe(expected);
  });
});
