import { UpstreamProtocolError, UpstreamStreamError } from '../../errors/upstream-errors';
import { upstreamErrorMessage } from '../../errors/upstream-error.factory';
import { ChatCompletionChunk, ChunkChoice, Usage } from '../../openai/chat-completion.types';
import { SseEvent } from '../../streaming/sse-event-parser';
import { mapOpenAiFinishReason } from './map-openai-finish-reason';

/**
 * Normalises one OpenAI-compatible SSE stream (OpenAI, OpenRouter, Groq, Together) into our chunk
 * contract: `model` = `provider/model` and one `id` on every chunk, the role on the first chunk,
 * exactly one finish chunk (OpenRouter repeats it), usage taken from wherever the vendor puts it
 * (a `choices: []` chunk, Groq's `x_groq.usage`, Together's finish chunk) and emitted once, last, as a
 * `choices: []` chunk. Error events (Groq `event: error`, OpenRouter's in-band `error`) throw.
 */
export class OpenAiChunkNormalizer {
  private id: string | undefined;
  private created = 0;
  private usage: Usage | undefined;
  private roleSent = false;
  private finished = false;
  private sawDone = false;
  private sawToolCalls = false;

  constructor(
    private readonly provider: string,
    private readonly label: string,
  ) {}

  event(event: SseEvent, out: ChatCompletionChunk[]): void {
    const data = event.data;
    if (event.event === 'error')
      throw new UpstreamStreamError(upstreamErrorMessage(data, 200), this.provider);
    if (data === '[DONE]') {
      this.sawDone = true;
      return;
    }
    let chunk: ChatCompletionChunk & { error?: unknown; x_groq?: { usage?: unknown } };
    try {
      chunk = JSON.parse(data);
    } catch {
      throw new UpstreamProtocolError(`${this.provider} sent an SSE event that is not JSON`, this.provider);
    }
    if (!chunk || typeof chunk !== 'object') {
      throw new UpstreamProtocolError(
        `${this.provider} sent an SSE event that is not an object`,
        this.provider,
      );
    }
    if (chunk.error !== undefined && chunk.error !== null) {
      throw new UpstreamStreamError(upstreamErrorMessage(data, 200), this.provider);
    }
    const usage = asUsage(chunk.usage) ?? asUsage(chunk.x_groq?.usage);
    if (usage) this.usage = usage;
    if (chunk.usage !== undefined) chunk.usage = undefined;

    const choices = chunk.choices;
    if (!Array.isArray(choices)) {
      throw new UpstreamProtocolError(`${this.provider} sent a chunk without choices`, this.provider);
    }
    if (this.id === undefined) {
      this.id = typeof chunk.id === 'string' ? chunk.id : 'chatcmpl-mana';
      this.created = typeof chunk.created === 'number' ? chunk.created : Math.floor(Date.now() / 1000);
    }
    if (choices.length === 0) return; // a usage-only chunk: re-emitted by end()
    chunk.id = this.id;
    chunk.model = this.label;
    if (this.finished) {
      // OpenRouter repeats the finish chunk, and its 2025 usage chunk has an empty choice: drop both.
      if (choices.every(isEmptyChoice)) return;
      for (const choice of choices) choice.finish_reason = null;
    } else {
      for (const choice of choices) this.finishChoice(choice);
    }
    if (!this.roleSent) {
      this.roleSent = true;
      const delta = choices[0]?.delta;
      if (delta && typeof delta === 'object') delta.role = 'assistant';
    }
    out.push(chunk);
  }

  /** The body ended: the usage chunk, or a throw when the stream was cut before it finished. */
  end(out: ChatCompletionChunk[]): void {
    if (!this.finished) {
      if (!this.sawDone || this.id === undefined) {
        throw new UpstreamProtocolError(`${this.provider} stream ended before it finished`, this.provider);
      }
      // `[DONE]` without a finish reason: close the turn ourselves so clients see exactly one finish.
      this.finished = true;
      out.push(
        this.bare([{ index: 0, delta: {}, finish_reason: this.sawToolCalls ? 'tool_calls' : 'stop' }]),
      );
    }
    if (this.usage) out.push({ ...this.bare([]), usage: this.usage });
  }

  private finishChoice(choice: ChunkChoice): void {
    const delta = choice.delta;
    if (delta && Array.isArray(delta.tool_calls) && delta.tool_calls.length > 0) this.sawToolCalls = true;
    const reason = choice.finish_reason as unknown;
    if (reason === null || reason === undefined) {
      choice.finish_reason = null;
      return;
    }
    if (reason === 'error')
      throw new UpstreamStreamError(`${this.provider} reported an error mid-stream`, this.provider);
    choice.finish_reason = mapOpenAiFinishReason(reason, this.sawToolCalls);
    this.finished = true;
  }

  private bare(choices: ChunkChoice[]): ChatCompletionChunk {
    return {
      id: this.id ?? 'chatcmpl-mana',
      object: 'chat.completion.chunk',
      created: this.created,
      model: this.label,
      choices,
    };
  }
}

function isEmptyChoice(choice: ChunkChoice): boolean {
  const d = choice.delta;
  if (!d) return true;
  return !d.content && !(d.tool_calls && d.tool_calls.length) && !d.reasoning_content && !d.reasoning;
}

function asUsage(value: unknown): Usage | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const u = value as Record<string, unknown>;
  if (typeof u.prompt_tokens !== 'number' || typeof u.completion_tokens !== 'number') return undefined;
  const total = typeof u.total_tokens === 'number' ? u.total_tokens : u.prompt_tokens + u.completion_tokens;
  return {
    ...u,
    prompt_tokens: u.prompt_tokens,
    completion_tokens: u.completion_tokens,
    total_tokens: total,
  };
}
