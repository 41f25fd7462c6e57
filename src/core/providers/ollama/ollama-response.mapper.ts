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
import { MAX_JSON_DEPTH, nestsDeeperThan } from '../../openai/request-checks';
import { setWireJson } from '../../openai/wire-json';
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
  const args: unknown = call.function.arguments;
  return {
    id: call.id || newToolCallId(),
    type: 'function',
    // Ollama sends an object; a string (some OpenAI-minded servers) is already what OpenAI wants.
    function: {
      name: call.function.name,
      arguments: typeof args === 'string' ? args : JSON.stringify(args ?? {}),
    },
  };
}

type OllamaMessageIn = NonNullable<OllamaChatResponse['message']>;

/**
 * The `message` of a line or answer, checked against the little we read (a mismatch is the
 * upstream's fault, a 502, never a TypeError): strings where we expect text, whole tool calls.
 */
function readMessage(doc: OllamaChatResponse): OllamaMessageIn | undefined {
  const message: unknown = doc.message;
  if (message === undefined || message === null) return undefined;
  const bad = (what: string) => new UpstreamProtocolError(`ollama sent a message with ${what}`, 'ollama');
  if (typeof message !== 'object' || Array.isArray(message)) throw bad('an unexpected shape');
  const m = message as OllamaMessageIn;
  if (m.content !== undefined && m.content !== null && typeof m.content !== 'string')
    throw bad('non-text content');
  if (m.thinking !== undefined && m.thinking !== null && typeof m.thinking !== 'string')
    throw bad('non-text thinking');
  if (m.tool_calls !== undefined && m.tool_calls !== null) {
    if (!Array.isArray(m.tool_calls)) throw bad('tool_calls that are not a list');
    for (const call of m.tool_calls as unknown[]) {
      const fn = (call as { function?: { name?: unknown } } | null)?.function;
      if (!fn || typeof fn !== 'object' || typeof fn.name !== 'string')
        throw bad('a tool call without a function name');
    }
  }
  return m;
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
  // Tool-call arguments are re-serialised for the client: a hostile depth would overflow JSON.stringify.
  if (nestsDeeperThan(parsed, MAX_JSON_DEPTH)) {
    throw new UpstreamProtocolError('ollama sent JSON nested too deeply', 'ollama');
  }
  const doc = parsed as OllamaChatResponse;
  if (typeof doc.error === 'string') throw new UpstreamStreamError(doc.error, 'ollama');
  return doc;
}

/** A non-stream `/api/chat` answer → `chat.completion`. */
export function toChatCompletion(doc: OllamaChatResponse, label: string): ChatCompletion {
  const answer = readMessage(doc);
  if (!answer) throw new UpstreamProtocolError('ollama answer has no message', 'ollama');
  const calls = answer.tool_calls?.map(toToolCall);
  const message: ChatCompletion['choices'][number]['message'] = {
    role: 'assistant',
    content: answer.content ?? '',
  };
  if (calls && calls.length > 0) message.tool_calls = calls;
  if (answer.thinking) message.reasoning_content = answer.thinking;
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
  /** The wire text of a delta chunk around its `delta` (id, created and label are the stream's). */
  private readonly wirePrefix: string;

  constructor(private readonly label: string) {
    this.wirePrefix =
      `{"id":${JSON.stringify(this.id)},"object":"chat.completion.chunk","created":${this.created},` +
      `"model":${JSON.stringify(label)},"choices":[{"index":0,"delta":`;
  }

  get done(): boolean {
    return this.finished;
  }

  map(line: string, out: ChatCompletionChunk[]): void {
    if (this.finished) return;
    const doc = parseOllamaDocument(line);
    const message = readMessage(doc);
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
    const chunk: ChatCompletionChunk = {
      id: this.id,
      object: 'chat.completion.chunk',
      created: this.created,
      model: this.label,
      choices: [{ index: 0, delta, finish_reason: finishReason }],
    };
    // The same text JSON.stringify would write, with only the delta serialised per chunk.
    if (finishReason === null) setWireJson(chunk, this.wirePrefix + JSON.stringify(delta) + WIRE_SUFFIX);
    return chunk;
  }
}

const WIRE_SUFFIX = ',"finish_reason":null}]}';
