import { ChatCompletion, ChatCompletionChunk, ChunkDelta } from '../openai/chat-completion.types';

/**
 * A cached `chat.completion` as the chunks of a normal stream (SPEC §2 Streaming), per choice: a role
 * chunk (`{role:"assistant",content:""}`), the reasoning, the text and the whole tool calls as one
 * delta each (when present), one finish chunk; then, only when asked, the `choices: []` usage chunk.
 * Every chunk keeps the stored `id`, `created` and `model`.
 */
export function replayChunks(completion: ChatCompletion, includeUsage: boolean): ChatCompletionChunk[] {
  const out: ChatCompletionChunk[] = [];
  const chunk = (
    index: number,
    delta: ChunkDelta,
    finish: ChatCompletionChunk['choices'][number]['finish_reason'],
  ) =>
    out.push({
      id: completion.id,
      object: 'chat.completion.chunk',
      created: completion.created,
      model: completion.model,
      choices: [{ index, delta, finish_reason: finish }],
    });
  for (const choice of completion.choices) {
    const m = choice.message;
    chunk(choice.index, { role: 'assistant', content: '' }, null);
    if (typeof m.reasoning_content === 'string' && m.reasoning_content !== '')
      chunk(choice.index, { reasoning_content: m.reasoning_content }, null);
    if (typeof m.reasoning === 'string' && m.reasoning !== '')
      chunk(choice.index, { reasoning: m.reasoning }, null);
    if (typeof m.content === 'string' && m.content !== '') chunk(choice.index, { content: m.content }, null);
    if (typeof m.refusal === 'string' && m.refusal !== '') chunk(choice.index, { refusal: m.refusal }, null);
    if (m.tool_calls && m.tool_calls.length > 0) {
      chunk(
        choice.index,
        {
          tool_calls: m.tool_calls.map((call, index) => ({
            index,
            id: call.id,
            type: 'function' as const,
            function: { name: call.function.name, arguments: call.function.arguments },
          })),
        },
        null,
      );
    }
    chunk(choice.index, {}, choice.finish_reason ?? 'stop');
  }
  if (includeUsage && completion.usage) {
    out.push({
      id: completion.id,
      object: 'chat.completion.chunk',
      created: completion.created,
      model: completion.model,
      choices: [],
      usage: completion.usage,
    });
  }
  return out;
}
