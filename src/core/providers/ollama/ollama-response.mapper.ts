import { randomUUID } from 'node:crypto';
import { UpstreamProtocolError, UpstreamStreamError } from '../../errors/upstream-errors';
import {
  ChatCompletion,
  ChatCompletionChunk,
  ChunkDelta,
  FinishReason,
  ToolCall,
  ToolCallDelta,
  Usage,
} from '../../openai/chat-completion.types';
import { OllamaChatResponse, OllamaToolCall } from './ollama.wire';

export function newCompletionId(): string {
  return 'chatcmpl-' + randomUUID().replace(/-/g, '');
}

export function newToolCallId(): string {
  return 'call_' + randomUUID().replace(/-/g, '').slice(0, 24);
}

/**
 * Ollama's `done_reason` → OpenAI `finish_reason`. Ollama says "stop" even when the turn ended in a
 * tool call, so tool calls win. "load"/"unload" (model lifecycle answers) count as "stop".
 */
export function mapOllamaFinishReason(doneReason: string | undefined, sawToolCalls: boolean): FinishReason {
  if (sawToolCalls) return 'tool_calls';
  switch (doneReason) {
    case 'length':
      return 'length';
    default:
      return 'stop';
  }
}

/** Usage from the final line; Go's `omitempty` drops zero counts, so missing means 0. */
export function mapOllamaUsage(line: OllamaChatResponse): Usage {
  const prompt = line.prompt_eval_count ?? 0;
  const completion = line.eval_count ?? 0;
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

function toToolCall(call: OllamaToolCall): ToolCall {
  return {
    id: call.id || newToolCallId(),
    type: 'function',
    function: { name: call.function.name, arguments: JSON.stringify(call.function.arguments ?? {}) },
  };
}

/** Parses one Ollama JSON document (a line or a body); an `{"error":...}` is an upstream error. */
export function parseOllamaDocument(text: string): OllamaChatResponse {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new UpstreamProtocolError('ollama sent a line that is not JSON', 'ollama');
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new UpstreamProtocolError('ollama sent JSON that is not an object', 'ollama');
  }
  const doc = parsed as OllamaChatResponse;
  if (typeof doc.error === 'string') throw new UpstreamStreamError(doc.error, 'ollama');
  return doc;
}

/** A non-stream `/api/chat` answer → `chat.completion`. */
export function toChatCompletion(doc: OllamaChatResponse, label: string): ChatCompletion {
  if (!doc.message || typeof doc.message !== 'object') {
    throw new UpstreamProtocolError('ollama answer has no message', 'ollama');
  }
  const calls = doc.message.tool_calls?.map(toToolCall);
  const message: ChatCompletion['choices'][number]['message'] = {
    role: 'assistant',
    content: doc.message.content ?? '',
  };
  if (calls && calls.length > 0) message.tool_calls = calls;
  if (doc.message.thinking) message.reasoning_content = doc.message.thinking;
  return {
    id: newCompletionId(),
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: label,
    choices: [
      { index: 0, message, finish_reason: mapOllamaFinishReason(doc.done_reason, (calls?.length ?? 0) > 0) },
    ],
    usage: mapOllamaUsage(doc),
  };
}

/**
 * Ollama NDJSON lines → OpenAI chunks, one instance per stream. The first chunk carries the role;
 * thinking goes to `reasoning_content`; whole tool calls become tool-call deltas with an `index`;
 * the `done` line becomes one finish chunk and one usage chunk (`choices: []`).
 */
export class OllamaStreamMapper {
  private readonly id = newCompletionId();
  private readonly created = Math.floor(Date.now() / 1000);
  private roleSent = false;
  private toolCalls = 0;
  private finished = false;

  constructor(private readonly label: string) {}

  get done(): boolean {
    return this.finished;
  }

  map(line: string, out: ChatCompletionChunk[]): void {
    if (this.finished) return;
    const doc = parseOllamaDocument(line);
    const message = doc.message;
    if (message) {
      const delta: ChunkDelta = {};
      let any = false;
      if (message.thinking) {
        delta.reasoning_content = message.thinking;
        any = true;
      }
      if (message.content) {
        delta.content = message.content;
        any = true;
      }
      if (message.tool_calls && message.tool_calls.length > 0) {
        delta.tool_calls = message.tool_calls.map((call): ToolCallDelta => {
          const full = toToolCall(call);
          return { index: this.toolCalls++, id: full.id, type: 'function', function: full.function };
        });
        any = true;
      }
      if (any) out.push(this.chunk(delta, null));
    }
    if (doc.done === true) {
      this.finished = true;
      out.push(this.chunk({}, mapOllamaFinishReason(doc.done_reason, this.toolCalls > 0)));
      out.push({
        id: this.id,
        object: 'chat.completion.chunk',
        created: this.created,
        model: this.label,
        choices: [],
        usage: mapOllamaUsage(doc),
      });
    }
  }

  private chunk(delta: ChunkDelta, finishReason: FinishReason | null): ChatCompletionChunk {
    if (!this.roleSent) {
      this.roleSent = true;
      delta = { role: 'assistant', ...delta };
    }
    return {
      id: this.id,
      object: 'chat.completion.chunk',
      created: this.created,
      model: this.label,
      choices: [{ index: 0, delta, finish_reason: finishReason }],
    };
  }
}
