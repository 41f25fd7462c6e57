import { FinishReason } from '../../openai/chat-completion.types';

/**
 * Upstream finish reasons → the OpenAI set. Unknown or missing values are mapped, never rejected.
 * - `eos`: Together 2024 (fixtures/together/chat_nonstream.response.json)
 * - missing key: Together JSON mode (fixtures/together/chat_nonstream_json_mode.response.json)
 * - `stop` with tool calls present: OpenRouter via DeepInfra (fixtures/README.md, OpenRouter)
 * - `error`: OpenRouter's documented mid-stream error; handled by the caller as an error, never here.
 */
export function mapOpenAiFinishReason(reason: unknown, hasToolCalls: boolean): FinishReason {
  if (
    hasToolCalls &&
    (reason === 'stop' || reason === 'tool_calls' || reason === undefined || reason === null)
  ) {
    return 'tool_calls';
  }
  switch (reason) {
    case 'length':
    case 'max_tokens':
      return 'length';
    case 'tool_calls':
      return 'tool_calls';
    case 'function_call':
      return 'function_call';
    case 'content_filter':
      return 'content_filter';
    default:
      // 'stop', 'eos', 'end_turn', 'stop_sequence', missing and anything new.
      return 'stop';
  }
}
