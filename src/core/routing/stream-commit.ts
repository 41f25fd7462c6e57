import { ChatCompletionChunk } from '../openai/chat-completion.types';

/**
 * Whether a chunk commits a stream to its provider: real content (text or a refusal) or a tool-call
 * delta. A role-only or empty chunk, a reasoning delta, a finish or a usage chunk does not: they are
 * held back, so an upstream that fails after them (an Ollama `{"error"}` line, an SSE error event)
 * can still fall back without the caller seeing two providers' output.
 */
export function commitsStream(chunk: ChatCompletionChunk): boolean {
  const choices = chunk.choices;
  for (let i = 0; i < choices.length; i++) {
    const d = choices[i].delta;
    if (!d) continue;
    if (typeof d.content === 'string' && d.content.length > 0) return true;
    if (d.tool_calls && d.tool_calls.length > 0) return true;
    if (typeof d.refusal === 'string' && d.refusal.length > 0) return true;
    if (d.function_call) return true;
  }
  return false;
}
