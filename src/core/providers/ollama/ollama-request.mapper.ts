import { InvalidRequestError } from '../../errors/request-errors';
import { ChatCompletionRequest, ChatMessage, ContentPart } from '../../openai/chat-completion.types';
import { EmbeddingRequest } from '../../openai/embedding.types';
import { OllamaChatRequest, OllamaMessage, OllamaToolCall } from './ollama.wire';

export interface OllamaMappingDefaults {
  /** `OLLAMA_NUM_CTX`: Ollama silently truncates prompts beyond its context size. */
  numCtx?: number;
}

/**
 * OpenAI chat request → Ollama `/api/chat`, after Ollama's own OpenAI bridge
 * (ollama/ollama openai/openai.go). Mapped: messages (text, images, tool calls, tool results),
 * max_tokens/max_completion_tokens → num_predict, temperature, top_p, stop, seed, penalties,
 * response_format → format, tools, reasoning_effort → think, and the extensions `options`,
 * `keep_alive`, `think`. Rejected: n > 1. tool_choice: 'none' drops the tools, a named function
 * keeps only that tool ('auto'/'required' cannot be expressed: Ollama lets the model choose).
 * Ignored (Ollama has no equivalent): logprobs, user, parallel_tool_calls, stream_options (usage is
 * always returned).
 * Sampling values absent from the request stay absent so the Modelfile defaults apply.
 * Image parts must be `data:image/...;base64,` URLs by now (image-fetcher.ts inlines http(s) ones);
 * they go into the message's `images` as bare base64.
 */
export function toOllamaChatRequest(
  model: string,
  request: ChatCompletionRequest,
  stream: boolean,
  defaults: OllamaMappingDefaults,
): OllamaChatRequest {
  if (typeof request.n === 'number' && request.n > 1) {
    throw new InvalidRequestError('Ollama models return one choice: n must be 1', 'n');
  }
  const body: OllamaChatRequest = { model, messages: toOllamaMessages(request.messages), stream };

  const options: Record<string, unknown> = {};
  if (defaults.numCtx !== undefined) options.num_ctx = defaults.numCtx;
  const maxTokens = request.max_completion_tokens ?? request.max_tokens;
  if (maxTokens != null) options.num_predict = maxTokens;
  if (request.temperature != null) options.temperature = request.temperature;
  if (request.top_p != null) options.top_p = request.top_p;
  if (request.stop != null) options.stop = typeof request.stop === 'string' ? [request.stop] : request.stop;
  if (request.seed != null) options.seed = request.seed;
  if (request.presence_penalty != null) options.presence_penalty = request.presence_penalty;
  if (request.frequency_penalty != null) options.frequency_penalty = request.frequency_penalty;
  mergeExtensions(body, options, request);

  const format = request.response_format;
  if (format?.type === 'json_object') body.format = 'json';
  else if (format?.type === 'json_schema') body.format = format.json_schema.schema ?? 'json';

  const tools = toOllamaTools(request);
  if (tools) body.tools = tools;

  const think = request.think ?? toThink(request.reasoning_effort);
  if (think !== undefined) {
    if (typeof think !== 'boolean' && typeof think !== 'string') {
      throw new InvalidRequestError("'think' must be a boolean or a level string", 'think');
    }
    body.think = think;
  }
  return body;
}

/** `/api/embed` body: the whole batch in one call (https://github.com/ollama/ollama/blob/main/docs/api.md#generate-embeddings). */
export interface OllamaEmbedRequest {
  model: string;
  input: string | string[];
  dimensions?: number;
  options?: Record<string, unknown>;
  keep_alive?: string | number;
}

/** OpenAI embeddings request → Ollama `/api/embed`; `encoding_format` is the core's business. */
export function toOllamaEmbedRequest(
  model: string,
  request: EmbeddingRequest,
  defaults: OllamaMappingDefaults,
): OllamaEmbedRequest {
  const body: OllamaEmbedRequest = { model, input: request.input };
  if (request.dimensions != null) body.dimensions = request.dimensions;
  const options: Record<string, unknown> = {};
  if (defaults.numCtx !== undefined) options.num_ctx = defaults.numCtx;
  mergeExtensions(body, options, request);
  return body;
}

/**
 * The Ollama extension fields of a request: `options` merged over the mapped options (the caller
 * wins), `keep_alive` as given. Sets `body.options` only when there is any.
 */
function mergeExtensions(
  body: { options?: Record<string, unknown>; keep_alive?: string | number },
  options: Record<string, unknown>,
  request: Record<string, unknown>,
): void {
  const extra = request.options;
  if (extra !== undefined && extra !== null) {
    if (typeof extra !== 'object' || Array.isArray(extra)) {
      throw new InvalidRequestError("'options' must be an object of Ollama model options", 'options');
    }
    Object.assign(options, extra);
  }
  if (Object.keys(options).length > 0) body.options = options;
  const keepAlive = request.keep_alive;
  if (keepAlive !== undefined && keepAlive !== null) {
    if (typeof keepAlive !== 'string' && typeof keepAlive !== 'number') {
      throw new InvalidRequestError("'keep_alive' must be a duration string or seconds", 'keep_alive');
    }
    body.keep_alive = keepAlive;
  }
}

/** OpenAI tools go to Ollama in the same `{type:'function', function:{...}}` shape. */
function toOllamaTools(request: ChatCompletionRequest): unknown[] | undefined {
  const tools = request.tools;
  const choice = request.tool_choice;
  if (!tools || tools.length === 0 || choice === 'none') return undefined;
  if (choice && typeof choice === 'object') {
    const name = choice.function?.name;
    const chosen = tools.filter((tool) => tool.function?.name === name);
    if (chosen.length === 0) {
      throw new InvalidRequestError(`'tool_choice' names '${name}', which is not in 'tools'`, 'tool_choice');
    }
    return chosen;
  }
  return tools;
}

function toThink(effort: string | undefined): boolean | string | undefined {
  if (effort === undefined) return undefined;
  if (effort === 'none') return false;
  return effort; // 'low' | 'medium' | 'high': Ollama takes the level as is.
}

function toOllamaMessages(messages: ChatMessage[]): OllamaMessage[] {
  const toolNames = new Map<string, string>();
  const out: OllamaMessage[] = new Array(messages.length);
  for (let i = 0; i < messages.length; i++) {
    const message = messages[i];
    const role =
      message.role === 'developer' ? 'system' : message.role === 'function' ? 'tool' : message.role;
    const mapped: OllamaMessage = { role, content: '' };
    const content = message.content;
    if (typeof content === 'string') mapped.content = content;
    else if (Array.isArray(content)) addParts(mapped, content, i);
    // A previous turn's reasoning goes back as Ollama's `thinking` (as ollama's own bridge does).
    if (role === 'assistant' && typeof message.reasoning_content === 'string' && message.reasoning_content) {
      mapped.thinking = message.reasoning_content;
    }
    if (message.tool_calls && message.tool_calls.length > 0) {
      mapped.tool_calls = message.tool_calls.map((call, j): OllamaToolCall => {
        if (call.id) toolNames.set(call.id, call.function.name);
        return {
          function: { name: call.function.name, arguments: parseArguments(call.function.arguments, i, j) },
        };
      });
    }
    if (role === 'tool') {
      const name = (message.tool_call_id && toolNames.get(message.tool_call_id)) || message.name;
      if (name) mapped.tool_name = name;
    }
    out[i] = mapped;
  }
  return out;
}

function addParts(mapped: OllamaMessage, parts: ContentPart[], messageIndex: number): void {
  const texts: string[] = [];
  for (let j = 0; j < parts.length; j++) {
    const part = parts[j];
    if (part.type === 'text') texts.push((part as { text: string }).text);
    else if (part.type === 'image_url') {
      const url = (part as { image_url: { url: string } }).image_url.url;
      const base64 = bareBase64(url);
      if (base64 === undefined) {
        throw new InvalidRequestError(
          "Ollama takes images as 'data:image/...;base64,' URLs or http(s) URLs",
          `messages[${messageIndex}].content[${j}].image_url`,
        );
      }
      (mapped.images ??= []).push(base64);
    } else {
      throw new InvalidRequestError(
        `Content part type '${part.type}' is not supported by Ollama`,
        `messages[${messageIndex}].content[${j}].type`,
      );
    }
  }
  mapped.content = texts.join('\n');
}

/**
 * `data:image/png;base64,AAAA` → `AAAA`. A bare base64 payload passes as is (lenient: some clients
 * send one). Anything else (another media type, a non-base64 data URL, any other URL) is undefined.
 */
export function bareBase64(url: string): string | undefined {
  if (/^data:/i.test(url)) {
    const comma = url.indexOf(',');
    if (comma === -1) return undefined;
    const header = url.slice(5, comma).toLowerCase();
    if (!header.startsWith('image/') || !header.endsWith(';base64')) return undefined;
    return url.slice(comma + 1);
  }
  return BARE_BASE64.test(url) ? url : undefined;
}

const BARE_BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** An image URL the gateway downloads for Ollama (anything else is mapped, or refused, as is). */
export function isHttpImageUrl(url: string): boolean {
  return /^https?:\/\//i.test(url);
}

function parseArguments(args: string | undefined, i: number, j: number): Record<string, unknown> {
  if (args === undefined || args === '') return {};
  try {
    const parsed: unknown = JSON.parse(args);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed))
      return parsed as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new InvalidRequestError(
    'Tool call arguments must be a JSON object string',
    `messages[${i}].tool_calls[${j}].function.arguments`,
  );
}
